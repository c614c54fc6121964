"""`vigie deliver`: drain the outbox between runs (a long-running companion of cron's `vigie run`)."""

from __future__ import annotations

import time

import click

from vigie.app.cli import COMMANDS, load_config_checked, make_console


@COMMANDS.decorator("deliver")
@click.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), required=True,
              help="Vigie configuration file (see vigie.example.yml).")
@click.option("--every", "every_s", type=click.FloatRange(min=1), default=None,
              help="Keep running: one delivery pass every SECONDS (default: one pass, then exit).")
@click.option("--passes", type=click.IntRange(min=1), default=None, help="With --every: stop after N passes.")
def deliver(config_path: str, every_s: float | None, passes: int | None) -> None:
    """Send what the outbox still owes: failed deliveries whose back-off is over, messages left by an
    interrupted run. `vigie run` already does one pass per run; this closes the gap between runs (a
    channel back after 30 s gets its crisis page then, not at the next cron run).

    It takes the same per-store lease as detection, so it never sends what a running `vigie run` sends.

    \b
    Example:
      vigie deliver --config vigie.yml               # one pass
      vigie deliver --config vigie.yml --every 30    # a pass every 30 s until interrupted
    """
    from vigie.pipeline.steps import Runtime, deliver_pending

    config = load_config_checked(config_path)
    console = make_console()
    rt = Runtime.from_config(config, console=console)
    done = 0
    try:
        while True:
            report = deliver_pending(rt)
            if report.skipped:
                console.print(f"[yellow]{report.skipped}[/yellow]")
            else:
                console.print(f"outbox: {report.delivery.summary()}")
                for line in report.delivery.gave_up:
                    console.print(f"  [red]{line}[/red]")
            done += 1
            if every_s is None or (passes is not None and done >= passes):
                break
            time.sleep(every_s)
    except KeyboardInterrupt:
        pass
    finally:
        rt.close()
