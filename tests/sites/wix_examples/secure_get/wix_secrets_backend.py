"""A stand-in for Velo's wix-secrets-backend: secrets from a dict instead of the Secrets Manager."""

_SECRETS = {"secretEmail": "My-Secret-Key"}


async def get_secret(name):
    return _SECRETS[name]
