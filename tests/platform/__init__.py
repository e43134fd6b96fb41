"""The platform's tests: most against a real ``python -m wixhttp.platform`` process."""
