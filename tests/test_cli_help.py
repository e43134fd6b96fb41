"""Every option of every command (the platform's too) explains itself in --help."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest

from tests._servers import run_cli
from wixhttp.cli import main


def options(command: click.Command, path: str) -> Iterator[tuple[str, click.Option]]:
    """Each option of ``command`` and of its subcommands, with the command line naming it."""
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, f"{path} {name}"
            yield from options(sub, f"{path} {name}")
    for param in command.params:
        if isinstance(param, click.Option):
            yield path, param


ALL = list(options(main, "wixhttp"))


def test_the_walk_reaches_the_platform_commands() -> None:
    paths = {path for path, _ in ALL}
    assert {"wixhttp dev", "wixhttp serve", "wixhttp keys create", "wixhttp publish"} <= paths


@pytest.mark.parametrize(
    ("path", "option"), ALL, ids=[f"{path} {option.name}" for path, option in ALL]
)
def test_every_option_has_help_naming_its_environment_variable(
    path: str, option: click.Option
) -> None:
    assert option.help and option.help.strip(), f"{path} {option.opts[0]} has no help text"
    envvars = [option.envvar] if isinstance(option.envvar, str) else list(option.envvar or ())
    for envvar in envvars:
        assert option.show_envvar or envvar in option.help, (
            f"{path} {option.opts[0]} reads {envvar} but its help does not say so"
        )


@pytest.mark.parametrize(
    ("command", "envvars"),
    [
        ("dev", ["WIXHTTP_TIMEOUT", "WIXHTTP_MAX_BODY_SIZE", "WIXHTTP_LOG_FORMAT"]),
        ("serve", ["WIXHTTP_TIMEOUT", "WIXHTTP_MAX_BODY_SIZE", "WIXHTTP_LOG_FORMAT"]),
        ("platform", ["WIXHTTP_PLATFORM_DATA", "WIXHTTP_DATABASE_URL"]),
    ],
)
def test_help_shows_the_settings_environment_variables(command: str, envvars: list[str]) -> None:
    result = run_cli(command, "--help")
    assert result.returncode == 0, result.stderr
    flat = " ".join(result.stdout.split())
    for envvar in envvars:
        assert envvar in flat
