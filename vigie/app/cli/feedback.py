"""`vigie feedback`: what people told Vigie about its alerts (vigie/core/actions.py records)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from vigie.app.cli import COMMANDS
from vigie.core.actions import records
from vigie.core.config import ConfigError, load_config
from vigie.core.models import iso
from vigie.store import open_store

_CONFIG = click.option("--config", "config_path", type=click.Path(dir_okay=False), default="vigie.yml",
                       show_default=True, envvar="VIGIE_CONFIG", help="Configuration (env VIGIE_CONFIG).")


def relabels(alerts: list) -> list[dict[str, str]]:
    """One {"text", "label"} per relabelled post (the latest label wins), in the order they were given."""
    latest: dict[str, dict[str, str]] = {}
    for alert in alerts:
        for rec in records(alert, "sentiment_wrong"):
            if rec.text and rec.label:
                latest.pop(rec.post_id, None)
                latest[rec.post_id] = {"text": rec.text, "label": rec.label, "_at": iso(rec.at)}
    return [{"text": r["text"], "label": r["label"]} for r in sorted(latest.values(), key=lambda r: r["_at"])]


@COMMANDS.decorator("feedback")
@click.group("feedback")
def feedback() -> None:
    """Feedback on alerts: verdicts (false alarm / real crisis) and post relabels."""


@feedback.command("export")
@_CONFIG
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="JSONL file: one {\"text\", \"label\"} object per line (label: negative|neutral|positive).")
def export(config_path: str, out_path: Path) -> None:
    """Write the posts people relabelled ("Sentiment wrong") as extra training data for `vigie nlp train`.

    \b
    Example:
      vigie feedback export --out out/relabels.jsonl --config vigie.yml
    """
    try:
        store = open_store(load_config(config_path).store)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        rows = relabels(store.alert_history())
    finally:
        store.close()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_suffix(out_path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(out_path)  # a half-written file never replaces a good one
    click.echo(f"{len(rows)} relabelled post(s) written to {out_path}")


@feedback.command("list")
@_CONFIG
def list_verdicts(config_path: str) -> None:
    """Every false-alarm / real-crisis mark, with the drivers as they were when the alert was judged."""
    try:
        store = open_store(load_config(config_path).store)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        found = 0
        for alert in store.alert_history():
            for rec in records(alert):
                if rec.verdict:
                    found += 1
                    judged = (rec.judged or {}).items()
                    drivers = ", ".join(f"{k} +{v:g}" for k, v in sorted(judged, key=lambda kv: -kv[1]) if v)
                    click.echo(f"{alert.id}  {alert.topic_id}  {rec.verdict:<11} by {rec.by} via {rec.via} "
                               f"at {iso(rec.at)}  drivers: {drivers or 'none'}")
        if not found:
            click.echo("no verdicts yet")
    finally:
        store.close()
