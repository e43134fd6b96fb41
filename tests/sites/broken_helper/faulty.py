VALUE = 1
raise ValueError("faulty helper at import")
