"""The platform's three security rules, each tested at its one home (pure functions, no server):
which headers reach a function (:func:`calls.forward_headers`), how a key is read from a request
(:func:`auth.secret_from`), and who may run a function without a key
(:func:`auth.guest_may_execute`). The SDK suites check the same rules end to end."""

from __future__ import annotations

import pytest

from wixhttp.platform.auth import PresentedKey, guest_may_execute, secret_from
from wixhttp.platform.calls import forward_headers

KEY = "standard_" + "ab" * 32


def _forward(
    headers: list[tuple[bytes, bytes]],
    *,
    client_ip: str = "203.0.113.9",
    default_host: bytes | None = None,
    key_in_authorization: bool = False,
) -> dict[bytes, list[bytes]]:
    sent = forward_headers(
        headers,
        function_id="fn",
        execution_id="exec1",
        trigger="http",
        client_ip=client_ip,
        scheme="https",
        default_host=default_host,
        key_in_authorization=key_in_authorization,
    )
    by_name: dict[bytes, list[bytes]] = {}
    for name, value in sent:
        by_name.setdefault(name, []).append(value)
    return by_name


# -- what headers reach a function ---------------------------------------------------------------


def test_a_callers_forwarded_and_platform_headers_never_reach_the_function() -> None:
    sent = _forward(
        [
            (b"X-Forwarded-For", b"10.6.6.6"),
            (b"x-forwarded-proto", b"gopher"),
            (b"x-forwarded-prefix", b"/evil"),
            (b"x-wixhttp-capture", b"someone-elses-execution"),
            (b"x-appwrite-trigger", b"schedule"),
            (b"x-appwrite-user-id", b"admin"),
            (b"x-appwrite-client-ip", b"10.6.6.6"),
            (b"x-appwrite-key", KEY.encode()),
            (b"accept", b"application/json"),
        ]
    )
    assert sent[b"x-forwarded-for"] == [b"203.0.113.9"]
    assert sent[b"x-forwarded-proto"] == [b"https"]
    assert sent[b"x-forwarded-prefix"] == [b"/functions/fn"]
    assert sent[b"x-appwrite-trigger"] == [b"http"]
    assert sent[b"x-appwrite-user-id"] == [b""]
    assert sent[b"x-appwrite-client-ip"] == [b"203.0.113.9"]
    assert sent[b"x-appwrite-execution-id"] == [b"exec1"]
    assert b"x-appwrite-key" not in sent
    assert b"x-wixhttp-capture" not in sent
    assert sent[b"accept"] == [b"application/json"]


def test_hop_by_hop_and_framing_headers_are_not_forwarded() -> None:
    sent = _forward(
        [
            (b"connection", b"close"),
            (b"keep-alive", b"timeout=5"),
            (b"transfer-encoding", b"chunked"),
            (b"content-length", b"12"),
            (b"expect", b"100-continue"),
            (b"content-type", b"text/plain"),
        ]
    )
    for name in (b"connection", b"keep-alive", b"transfer-encoding", b"content-length", b"expect"):
        assert name not in sent
    assert sent[b"content-type"] == [b"text/plain"]


def test_authorization_is_dropped_only_when_it_carried_the_key() -> None:
    bearer = [(b"authorization", b"Bearer " + KEY.encode())]
    assert b"authorization" not in _forward(bearer, key_in_authorization=True)
    own = [(b"authorization", b"Basic dXNlcjpwYXNz")]
    assert _forward(own)[b"authorization"] == [b"Basic dXNlcjpwYXNz"]


def test_the_callers_host_is_kept_and_a_default_used_without_one() -> None:
    assert _forward([(b"host", b"api.example.com")])[b"host"] == [b"api.example.com"]
    assert _forward([], default_host=b"localhost")[b"host"] == [b"localhost"]
    assert b"host" not in _forward([])


def test_no_client_address_sends_no_forwarded_for() -> None:
    assert b"x-forwarded-for" not in _forward([], client_ip="")


# -- how a key is read from a request ------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "authorization", "expected"),
    [
        # /v1 (Appwrite): X-Appwrite-Key only; Authorization is not a key there.
        ({"x-appwrite-key": KEY}, "", PresentedKey(KEY)),
        ({"authorization": f"Bearer {KEY}"}, "", PresentedKey("")),
        # function URLs: X-Appwrite-Key first, else Authorization: Bearer.
        ({"x-appwrite-key": KEY, "authorization": "Bearer other"}, "bearer", PresentedKey(KEY)),
        ({"authorization": f"Bearer {KEY}"}, "bearer", PresentedKey(KEY, in_authorization=True)),
        ({"authorization": f"bearer   {KEY} "}, "bearer", PresentedKey(KEY, True)),
        ({"authorization": KEY}, "bearer", PresentedKey("")),
        ({"authorization": "Basic dXNlcjpwYXNz"}, "bearer", PresentedKey("")),
        # Wix's routes: Authorization with the bare key or Bearer, else X-Appwrite-Key.
        ({"authorization": KEY}, "wix", PresentedKey(KEY, in_authorization=True)),
        ({"authorization": f"Bearer {KEY}"}, "wix", PresentedKey(KEY, in_authorization=True)),
        ({}, "wix", PresentedKey("")),
    ],
)
def test_a_key_is_read_from_the_headers_each_route_family_accepts(
    headers: dict[str, str], authorization: str, expected: PresentedKey
) -> None:
    assert secret_from(headers, authorization=authorization) == expected


# -- who may execute a function without a key ----------------------------------------------------


@pytest.mark.parametrize(
    ("execute", "allowed"),
    [
        (["any"], True),
        (["guests"], True),
        (["users", "any"], True),
        ([], False),
        (["users"], False),
        (["user:alice"], False),
        (["team:admins", "label:ops"], False),
    ],
)
def test_guests_may_execute_only_functions_open_to_any_or_guests(
    execute: list[str], allowed: bool
) -> None:
    assert guest_may_execute(execute) is allowed
