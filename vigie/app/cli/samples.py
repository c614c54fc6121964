"""`vigie samples ...`: generate synthetic scenarios (the bundled demo data is made by this command)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from vigie.app.cli import COMMANDS
from vigie.core.models import iso, utc


@COMMANDS.decorator("samples")
@click.group("samples")
def samples() -> None:
    """Synthetic demo data: posts about a fictional brand, with ground truth.

    \b
    Example:
      vigie samples generate --seed 7 --out samples/demo     # regenerates the bundled demo exactly
    """


@samples.command("generate")
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed: the same seed gives the same bytes.")
@click.option("--out", "out", type=click.Path(file_okay=False), required=True, help="Folder to write into.")
@click.option("--days", type=click.IntRange(1, 60), default=7, show_default=True, help="Length of the scenario.")
@click.option("--start", type=str, default=None,
              help="Start time, ISO-8601 UTC [default: 2026-03-02T00:00:00Z, a Monday].")
@click.option("--shape", "shapes", multiple=True,
              help="Event shape(s) instead of the demo's bad buzz + positive viral moment "
                   "(bad_buzz, positive_viral, slow_burn, flash_viral, bot_raid, night_event, weekend_event, "
                   "media_spike, seasonal_noise, low_volume). Repeat for several.")
@click.option("--background", type=click.Choice(["realistic", "poisson"]), default="realistic", show_default=True,
              help="Ordinary chatter: realistic (overdispersed, bursty, with organic non-crisis spikes recorded "
                   "in truth.json under `organic`) or poisson (the calm chatter of earlier versions, for unit tests).")
@click.option("--malformed", type=click.IntRange(0, 2), default=2, show_default=True,
              help="Deliberately malformed lines to insert (bad JSON, missing text) so a replay shows quarantine.")
@click.option("--outage", "outages", multiple=True, metavar="PLATFORM:AFTER:MINUTES",
              help="A collector outage: PLATFORM's collector down for MINUTES, AFTER minutes after the first bad "
                   "event's onset (e.g. x:150:45). Repeatable. Default: the demo's (x:150:45) with the demo's "
                   "story, none with --shape.")
@click.option("--no-outage", is_flag=True, help="No collector outage, even in the demo's story.")
@click.option("--no-reposts", is_flag=True,
              help="No reposts (retweets, Bluesky reposts, Mastodon boosts of the posts: amplification, never "
                   "counted as posts). The other posts are the same bytes either way.")
@click.option("--force-config", is_flag=True, help="Overwrite an existing vigie.yml in the output folder.")
def generate_cmd(seed: int, out: str, days: int, start: str | None, shapes: tuple[str, ...], background: str,
                 malformed: int, outages: tuple[str, ...], no_outage: bool, no_reposts: bool, force_config: bool) -> None:
    """Write posts.jsonl, truth.json and (if absent) a vigie.yml that replays them.

    The posts follow the replay JSONL schema (samples/README.md): French (~70 %) and English posts about
    the fictional brand Brivolle and its competitor Cuivrelle, with a daily and weekly rhythm, ordinary
    chatter and the chosen events; truth.json gives each event's onset, peak and end.

    \b
    Example:
      vigie samples generate --seed 7 --out samples/demo
      vigie samples generate --seed 42 --out out/raid --shape bot_raid --malformed 0
      vigie samples generate --seed 1 --out out/calm --background poisson
      vigie demo --config out/raid/vigie.yml
    """
    from vigie.sim.scenario import DEFAULT_START, OutageSpec, config_yaml, generate, write

    try:
        specs = () if no_outage else (tuple(OutageSpec.parse(o) for o in outages) if outages else None)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--outage") from None

    try:
        begin: datetime = utc(start) if start else DEFAULT_START
    except ValueError:
        raise click.BadParameter(f"expected an ISO-8601 time such as 2026-03-02T00:00:00Z, found {start!r}",
                                 param_hint="--start") from None
    try:
        scenario = generate(seed, start=begin, days=days, shapes=shapes or None, background=background,
                            outages=specs, reposts=not no_reposts)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--shape") from None
    posts_path, truth_path = write(scenario, out, malformed=malformed)
    config_path = Path(out) / "vigie.yml"
    wrote_config = force_config or not config_path.exists()
    if wrote_config:
        config_path.write_text(config_yaml(scenario), encoding="utf-8")
    size = posts_path.stat().st_size
    click.echo(f"{len(scenario.posts)} posts ({size / 1e6:.2f} MB, {malformed} malformed line(s)) -> {posts_path}")
    for ev in scenario.truth["events"]:
        click.echo(f"  {ev['kind']:<15} {ev['shape']:<15} onset {ev['onset']}  peak {ev['peak']}  end {ev['end']}")
    if not scenario.truth["events"]:
        click.echo("  no event (ordinary chatter only)")
    for ev in scenario.truth.get("organic", []):
        click.echo(f"  organic ({ev['max_level']} at most) {ev['shape']:<10} {ev['topic_id']:<10} onset {ev['onset']}  "
                   f"peak {ev['peak']}")
    for o in scenario.truth.get("outages", []):
        click.echo(f"  outage {o['source']:<8} {o['error']:<8} {o['start']} -> {o['end']}")
    click.echo(f"ground truth -> {truth_path}")
    click.echo(f"config -> {config_path}" + ("" if wrote_config else " (kept; --force-config to overwrite)"))
    click.echo(f"replay it: vigie demo --config {config_path}   (span {iso(begin)} + {days} days)")
