"""`vigie report`: the self-contained HTML crisis report (optionally also a PDF through headless Chromium)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import click

from vigie.app.cli import COMMANDS, RELATIVE, parse_when
from vigie.core.config import ConfigError, load_config


def _load_truth(path: str | None) -> dict | None:
    if path is None:
        return None
    try:
        truth = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise click.BadParameter(f"{path}: cannot read the ground truth JSON: {exc}", param_hint="--truth") from None
    if not isinstance(truth, dict) or not isinstance(truth.get("events", []), list):
        raise click.BadParameter(f'{path}: expected {{"events": [...]}}', param_hint="--truth")
    return truth


@COMMANDS.decorator("report")
@click.command("report")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default="samples/demo/vigie.yml",
              show_default=True, help="Vigie configuration (topics, store).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="HTML file to write [default: report.path of the config, out/report.html].")
@click.option("--since", default=None, help="Start: ISO-8601 time or a duration back from --until (24h, 7d). "
              "Default: the first post or alert in the store.")
@click.option("--until", default=None, help="End (exclusive): ISO-8601 time or a duration back from now. "
              "Default: the last post or alert in the store.")
@click.option("--topic", "topic_ids", multiple=True, help="Only this topic id (repeatable). Default: all topics.")
@click.option("--truth", "truth_path", type=click.Path(dir_okay=False, exists=True), default=None,
              help="Scenario ground truth (truth.json): marks onset/peak and compares the alert timeline.")
@click.option("--title", default=None, help="Report title.")
@click.option("--no-risk-curve", is_flag=True,
              help="Do not recompute the risk curve with the detector (faster on a large Elasticsearch period).")
@click.option("--pdf", "pdf_path", type=click.Path(dir_okay=False), default=None,
              help="Also print the report to this PDF with headless Chromium (apt-get install chromium).")
def report(config_path: str, out_path: str | None, since: str | None, until: str | None, topic_ids: tuple[str, ...],
           truth_path: str | None, title: str | None, no_risk_curve: bool, pdf_path: str | None) -> None:
    """Write a self-contained HTML crisis report from the configured store.

    Summary, current risk per topic, volume by sentiment, risk index with thresholds and alert markers,
    alerts with their drivers and evidence, top negative posts, sources and languages, methodology. The
    file loads nothing from the network and reads well on a phone.

    \b
    Examples:
      vigie report --config samples/demo/vigie.yml --out out/report.html
      vigie report --config vigie.yml --since 7d --topic acme --pdf out/report.pdf
      vigie report --config samples/demo/vigie.yml --truth samples/demo/truth.json
    """
    from vigie.app.report import write_report
    from vigie.store import open_store

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    now = datetime.now(timezone.utc)
    end = parse_when(until, relative_to=now, option="--until")
    start = parse_when(since, relative_to=end or now, option="--since")
    if end is None and since is not None and RELATIVE.match(since):
        end = now  # "the last 7 days" means up to now, not up to the last stored post
    truth = _load_truth(truth_path)
    out = Path(out_path) if out_path else config.report.path
    store = open_store(config.store)
    try:
        written = write_report(store, config, out, start=start, end=end, topic_ids=list(topic_ids) or None,
                               truth=truth, title=title, risk_curve=not no_risk_curve)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    click.echo(f"Report written to {written}")
    if pdf_path:
        from vigie.app.browser import BrowserError, print_pdf

        try:
            click.echo(f"PDF written to {print_pdf(written, Path(pdf_path))}")
        except BrowserError as exc:
            raise click.ClickException(str(exc)) from None
