"""`vigie trends`: hashtags, mentions, links, domains and accounts rising against the topic's baseline."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta, timezone

import click

from alerts.trends import DEFAULT_PRIOR, KINDS, trends as compute_trends
from vigie.app.cli import COMMANDS, RELATIVE, UNITS, parse_when
from vigie.core.config import ConfigError, load_config
from vigie.core.models import iso
from vigie.store import open_store


def _duration(value: str, option: str) -> timedelta:
    match = RELATIVE.match(value)
    if not match:
        raise click.BadParameter(f"expected a duration such as 90m, 24h or 7d, found {value!r}", param_hint=option)
    return timedelta(**{UNITS[match.group(2)]: int(match.group(1))})


@COMMANDS.decorator("trends")
@click.command("trends")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), required=True,
              help="Vigie configuration (topics, store).")
@click.option("--since", default="1h", show_default=True,
              help="Start of the window: ISO-8601 time or a duration back from --until.")
@click.option("--until", default=None, help="End of the window (exclusive): ISO-8601 time [default: now].")
@click.option("--baseline", default="7d", show_default=True,
              help="Length of the baseline, just before the window.")
@click.option("--topic", "topic_ids", multiple=True, help="Only this topic id (repeatable) [default: all].")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(KINDS), help="Only this kind (repeatable).")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(min=1), help="Entities per kind.")
@click.option("--min-count", default=2, show_default=True, type=click.IntRange(min=1),
              help="Posts in the window an entity needs to be listed.")
@click.option("--prior", default=DEFAULT_PRIOR, type=click.FloatRange(min=0, min_open=True),
              help="Strength of the Dirichlet prior in pseudo-counts (higher: rare entities need more evidence) "
                   "[default: the number of posts in window and baseline, i.e. the pooled counts as prior].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def trends(config_path: str, since: str, until: str | None, baseline: str, topic_ids: tuple[str, ...],
           kinds: tuple[str, ...], limit: int, min_count: int, prior: float | None, as_json: bool) -> None:
    """Entities ranked by rise over the topic's baseline (log-odds with an informative Dirichlet prior,
    Monroe et al. 2008), with their counts in the window and in the baseline. Reposts are not counted.

    \b
    Examples:
      vigie trends --config vigie.yml --since 1h
      vigie trends --config samples/demo/vigie.yml --until 2026-03-05T12:00Z --since 2h --kind hashtags
    """
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    known = [t.id for t in config.topics]
    unknown = [t for t in topic_ids if t not in known]
    if unknown:
        raise click.BadParameter(f"unknown topic(s) {', '.join(unknown)}; the configuration has {', '.join(known)}",
                                 param_hint="--topic")
    end = parse_when(until, relative_to=datetime.now(timezone.utc), option="--until") or datetime.now(timezone.utc)
    start = parse_when(since, relative_to=end, option="--since")
    if start is None or start >= end:
        raise click.BadParameter("the window is empty: --since must be before --until", param_hint="--since")
    base_start = start - _duration(baseline, "--baseline")
    store = open_store(config.store)
    try:
        result = {t: compute_trends(store, t, start, end, base_start, prior=prior, min_count=min_count, limit=limit)
                  for t in (topic_ids or known)}
    finally:
        store.close()
    shown = kinds or KINDS
    if as_json:
        click.echo(json.dumps({"window": [iso(start), iso(end)], "baseline": [iso(base_start), iso(start)],
                               "topics": {t: {k: [x.to_dict() for x in per[k]] for k in shown}
                                          for t, per in result.items()}}, ensure_ascii=False, indent=2))
        return
    console = Console(file=sys.stdout, highlight=False, soft_wrap=True)
    console.print(f"window {iso(start)} → {iso(end)}, baseline from {iso(base_start)}")
    for topic, per in result.items():
        for kind in shown:
            table = Table(title=f"{escape(topic)} — {kind} rising", title_justify="left")
            for col, justify in (("entity", "left"), ("window", "right"), ("baseline", "right"), ("z", "right")):
                table.add_column(col, justify=justify)
            for t in per[kind]:
                table.add_row(escape(t.key), str(t.window), str(t.baseline), f"{t.z:.1f}")
            if not per[kind]:
                table.add_row("(nothing rising)", "", "", "")
            console.print(table)
