"""The `vigie` command line: one module per command (or command group) in this package.

Each module registers its command(s) in `COMMANDS` when it is imported; `vigie.app.cli.main` only assembles the
parser from the registry, so adding a command is one new module here (or a `vigie.commands` entry point) and no
command ever imports `main`. The helpers every command shares (loading a config with its secrets scrubbed from
the logs, the console, `--since`/`--until` parsing) live here for the same reason: no command imports another.
"""

from __future__ import annotations

import re
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

import click
from rich.console import Console

from vigie.core.config import ConfigError, load_config
from vigie.core.models import utc
from vigie.core.registry import Registry

COMMANDS: Registry[click.Command] = Registry("command", "vigie.app.cli", "vigie.commands")


def make_console(stream: TextIO | None = None) -> Console:
    return Console(file=stream or sys.stdout, highlight=False, soft_wrap=True)


class ConfigProblem(click.ClickException):
    """A configuration the command cannot run with; `vigie run` exits with EXIT_CONFIG."""


def load_config_checked(path: str | Path, exit_code: int = 1):
    """Load and validate the config, then register every secret it names with the log scrubber before
    anything (a client library, a notifier) can log."""
    from vigie.core.secrets import install_log_filter, register_config

    install_log_filter()
    try:
        config = load_config(path)
    except ConfigError as exc:
        problem = ConfigProblem(str(exc))
        problem.exit_code = exit_code
        raise problem from None
    register_config(config)
    return config


RELATIVE = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(value: str | None, *, relative_to: datetime, option: str) -> datetime | None:
    """An ISO-8601 time (UTC if no offset) or a duration back from `relative_to` (`90m`, `24h`, `7d`, `2w`)."""
    if value is None:
        return None
    match = RELATIVE.match(value)
    if match:
        return relative_to - timedelta(**{UNITS[match.group(2)]: int(match.group(1))})
    try:
        return utc(value)
    except ValueError:
        raise click.BadParameter(
            f"expected an ISO-8601 time (2026-03-03T14:00Z) or a duration such as 24h or 7d, found {value!r}",
            param_hint=option,
        ) from None
