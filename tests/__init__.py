"""wixhttp's test suite (a package, so helpers import as ``tests._servers`` and the like)."""
