"""The `vigie` command line: one coherent CLI over the pipeline steps."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import click
from rich.console import Console
from rich.markup import escape

from vigie.core.config import ConfigError, NlpConfig, load_config
from vigie.core.models import utc

DEFAULT_DEMO_CONFIG = Path("samples/demo/vigie.yml")


def _console(stream: TextIO | None = None) -> Console:
    return Console(file=stream or sys.stdout, highlight=False, soft_wrap=True)


class ConfigProblem(click.ClickException):
    """A configuration the command cannot run with; `vigie run` exits with EXIT_CONFIG."""


def _load(path: str | Path, exit_code: int = 1):
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


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
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
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


# -- demo ---------------------------------------------------------------------------------------

@cli.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=str(DEFAULT_DEMO_CONFIG),
              show_default=True, help="Demo configuration (topics, replay source, SQLite store, channels).")
@click.option("--truth", "truth_path", type=click.Path(dir_okay=False), default=None,
              help="Ground truth of the scenario [default: truth.json beside the replay file].")
@click.option("--resume", is_flag=True, help="Keep the demo store and continue from its cursors (default: start afresh).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), default="out/report.html", show_default=True)
@click.option("--force", is_flag=True,
              help="Use a store the demo did not create (deleting it), and send the simulated alerts to the "
                   "config's real channels (and to Slack if SLACK_WEBHOOK_URL is set).")
def demo(config_path: str, truth_path: str | None, resume: bool, report_path: str, force: bool) -> None:
    """Replay the bundled scenario in simulated time through the real pipeline.

    Posts flow replay -> NLP -> SQLite -> detection -> notifiers, 5 simulated minutes at a time. Alerts are
    printed as they fire; at the end the alert timeline is compared with the scenario's ground truth and
    an HTML report is written.

    The demo only uses a store it created (or an empty one) and prints its simulated alerts on the console
    only: with --force it takes any store and also pages the configured channels (and Slack, if
    SLACK_WEBHOOK_URL is set).

    \b
    Example:
      vigie demo
      vigie demo --resume      # a second run on the same store: adds no post and no alert
    """
    from vigie.sim.demo import (ForeignStore, check_store_is_ours, console_only, is_demo_store, load_truth,
                            mark_demo_store, with_slack_from_env)
    from vigie.pipeline.replay import simulate
    from vigie.pipeline.steps import Runtime
    from vigie.app.report import write_report

    config = _load(config_path)
    config = with_slack_from_env(config) if force else console_only(config)
    if not force:
        try:
            check_store_is_ours(config)
        except ForeignStore as exc:
            raise click.ClickException(str(exc)) from None
    console = _console()
    replay = next((s for s in config.sources.values() if s.type == "replay"), None)
    if replay is None:
        raise click.ClickException(f"{config_path}: the demo needs a `replay` source")
    truth_file = Path(truth_path) if truth_path else replay.path.parent / "truth.json"
    truth = load_truth(truth_file)
    if config.store.type == "sqlite" and not resume:
        for suffix in ("", "-wal", "-shm"):
            Path(str(config.store.path) + suffix).unlink(missing_ok=True)
    start, end = _replay_span(replay.path, truth)
    console.print(f"[bold]Vigie demo[/bold] — replaying {replay.path.name} from {start:%a %d %b %H:%M} to "
                  f"{end:%a %d %b %H:%M} UTC in simulated time, store {config.store.type}"
                  f"{' ' + str(config.store.path) if config.store.type == 'sqlite' else ''}")
    rt = Runtime.from_config(config, console=console)
    try:
        if not is_demo_store(rt.store):
            mark_demo_store(rt.store)
        days_seen: set[str] = set()

        def progress(t: datetime) -> None:
            day = t.strftime("%a %d %b")
            if day not in days_seen:
                days_seen.add(day)
                console.print(f"[dim]── {day} ── {rt.store.count_posts()} posts stored[/dim]")

        result = simulate(rt, start, end, progress=progress)
        alerts = rt.store.alert_history()
        console.print(
            f"\n[bold]Replay done[/bold] in {result.seconds:.1f} s: {result.ticks} buckets, "
            f"{result.posts_inserted} posts stored ({result.posts_updated} updated), "
            f"{result.quarantined} malformed records quarantined, {len(alerts)} alert(s) in the store."
        )
        if result.quarantined:
            for q in rt.store.quarantined()[:5]:
                console.print(f"  [yellow]quarantined[/yellow] {q.context.get('file', q.source)} "
                              f"line {q.context.get('line', '?')}: {q.reason}")
        if truth:
            _print_timeline(console, alerts, truth)
        out = write_report(rt.store, config, Path(report_path), truth=truth)
        console.print(f"\nReport: [bold]{out}[/bold]")
    finally:
        rt.close()


def _replay_span(path: Path, truth: dict[str, Any] | None) -> tuple[datetime, datetime]:
    if truth and truth.get("start") and truth.get("end"):
        return utc(truth["start"]), utc(truth["end"])
    first = last = None
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                t = utc(json.loads(line)["created_at"])
            except (ValueError, KeyError, TypeError):
                continue
            first = t if first is None else min(first, t)
            last = t if last is None else max(last, t)
    if first is None:
        raise click.ClickException(f"{path}: no valid post to replay")
    return first, last + timedelta(minutes=5)


def _print_timeline(console: Console, alerts: list, truth: dict[str, Any]) -> None:
    from vigie.sim.truth import compare_outages, compare_with_truth, format_lead

    def fmt(t: datetime | None) -> str:
        return t.strftime("%a %H:%M") if t else "—"

    outcomes, false_alerts = compare_with_truth(alerts, truth)
    console.print("\n[bold]Alert timeline vs ground truth[/bold] (UTC)")
    for o in outcomes:
        console.print(f"  [bold]{o.topic_id} · {o.kind}[/bold]: true onset {fmt(o.onset)}, true peak {fmt(o.peak)}; "
                      f"max level {o.max_level.value if o.max_level else 'none'}")
        for level in ("warning", "crisis"):
            at = getattr(o, f"first_{level}")
            if at is None:
                console.print(f"      first {level:<7}  —")
            else:
                console.print(f"      first {level:<7}  {fmt(at)}  ({format_lead(o.lead(at))})")
    console.print(f"  False alerts (warning or above, outside any true event): {len(false_alerts)}")
    outages, false_blind = compare_outages(alerts, truth)
    for g in outages:
        console.print(f"  [bold]{g.source} · collector outage[/bold]: true {fmt(g.start)} → {g.end:%H:%M}")
        if g.opened_at is None:
            console.print("      blind alert    —")
        else:
            after = int((g.opened_at - g.start).total_seconds() // 60)
            back = f", resolved {g.resolved_at:%H:%M} (the gap is shaded in the report)" if g.resolved_at else ""
            console.print(f"      blind alert    {fmt(g.opened_at)}  ({after} min after it went silent){back}")
    if outages or false_blind:
        console.print(f"  False blind alerts (outside any true outage): {len(false_blind)}")


# -- run ----------------------------------------------------------------------------------------

# `vigie run` exit codes (README "Exit codes"): cron and Airflow alert on anything but 0.
EXIT_OK = 0  # every source read, detection ran, every delivery made
EXIT_CONFIG = 1  # the configuration is invalid or a required secret is missing: nothing ran
EXIT_USAGE = 2  # bad command line (click's code), e.g. --now too far in the future: nothing ran
EXIT_PARTIAL = 3  # the cycle ran, but a source, a query or a channel failed (the rest went on)
EXIT_FAILED = 4  # nothing useful ran: not one source could be read, or detection failed
RUN_EXIT_CODES = {"ok": EXIT_OK, "partial": EXIT_PARTIAL, "failed": EXIT_FAILED}


@cli.command(epilog="""\b
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

    config = _load(config_path, exit_code=EXIT_CONFIG)
    clock = None
    if now:
        try:
            clock = check_now(utc(now), timedelta(minutes=config.clock.max_skew_minutes))
        except ValueError as exc:  # ClockError, or not an ISO-8601 time
            message = str(exc) if isinstance(exc, ClockError) else f"expected an ISO-8601 time such as 2026-03-02T12:00:00Z, found {now!r}"
            raise click.BadParameter(message, param_hint="--now") from None
    console = _console()
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


# -- score --------------------------------------------------------------------------------------

@cli.command()
@click.argument("input_file", type=click.File("r", encoding="utf-8", errors="surrogateescape"), default="-")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="Use this config's NLP settings and topics (adds matched topic ids).")
@click.option("--batch-size", type=int, default=512, show_default=True)
def score(input_file: TextIO, config_path: str | None, batch_size: int) -> None:
    """Score posts: JSONL (with a "text" field) or plain lines, from a file or stdin, to JSONL on stdout.

    Each output line has: lang, sentiment (label neg/neu/pos, score in [-1, 1]), crisis (risk in [0, 1],
    categories, terms), topics (when --config is given), and the input's "id" when it had one. A JSONL
    line that cannot be read is reported as {"line": N, "error": ...} and the rest goes on.

    \b
    Example:
      echo "Franchement le SAV est nul, remboursez-moi !" | vigie score
      vigie score posts.jsonl > scored.jsonl
    """
    from nlp.pipeline import Analyzer

    config = _load(config_path) if config_path else None
    analyzer = Analyzer(config.nlp if config else NlpConfig(), config.topics if config else [])
    out = sys.stdout
    errors = 0

    def flush(batch: list[tuple[int, Any, str]]) -> None:
        for (_, ident, _text), analysis in zip(batch, analyzer.analyze_texts([b[2] for b in batch])):
            record: dict[str, Any] = {} if ident is None else {"id": ident}
            record.update({
                "lang": analysis.lang,
                "sentiment": {"label": analysis.sentiment.label, "score": round(analysis.sentiment.score, 4),
                              "model": analysis.sentiment.model},
                "crisis": {"risk": round(analysis.crisis.risk, 4), "categories": analysis.crisis.categories,
                           "terms": analysis.crisis.terms},
            })
            if config:
                record["topics"] = analysis.topic_ids
            if analysis.entities:
                record["entities"] = analysis.entities  # brand aliases (+ spaCy entities when nlp.spacy_model)
            if analysis.notes:
                record["notes"] = analysis.notes  # why a field is und/neutral (empty text, cut, failure)
            out.write(json.dumps(record, ensure_ascii=False) + "\n")

    batch: list[tuple[int, Any, str]] = []
    for n, line in enumerate(input_file, start=1):
        line = line.rstrip("\n").encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        if not line.strip():
            continue
        ident, text = None, line
        if line.lstrip().startswith("{"):
            try:
                obj = json.loads(line)
                text, ident = obj["text"], obj.get("id")
                if not isinstance(text, str):
                    raise TypeError(f'"text" must be a string, found {type(text).__name__}')
            except (ValueError, KeyError, TypeError) as exc:
                errors += 1
                reason = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
                out.write(json.dumps({"line": n, "error": reason}) + "\n")
                continue
        batch.append((n, ident, text))
        if len(batch) >= batch_size:
            flush(batch)
            batch = []
    if batch:
        flush(batch)
    if errors:
        click.echo(f"{errors} line(s) could not be read (reported inline)", err=True)


def _register_subcommands() -> None:
    """Commands that live beside the code they drive (one module per concern)."""
    from vigie.app.cli.alerts import alerts as alerts_group
    from vigie.app.cli.backtest import backtest
    from vigie.app.cli.report import report
    from vigie.app.cli.samples import samples

    for command in (backtest, report, samples, alerts_group):
        cli.add_command(command)
    for module, attr in (("vigie.app.cli.nlp", "nlp"), ("vigie.app.cli.es", "es"), ("vigie.app.cli.kibana", "kibana"),
                         ("vigie.app.cli.notify", "notify"), ("vigie.app.cli.deliver", "deliver"),
                         ("vigie.app.cli.export", "export"), ("vigie.app.cli.trends", "trends"),
                         ("vigie.app.cli.status", "status"), ("vigie.app.cli.status", "metrics"),
                         ("vigie.app.cli.serve", "serve"), ("vigie.app.cli.feedback", "feedback")):
        cli.add_command(getattr(__import__(module, fromlist=[attr]), attr))


_register_subcommands()


def main() -> None:
    cli(prog_name="vigie")


if __name__ == "__main__":
    main()
