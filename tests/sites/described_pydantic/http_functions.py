"""A site described with pydantic models (used only where pydantic is installed)."""

from pydantic import BaseModel

from wixhttp import describe, ok


class Address(BaseModel):
    street: str
    city: str


class Person(BaseModel):
    """Someone with an address."""

    name: str
    age: int | None = None
    address: Address


@describe(body=Person, responses={200: list[Person]})
def post_people(request):
    return ok({"body": [request.body.json()]})
