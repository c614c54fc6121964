"""`vigie run`: one cycle of every configured source, detection and delivery, with exit codes for cron and Airflow."""

from __future__ import annotations

from datetime import timedelta

import click
from rich.markup import escape

from vigie.app.cli import COMMANDS, ConfigProblem, load_config_checked, make_console
from vigie.core.config import ConfigError
from vigie.core.models import utc

# `vigie run` exit codes (README "Exit codes"): cron and Airflow alert on anything but 0.
EXIT_OK = 0  # every source read, detection ran, every delivery made
EXIT_CONFIG = 1  # the configuration is invalid or a required secret is missing: nothing ran
EXIT_USAGE = 2  # bad command line (click's code), e.g. --now too far in the future: nothing ran
EXIT_PARTIAL = 3  # the cycle ran, but a source, a query or a channel failed (the rest went on)
EXIT_FAILED = 4  # nothing useful ran: not one source could be read, or detection failed
RUN_EXIT_CODES = {"ok": EXIT_OK, "partial": EXIT_PARTIAL, "failed": EXIT_FAILED}


@COMMANDS.decorator("run")
@click.command(epilog="""\b
Exit codes:
  0  all good: every source read, detection ran, every delivery made
  1  configuration error (invalid file, missing channel secret): nothing ran
  2  usage error (bad option, --now further ahead than clock.max_skew_minutes): nothing ran
  3  partial failure: a source, query or channel failed; the rest ran
  4  total failure: no source could be read, or detection failed""")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), required=True,
              help="Vigie configuration file (see vigie.example.yml).")
@click.option("--now", default=None,
              help="Clock for this cycle (ISO-8601, UTC) [default: now]. At most clock.max_skew_minutes ahead of "
                   "the real clock.")
def run(config_path: str, now: str | None) -> None:
    """One cycle: fetch every configured source since its cursor, score, store, detect and alert.

    Each source and each query fails alone (reported with its kind: auth, quota, rate_limit, network,
    parse, schema, store...); detection runs on what is stored whatever ingestion did.

    \b
    Example:
      vigie run --config vigie.yml
    """
    from vigie.core.clock import ClockError, check_now
    from vigie.pipeline.steps import Runtime, run_cycle

    config = load_config_checked(config_path, exit_code=EXIT_CONFIG)
    clock = None
    if now:
        try:
            clock = check_now(utc(now), timedelta(minutes=config.clock.max_skew_minutes))
        except ValueError as exc:  # ClockError, or not an ISO-8601 time
            message = str(exc) if isinstance(exc, ClockError) else f"expected an ISO-8601 time such as 2026-03-02T12:00:00Z, found {now!r}"
            raise click.BadParameter(message, param_hint="--now") from None
    console = make_console()
    try:
        rt = Runtime.from_config(config, console=console)
    except ConfigError as exc:
        problem = ConfigProblem(f"{config_path}: {exc}")
        problem.exit_code = EXIT_CONFIG
        raise problem from None
    except Exception as exc:  # the store cannot be opened (Elasticsearch unreachable...)
        console.print(f"[red]cannot start: {type(exc).__name__}: {escape(str(exc))}[/red]")
        raise SystemExit(EXIT_FAILED) from None
    try:
        report = run_cycle(rt, clock)
    finally:
        rt.close()
    for s in report.sources:
        status = "[green]ok[/green]" if s.ok else "[red]failed[/red]"
        future = f" ({s.future} dated in the future)" if s.future else ""
        console.print(f"{s.source}: {status} {s.fetched} fetched, {s.inserted} new, {s.updated} updated, "
                      f"{s.quarantined} quarantined{future}")
        for err in s.errors:
            console.print(f"  [red]{escape(err)}[/red]")  # "[parse] ...": not rich markup
    if report.detection_error:
        console.print(f"[red]detection failed: {escape(report.detection_error)}[/red]")
    else:
        console.print(f"{len(report.events)} alert event(s)")
    if report.detection is not None:  # the detect-and-deliver step (README "Delivery guarantees")
        if report.detection.skipped:
            console.print(f"[yellow]{escape(report.detection.skipped)}[/yellow]")
        console.print(f"outbox: {report.detection.delivery.summary()}")
        for line in report.detection.delivery.gave_up:
            console.print(f"  [red]{escape(line)}[/red]")
    for alert_id, channel, error in report.delivery_failures:
        console.print(f"  [red]delivery of alert {alert_id} to {escape(channel)} failed: {escape(error)}[/red]")
    outcome = report.outcome
    if outcome != "ok":
        console.print(f"[bold]{'partial failure' if outcome == 'partial' else 'failed'}[/bold] "
                      f"(exit code {RUN_EXIT_CODES[outcome]})")
    raise SystemExit(RUN_EXIT_CODES[outcome])
