"""Settings: defaults, WIXHTTP_* environment variables, explicit arguments, bad values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests._sites import ClientFactory, site
from wixhttp import create_app
from wixhttp.settings import SettingsError

FORWARDED = {"X-Forwarded-For": "198.51.100.7"}


def settings_of(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], **kwargs: Any) -> Any:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = create_app(site("failures"), **kwargs)
    app.close()
    return app.settings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_of(monkeypatch, {})
    assert settings.max_body_size == 512 * 1024
    assert settings.timeout == 14.0
    assert settings.debug is False
    assert not settings.trusted_proxies
    assert not settings.cors  # CORS is off unless configured


# -- each variable, observed through HTTP ------------------------------------------------------


def test_max_body_size_from_the_environment(
    make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WIXHTTP_MAX_BODY_SIZE", "2048")
    monkeypatch.setenv("WIXHTTP_TEST_MARKER", str(tmp_path / "ran"))
    client = make_client("failures")
    assert client.post("/_functions/tracked", content=b"x" * 2048).status_code == 200
    assert client.post("/_functions/tracked", content=b"x" * 2049).status_code == 413


def test_timeout_from_the_environment(
    make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIXHTTP_TIMEOUT", "0.2")
    client = make_client("failures")
    assert client.get("/_functions/asleepy").status_code == 504
    assert client.get("/_functions/asleepy?s=0").status_code == 200


@pytest.mark.parametrize(("value", "shown"), [("1", True), ("0", False)])
def test_debug_from_the_environment(
    make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch, value: str, shown: bool
) -> None:
    monkeypatch.setenv("WIXHTTP_DEBUG", value)
    client = make_client("failures", debug=None)  # the TestClient's own default is debug on
    body = client.get("/_functions/boom").json()
    assert ("details" in body) is shown
    assert ("secret detail 42" in str(body)) is shown


@pytest.mark.parametrize("value", ["127.0.0.1", "10.0.0.0/8, 127.0.0.0/8", "*", " * "])
def test_trusted_proxies_from_the_environment(
    make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("WIXHTTP_TRUSTED_PROXIES", value)
    client = make_client("request_echo")
    assert client.get("/_functions/echo", headers=FORWARDED).json()["ip"] == "198.51.100.7"


@pytest.mark.parametrize("value", ["", ",,", "10.0.0.0/8"])
def test_forwarded_headers_are_ignored_unless_the_environment_trusts_the_peer(
    make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("WIXHTTP_TRUSTED_PROXIES", value)
    client = make_client("request_echo")
    assert client.get("/_functions/echo", headers=FORWARDED).json()["ip"] == "127.0.0.1"


# -- explicit arguments win --------------------------------------------------------------------


ENVIRONMENT = {
    "WIXHTTP_MAX_BODY_SIZE": "10",
    "WIXHTTP_TIMEOUT": "0.1",
    "WIXHTTP_DEBUG": "yes",
    "WIXHTTP_TRUSTED_PROXIES": "*",
}


def test_the_environment_wins_over_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_of(monkeypatch, ENVIRONMENT)
    assert (settings.max_body_size, settings.timeout, settings.debug) == (10, 0.1, True)
    assert settings.trusted_proxies.trusts("203.0.113.1")


def test_explicit_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_of(
        monkeypatch, ENVIRONMENT, max_body_size=4096, timeout=3, debug=False, trusted_proxies=[]
    )
    assert (settings.max_body_size, settings.timeout, settings.debug) == (4096, 3.0, False)
    assert not settings.trusted_proxies
    assert not settings.cors  # CORS is off unless configured
    assert not settings.trusted_proxies.trusts("203.0.113.1")


def test_explicit_arguments_win_over_the_environment_over_http(
    make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("WIXHTTP_TEST_MARKER", str(tmp_path / "ran"))
    client = make_client(
        "failures", max_body_size=100, timeout=2, debug=False, trusted_proxies="127.0.0.2"
    )
    assert client.post("/_functions/tracked", content=b"x" * 100).status_code == 200
    assert client.get("/_functions/sleepy?s=0.2").status_code == 200
    assert "details" not in client.get("/_functions/boom").json()
    echo = make_client("request_echo", trusted_proxies="127.0.0.2")
    assert echo.get("/_functions/echo", headers=FORWARDED).json()["ip"] == "127.0.0.1"


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "Yes", "on", " 1 "])
def test_true_spellings_of_wixhttp_debug(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    assert settings_of(monkeypatch, {"WIXHTTP_DEBUG": value}).debug is True


@pytest.mark.parametrize("value", ["0", "false", "False", "no", "OFF", ""])
def test_false_spellings_of_wixhttp_debug(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    assert settings_of(monkeypatch, {"WIXHTTP_DEBUG": value}).debug is False


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"WIXHTTP_MAX_BODY_SIZE": " 2048 "}, (2048, 14.0)),
        ({"WIXHTTP_MAX_BODY_SIZE": ""}, (512 * 1024, 14.0)),
        ({"WIXHTTP_TIMEOUT": "2.5"}, (512 * 1024, 2.5)),
        ({"WIXHTTP_TIMEOUT": "30"}, (512 * 1024, 30.0)),
        ({"WIXHTTP_TIMEOUT": "  "}, (512 * 1024, 14.0)),
    ],
)
def test_numbers_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: tuple[int, float]
) -> None:
    settings = settings_of(monkeypatch, env)
    assert (settings.max_body_size, settings.timeout) == expected


# -- bad values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("WIXHTTP_MAX_BODY_SIZE", "big", "WIXHTTP_MAX_BODY_SIZE='big' is not an integer"),
        ("WIXHTTP_MAX_BODY_SIZE", "1.5", "WIXHTTP_MAX_BODY_SIZE='1.5' is not an integer"),
        ("WIXHTTP_MAX_BODY_SIZE", "1e6", "WIXHTTP_MAX_BODY_SIZE='1e6' is not an integer"),
        ("WIXHTTP_MAX_BODY_SIZE", "0", "WIXHTTP_MAX_BODY_SIZE must be a finite number greater"),
        ("WIXHTTP_MAX_BODY_SIZE", "-5", "WIXHTTP_MAX_BODY_SIZE must be a finite number greater"),
        ("WIXHTTP_TIMEOUT", "soon", "WIXHTTP_TIMEOUT='soon' is not a number of seconds"),
        ("WIXHTTP_TIMEOUT", "14s", "WIXHTTP_TIMEOUT='14s' is not a number of seconds"),
        ("WIXHTTP_TIMEOUT", "0", "WIXHTTP_TIMEOUT must be a finite number greater than zero"),
        ("WIXHTTP_TIMEOUT", "-1", "WIXHTTP_TIMEOUT must be a finite number greater than zero"),
        ("WIXHTTP_TIMEOUT", "nan", "WIXHTTP_TIMEOUT must be a finite number greater than zero"),
        ("WIXHTTP_TIMEOUT", "inf", "WIXHTTP_TIMEOUT must be a finite number greater than zero"),
        ("WIXHTTP_DEBUG", "maybe", "WIXHTTP_DEBUG='maybe' is not a boolean; use 1/0, true/false"),
        ("WIXHTTP_DEBUG", "2", "WIXHTTP_DEBUG='2' is not a boolean"),
        ("WIXHTTP_TRUSTED_PROXIES", "proxy.local", "trusted proxy 'proxy.local' is not an IP"),
        ("WIXHTTP_TRUSTED_PROXIES", "10.0.0.0/8, 300.1.1.1", "trusted proxy '300.1.1.1'"),
        ("WIXHTTP_TRUSTED_PROXIES", "10.0.0.0/33", "trusted proxy '10.0.0.0/33'"),
    ],
)
def test_a_bad_environment_value_is_a_settings_error_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        create_app(site("failures"))
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_body_size": 0}, "max_body_size must be greater than zero"),
        ({"max_body_size": -1}, "max_body_size must be greater than zero"),
        ({"max_body_size": 1.5}, "max_body_size must be an int"),
        ({"max_body_size": "1024"}, "max_body_size must be an int"),
        ({"max_body_size": True}, "max_body_size must be an int"),
        ({"timeout": 0}, "timeout must be a finite number greater than zero"),
        ({"timeout": -0.5}, "timeout must be a finite number greater than zero"),
        ({"timeout": float("nan")}, "timeout must be a finite number greater than zero"),
        ({"timeout": float("inf")}, "timeout must be a finite number greater than zero"),
        ({"timeout": "5"}, "timeout must be a number of seconds"),
        ({"debug": "no"}, "debug must be True or False"),
        ({"debug": 1}, "debug must be True or False"),
        ({"trusted_proxies": ["not-an-ip"]}, "trusted proxy 'not-an-ip' is not an IP"),
    ],
)
def test_a_bad_argument_is_a_settings_error(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        create_app(site("failures"), **kwargs)


def test_an_explicit_argument_replaces_a_bad_environment_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = settings_of(
        monkeypatch,
        {"WIXHTTP_TIMEOUT": "soon", "WIXHTTP_DEBUG": "maybe", "WIXHTTP_MAX_BODY_SIZE": "x"},
        timeout=1,
        debug=True,
        max_body_size=10,
    )
    assert (settings.timeout, settings.debug, settings.max_body_size) == (1.0, True, 10)


def test_settings_error_is_a_value_error() -> None:
    assert issubclass(SettingsError, ValueError)


def test_the_test_client_reports_bad_settings_too(monkeypatch: pytest.MonkeyPatch) -> None:
    from wixhttp.testing import TestClient

    monkeypatch.setenv("WIXHTTP_MAX_BODY_SIZE", "lots")
    with pytest.raises(SettingsError, match="WIXHTTP_MAX_BODY_SIZE='lots'"):
        TestClient(site("failures"))
