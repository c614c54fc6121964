"""`vigie backtest`: score a count series, or replay posts through detection and compare with the truth."""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import click

from vigie.app.cli import COMMANDS
from vigie.sim.backtest import (
    BacktestResult,
    SeriesFormatError,
    backtest_posts,
    read_series_csv,
    score_series,
    write_scores_csv,
)
from vigie.core.config import ConfigError, load_config
from vigie.core.models import iso

FAR_FUTURE = datetime(9999, 1, 1, tzinfo=timezone.utc)


@COMMANDS.decorator("backtest")
@click.command("backtest")
@click.option("--series", "series_path", type=click.Path(dir_okay=False), default=None,
              help="CSV of `timestamp,value` rows (header optional); '-' reads stdin.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Where to write `timestamp,value,anomaly_score` [default: stdout].")
@click.option("--posts", "posts_path", type=click.Path(dir_okay=False, exists=True), default=None,
              help="JSONL posts (replay schema) to run through NLP, the store and the detector.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="Configuration (topics, thresholds, detection settings); required with --posts.")
@click.option("--truth", "truth_path", type=click.Path(dir_okay=False), default=None,
              help="Ground truth JSON [default: truth.json beside the posts file, if present].")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), default=None,
              help="SQLite file to fill (kept afterwards) [default: a temporary file].")
@click.option("--json", "as_json", is_flag=True, help="With --posts: print the metrics as JSON.")
@click.option("--marks-from", "marks_db", type=click.Path(dir_okay=False, exists=True), default=None,
              help="With --posts: replay the false-alarm / real-crisis marks stored in this SQLite store "
                   "(each mark counts from the time it was given).")
@click.option("--analyst", "simulate_analyst", is_flag=True,
              help="With --posts and a ground truth: a simulated analyst marks every warning+ alert 30 min "
                   "after it reaches warning (false alarm outside a true event, real crisis during one).")
def backtest(series_path, out_path, posts_path, config_path, truth_path, db_path, as_json, marks_db,
             simulate_analyst) -> None:
    """Evaluate detection offline, strictly causally (a score at t only uses data up to t).

    \b
    A count series (any `timestamp,value` CSV, e.g. a public labelled benchmark):
      vigie backtest --series counts.csv --out scored.csv
      -> timestamp,value,anomaly_score   (score in [0,1])
    \b
    A replay of posts through the real detector and alert policy, against the ground truth:
      vigie backtest --posts samples/demo/posts.jsonl --config samples/demo/vigie.yml
      -> the alerts, lead time of the first warning/crisis before each true peak, false alerts
    \b
    With feedback (alerts/feedback.py), applied causally:
      vigie backtest --posts ... --config ... --analyst          (simulated analyst, from the truth)
      vigie backtest --posts ... --config ... --marks-from vigie.db   (the marks people gave)
    """
    if bool(series_path) == bool(posts_path):
        raise click.UsageError("give exactly one of --series FILE.csv or --posts FILE.jsonl")
    if series_path:
        _series(series_path, out_path)
    else:
        if not config_path:
            raise click.UsageError("--posts needs --config FILE (topics and detection settings)")
        _posts(Path(posts_path), config_path, truth_path, db_path, as_json, marks_db, simulate_analyst)


def _stored_verdicts(db: str) -> list:
    """Every false-alarm / real-crisis mark kept in a SQLite store's alert history."""
    from vigie.core.actions import records
    from alerts.feedback import verdicts_from_records
    from vigie.store import open_file_store

    store = open_file_store(Path(db))
    try:
        return [v for a in store.alert_history() for v in verdicts_from_records(a.topic_id, records(a))]
    finally:
        store.close()


def _series(series_path: str, out_path: str | None) -> None:
    try:
        times, values = read_series_csv(sys.stdin if series_path == "-" else series_path)
    except SeriesFormatError as exc:
        raise click.ClickException(str(exc)) from None
    scores = score_series(times, values)
    if out_path:
        write_scores_csv(out_path, times, values, scores)
        click.echo(f"{len(scores)} points scored -> {out_path}", err=True)
    else:
        write_scores_csv(sys.stdout, times, values, scores)


def _posts(posts_path: Path, config_path: str, truth_path: str | None, db_path: str | None, as_json: bool,
           marks_db: str | None = None, simulate_analyst: bool = False) -> None:
    from listeners.replay import ReplayListener
    from vigie.store import open_file_store

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    truth_file = Path(truth_path) if truth_path else posts_path.parent / "truth.json"
    truth = None
    if truth_file.exists():
        try:
            truth = json.loads(truth_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise click.ClickException(f"{truth_file}: cannot read ground truth: {exc}") from None
    elif truth_path:
        raise click.ClickException(f"{truth_file}: file not found")
    if simulate_analyst and truth is None:
        raise click.UsageError("--analyst needs a ground truth (--truth FILE or truth.json beside the posts)")
    verdicts = _stored_verdicts(marks_db) if marks_db else None
    analyst = None
    if simulate_analyst:
        from vigie.sim.evaluation import truth_analyst

        analyst = truth_analyst(truth)
    with tempfile.TemporaryDirectory(prefix="vigie-backtest-") as tmp:
        store = open_file_store(Path(db_path) if db_path else Path(tmp) / "backtest.db")
        try:
            first, last, stored, rejected = _load_posts(ReplayListener(posts_path), config, store)
            if first is None:
                raise click.ClickException(f"{posts_path}: no readable post")
            result = backtest_posts(config, store, first, last, truth=truth, verdicts=verdicts, analyst=analyst,
                                    stories=as_json)
        finally:
            store.close()
    if as_json:
        click.echo(json.dumps(_as_dict(result, stored, rejected), indent=2, default=str))
    else:
        _print(result, stored, rejected)


def _load_posts(listener, config, store):
    """All posts of the file, analysed and stored; malformed lines are quarantined (and counted)."""
    from nlp.pipeline import Analyzer  # imported here: series scoring must not need the NLP stack

    analyzer = Analyzer(config.nlp, config.topics)
    first = last = None
    stored = rejected = 0
    query = listener.plan(config.topics)[0]
    for page in listener.fetch(query, None, FAR_FUTURE):
        for post, analysis in zip(page.posts, analyzer.analyze(page.posts)):
            post.analysis = analysis
            first = post.created_at if first is None or post.created_at < first else first
            last = post.created_at if last is None or post.created_at > last else last
        stored += store.upsert_posts(page.posts).inserted
        for r in page.rejected:
            store.quarantine(listener.name, r.record, r.reason, r.context)
            rejected += 1
    return first, last, stored, rejected


def _as_dict(result: BacktestResult, stored: int, rejected: int) -> dict:
    return {
        "posts": stored,
        "quarantined": rejected,
        "start": iso(result.start),
        "end": iso(result.end),
        "alerts": [
            {"id": a.id, "topic_id": a.topic_id, "opened_at": iso(a.opened_at),
             "peak_level": (a.peak_level or a.level).value, "peak_risk": a.peak_risk, "state": a.state.value,
             "history": [h.to_dict() for h in a.history],
             # What the alert is about, as told at its last open / escalation / peak (alerts/story.py).
             "story": a.story.to_dict() if a.story else None,
             "evidence": [e.to_dict() for e in a.evidence]}
            for a in result.alerts
        ],
        "max_risk": result.max_risk,
        "metrics": result.metrics,
    }


def _print(result: BacktestResult, stored: int, rejected: int) -> None:
    from vigie.sim.truth import format_lead

    click.echo(f"{stored} posts ({rejected} malformed lines quarantined), {iso(result.start)} -> {iso(result.end)}; "
               f"{result.assessments} assessments in {result.seconds:.1f} s")
    click.echo(f"{len(result.alerts)} alert(s):")
    for a in result.alerts:
        click.echo(f"  {iso(a.opened_at)}  {a.topic_id:<12} peak {(a.peak_level or a.level).value:<7} "
                   f"risk {a.peak_risk:5.1f}  {a.state.value}")
    if not result.outcomes and not result.metrics:
        click.echo("no ground truth: lead times and false alerts not computed (give --truth FILE)")
        return
    for o in result.outcomes:
        click.echo(f"  event {o.kind} on {o.topic_id}: onset {iso(o.onset)}, peak {iso(o.peak)}; "
                   f"warning {format_lead(o.lead(o.first_warning))}, crisis {format_lead(o.lead(o.first_crisis))}, "
                   f"max level {o.max_level.value if o.max_level else 'none'}")
    m = result.metrics
    click.echo(f"false alerts (warning or above, outside any event): {m['false_alerts']} "
               f"({m['false_crisis']} at crisis) over {m['topic_weeks']} topic-weeks; "
               f"alerts at warning or above on positive events: {m['positive_warning_or_more']}")
