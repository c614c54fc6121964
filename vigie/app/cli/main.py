"""The `vigie` command line, assembled from the command registry.

Every command lives in its own module of `vigie.app.cli` and registers itself in `vigie.app.cli.COMMANDS`; this
module only holds the top-level group (its options and logging set-up) and reads the registry when the parser is
used, so a command registered later (a plugin's entry point, a test) is found like a built-in one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import click

from vigie.app.cli import COMMANDS


class RegisteredCommands(click.Group):
    """A click group whose subcommands are the registry's (listed in name order, as click lists its own)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS.names())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return COMMANDS.get(cmd_name) if cmd_name in COMMANDS else None


@click.group(cls=RegisteredCommands, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """Vigie: social listening and bad-buzz early warning.

    \b
    Quick start (embedded default, nothing to configure):
      vigie demo                      # replay the bundled scenario, print alerts, write out/report.html
      vigie run --config vigie.yml    # one cycle of every configured source, detection and alerts
      echo "Service client nul, remboursez-moi !" | vigie score
    """
    from vigie.core.secrets import install_log_filter

    install_log_filter()  # before any log line: every configured secret is masked in every record
    from vigie.sim.demo import ensure_bundled_demo

    ensure_bundled_demo()  # a fresh checkout: the demo's posts are generated, not committed (a stat otherwise)
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def main(argv: Sequence[str] | None = None) -> None:
    """The console script (`vigie ...`); `argv` defaults to the process's arguments."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="vigie")


if __name__ == "__main__":
    main()
