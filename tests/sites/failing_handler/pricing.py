"""A helper module: its line is the innermost of the user's frames."""


def total(prices):
    result = 0
    for price in prices:
        result = result + price
    return result
