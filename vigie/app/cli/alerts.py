"""`vigie alerts`: look at alerts and at the stored risk curves, and acknowledge alerts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import click

from vigie.app.cli import COMMANDS
from vigie.core.config import ConfigError, load_config
from vigie.core.models import iso, risk_peaks, utc
from vigie.store import open_store

_CONFIG = click.option(
    "--config", "config_path", type=click.Path(dir_okay=False), default="vigie.yml", show_default=True,
    envvar="VIGIE_CONFIG", help="Configuration whose store holds the alerts (env VIGIE_CONFIG).",
)


def _config(config_path: str):
    try:
        return load_config(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _store(config_path: str):
    return open_store(_config(config_path).store)


@COMMANDS.decorator("alerts")
@click.group("alerts")
def alerts() -> None:
    """List, show and acknowledge alerts; show each topic's risk.

    \b
    Examples:
      vigie alerts list --config samples/demo/vigie.yml
      vigie alerts show 3f2a9c1b7d0e --config samples/demo/vigie.yml
      vigie alerts ack 3f2a9c1b7d0e --by alice --config samples/demo/vigie.yml
      vigie alerts risk --until 2026-03-06T13:00:00Z --config samples/demo/vigie.yml
    """


@alerts.command("list")
@_CONFIG
@click.option("--topic", default=None, help="Only this topic id.")
@click.option("--open", "only_open", is_flag=True, help="Only alerts that are not resolved.")
def list_alerts(config_path: str, topic: str | None, only_open: bool) -> None:
    """One line per alert: id, topic, state, level (peak), risk, opened, acknowledged by.

    \b
    Example:
      vigie alerts list --open --config samples/demo/vigie.yml
    """
    store = _store(config_path)
    try:
        found = store.open_alerts(topic) if only_open else store.alert_history(topic)
        if not found:
            click.echo("no alerts")
        for a in found:
            peak = a.peak_level.value if a.peak_level else a.level.value
            ack = f" ack by {a.acknowledged_by}" if a.acknowledged_by else ""
            click.echo(f"{a.id}  {a.topic_id}  {a.state.value:<9} {a.level.value:<7} (peak {peak}) "
                       f"risk {a.risk:5.1f}  opened {iso(a.opened_at)}{ack}")
    finally:
        store.close()


@alerts.command("show")
@click.argument("alert_id")
@_CONFIG
@click.option("--json", "as_json", is_flag=True, help="The stored alert as JSON (story and evidence included).")
@click.option("--language", default="en", show_default=True, type=click.Choice(["en", "fr"]),
              help="Language of the text output.")
def show(alert_id: str, config_path: str, as_json: bool, language: str) -> None:
    """One alert in full: level, risk, drivers, what it is about (its story: first report, amplifiers, copy
    clusters, rising terms and hashtags, sources, press) and its evidence posts.

    \b
    Examples:
      vigie alerts show 3f2a9c1b7d0e --config samples/demo/vigie.yml
      vigie alerts show 3f2a9c1b7d0e --json --config samples/demo/vigie.yml
    """
    import json

    from alerts.notify.channels.console import render
    from alerts.notify.i18n import translator

    store = _store(config_path)
    try:
        alert = store.get_alert(alert_id)
    finally:
        store.close()
    if alert is None:
        raise click.ClickException(f"no alert with id {alert_id!r} in the store (see `vigie alerts list`)")
    if as_json:
        click.echo(json.dumps(alert.to_dict(), indent=2, ensure_ascii=False, default=str))
        return
    # The console channel's rendering (post text printed as the characters it is, never as markup), with
    # every evidence post and the whole story; a resolved alert is shown in full too (its summary says resolved).
    event = {"open": "open", "escalated": "escalate"}.get(alert.state.value, "update")
    text = render(alert, event, translator(language), evidence_posts=len(alert.evidence), story_part=3)
    click.echo(text.plain, nl=False)


@alerts.command("ack")
@click.argument("alert_id")
@click.option("--by", "by", required=True, help="Who acknowledges (name or handle).")
@_CONFIG
def ack(alert_id: str, by: str, config_path: str) -> None:
    """Acknowledge an alert: stops repeat paging, not updates (escalation and resolution still notify).

    \b
    Example:
      vigie alerts ack 3f2a9c1b7d0e --by alice --config samples/demo/vigie.yml
    """
    from vigie.core.actions import ActionRefused
    from vigie.pipeline.actions import ActionBusy, acknowledge_alert

    config = _config(config_path)
    store = open_store(config.store)
    try:
        try:
            result = acknowledge_alert(store, config, alert_id, by, datetime.now(timezone.utc))
        except KeyError:
            raise click.ClickException(f"no alert with id {alert_id!r} in the store (see `vigie alerts list`)") from None
        except (ActionRefused, ActionBusy) as exc:
            raise click.ClickException(str(exc)) from None
        acked = result.alert
        if result.already:
            click.echo(f"alert {acked.id} was already acknowledged by {acked.acknowledged_by} "
                       f"at {iso(acked.acknowledged_at)}; nothing changed")
            return
        for d in result.report.delivery.deliveries:
            click.echo(f"  {d.channel}: {d.status}{' - ' + d.error if d.error else ''}")
        note = " (it is already resolved)" if acked.resolved_at else ""
        click.echo(f"alert {acked.id} ({acked.topic_id}, {acked.level.value}) acknowledged by {acked.acknowledged_by}{note}")
    finally:
        store.close()


@alerts.command("act")
@click.argument("alert_id")
@click.argument("action", type=click.Choice(["acknowledge", "resolve", "false_alarm", "real_crisis", "mute_2h",
                                             "mute_24h", "sentiment_wrong"]))
@click.option("--by", "by", required=True, help="Who acts (name or handle).")
@click.option("--post", "post_id", default=None, help="sentiment_wrong: the evidence post's id.")
@click.option("--label", default=None, type=click.Choice(["negative", "neutral", "positive"]),
              help="sentiment_wrong: the right label.")
@_CONFIG
def act(alert_id: str, action: str, by: str, post_id: str | None, label: str | None, config_path: str) -> None:
    """Do what the Slack buttons, PagerDuty and the e-mail links do, from a shell: recorded with who, when
    and `via cli`, synced to the channels through the outbox.

    \b
    Examples:
      vigie alerts act 3f2a9c1b7d0e false_alarm --by alice --config samples/demo/vigie.yml
      vigie alerts act 3f2a9c1b7d0e sentiment_wrong --post replay:42 --label neutral --by alice
    """
    from vigie.core.actions import ActionRefused, ActionRequest
    from vigie.pipeline.actions import ActionBusy, channels, perform

    config = load_config(config_path)
    store = _store(config_path)
    try:
        req = ActionRequest(action, alert_id, by, "cli", datetime.now(timezone.utc), post_id=post_id, label=label)
        try:
            result = perform(store, config, channels(config), req)
        except KeyError:
            raise click.ClickException(f"no alert with id {alert_id!r} in the store (see `vigie alerts list`)") from None
        except (ActionRefused, ActionBusy) as exc:
            raise click.ClickException(str(exc)) from None
        if not result.changed:
            click.echo(f"already done: {result.outcome.note}; nothing changed")
            return
        for d in result.delivery.deliveries:
            click.echo(f"  {d.channel}: {d.status}{' - ' + d.error if d.error else ''}")
        click.echo(f"alert {alert_id}: {result.outcome.note}")
    finally:
        store.close()


TREND_WIDTH = 36  # characters of the risk trend


@alerts.command("risk")
@_CONFIG
@click.option("--topic", default=None, help="Only this topic id.")
@click.option("--hours", default=6.0, show_default=True, type=click.FloatRange(min=0.1),
              help="How far back the trend goes.")
@click.option("--until", default=None, help="End of the period, ISO-8601 (default: now; a replayed store: its time).")
def risk(config_path: str, topic: str | None, hours: float, until: str | None) -> None:
    """Each topic's risk over the last hours, from the risk points detection stores at every bucket: the
    trend, the latest risk and level, and the drivers behind it.

    \b
    Example:
      vigie alerts risk --hours 12 --until 2026-03-06T15:00:00Z --config samples/demo/vigie.yml
    """
    from alerts.notify.content import sparkline

    try:
        config = load_config(config_path)
        end = utc(until) if until else datetime.now(timezone.utc).replace(microsecond=0)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    except ValueError:
        raise click.ClickException(f"--until {until!r} is not an ISO-8601 time (e.g. 2026-03-06T15:00:00Z)") from None
    topics = [t for t in config.topics if topic is None or t.id == topic]
    if not topics:
        raise click.ClickException(f"no topic {topic!r} in {config_path} (topics: {', '.join(t.id for t in config.topics)})")
    start = end - timedelta(hours=hours)
    store = open_store(config.store)
    try:
        for t in topics:
            points = store.risk_series(t.id, start, end + timedelta(seconds=1))
            if not points:
                click.echo(f"{t.id}  {t.name}: no risk point from {iso(start)} to {iso(end)} "
                           "(detection has not run for it then; --until picks another period)")
                continue
            per = -(-len(points) // TREND_WIDTH)  # ceil: at most TREND_WIDTH characters
            trend = [risk for _, risk in risk_peaks(points, per)]
            last = points[-1]
            level = last.level.value if last.level else "calm"
            click.echo(f"{t.id}  {t.name}: risk {last.risk:.0f} ({level}) at {iso(last.at)}  "
                       f"{sparkline(trend, width=TREND_WIDTH)}  max {max(p.risk for p in points):.0f} "
                       f"over {hours:g} h")
            for name, pts in sorted(last.drivers.items(), key=lambda kv: (-kv[1], kv[0]))[:5]:
                click.echo(f"    +{pts:5.1f} {name}")
            for note in last.notes:
                click.echo(f"    note: {note}")
    finally:
        store.close()
