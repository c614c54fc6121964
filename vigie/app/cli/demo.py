"""`vigie demo`: replay the bundled scenario in simulated time through the real pipeline, then compare the alerts
with its ground truth and write the HTML report."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from vigie.app.cli import COMMANDS, load_config_checked, make_console
from vigie.core.models import utc

DEFAULT_DEMO_CONFIG = Path("samples/demo/vigie.yml")


@COMMANDS.decorator("demo")
@click.command()
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
    from vigie.store import store_backend

    config = load_config_checked(config_path)
    config = with_slack_from_env(config) if force else console_only(config)
    if not force:
        try:
            check_store_is_ours(config)
        except ForeignStore as exc:
            raise click.ClickException(str(exc)) from None
    console = make_console()
    replay = next((s for s in config.sources.values() if s.type == "replay"), None)
    if replay is None:
        raise click.ClickException(f"{config_path}: the demo needs a `replay` source")
    truth_file = Path(truth_path) if truth_path else replay.path.parent / "truth.json"
    truth = load_truth(truth_file)
    backend = store_backend(config.store)
    if not resume:  # an embedded store starts over from nothing; a server's is filled (check_store_is_ours)
        for file in backend.files(config.store):
            file.unlink(missing_ok=True)
    start, end = _replay_span(replay.path, truth)
    console.print(f"[bold]Vigie demo[/bold] — replaying {replay.path.name} from {start:%a %d %b %H:%M} to "
                  f"{end:%a %d %b %H:%M} UTC in simulated time, store {config.store.type}"
                  f"{' ' + backend.location(config.store) if backend.embedded else ''}")
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
