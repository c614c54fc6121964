"""`vigie notify`: try the alert channels — a local Slack-compatible receiver, a test alert, the demo into it."""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from typing import Any

import click

from alerts.notify.receiver import LocalReceiver, Received
from vigie.app.cli import COMMANDS
from vigie.core.config import ConfigError, load_config

LOCAL_HOOK_PATH = "/services/local/vigie/demo"


def describe(req: Received) -> str:
    """One line per request the receiver got, in the words of the provider it stands in for."""
    try:
        body = req.json
    except ValueError:
        return f"POST {req.path.split('?')[0]}: {len(req.body)} bytes (not JSON)"
    if not isinstance(body, dict):
        return f"POST {req.path.split('?')[0]}: {type(body).__name__}"
    if req.path.startswith(("/services", "/api/chat.")):
        blocks = body.get("blocks") or []
        header = next((b["text"]["text"] for b in blocks if b.get("type") == "header"), body.get("text", ""))
        where = "slack webhook" if req.path.startswith("/services") else req.path.split("/")[-1]
        thread = f" (thread {body['thread_ts']})" if body.get("thread_ts") else ""
        posts = sum(1 for b in blocks if b.get("type") == "section" and "followers" in b.get("text", {}).get("text", ""))
        return f"[{where}]{thread} {header} — {len(blocks)} blocks, {posts} evidence posts"
    if req.path.startswith("/v2/enqueue"):
        summary = (body.get("payload") or {}).get("summary", "")
        return f"[pagerduty] {body.get('event_action')} {body.get('dedup_key')} {summary}"
    if req.path.startswith("/teams"):
        card = ((body.get("attachments") or [{}])[0].get("content") or {})
        first = (card.get("body") or [{}])[0].get("text", "")
        return f"[teams] {first}"
    alert = body.get("alert") or {}
    return f"[webhook] {body.get('event')} {alert.get('level')} {alert.get('topic_id')} risk {alert.get('risk')}"


@COMMANDS.decorator("notify")
@click.group("notify")
def notify() -> None:
    """Try the alert channels (set-up of each channel: alerts/notify/README.md).

    \b
    Examples:
      vigie notify demo                          # the demo, with its Slack alerts sent to a local receiver
      vigie notify receiver --port 8765          # a local Slack/PagerDuty/Teams/webhook stand-in
      vigie notify test --config vigie.yml       # send a clearly-marked test alert to every channel
    """


@notify.command("receiver")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int)
@click.option("--seconds", default=0, type=float, help="Stop after this many seconds (0 = until Ctrl-C).")
def receiver(host: str, port: int, seconds: float) -> None:
    """Run a local stand-in for Slack (webhook and Web API), PagerDuty, Teams and webhooks; print what arrives.

    \b
    Example (two terminals):
      vigie notify receiver --port 8765
      SLACK_WEBHOOK_URL=http://127.0.0.1:8765/services/local/vigie/demo vigie demo
    """
    with LocalReceiver(host, port, on_request=lambda r: click.echo(describe(r))) as server:
        click.echo(f"listening on {server.url}\n  export SLACK_WEBHOOK_URL={server.url}{LOCAL_HOOK_PATH}\n"
                   f"  slack_bot: url: {server.url}/api/   pagerduty: url: {server.url}   Ctrl-C to stop")
        try:
            end = time.monotonic() + seconds if seconds else None
            while end is None or time.monotonic() < end:
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass
        click.echo(f"{len(server.requests)} request(s) received")


@notify.command("demo")
@click.pass_context
def demo_to_local_slack(ctx: click.Context) -> None:
    """Run `vigie demo` with its Slack alerts going to a local Slack-compatible receiver, then show what
    the receiver got (no Slack workspace needed to see the messages).

    \b
    Example:
      vigie notify demo
    """
    from vigie.app.cli.demo import demo

    with LocalReceiver() as server:
        previous = os.environ.get("SLACK_WEBHOOK_URL")
        os.environ["SLACK_WEBHOOK_URL"] = server.url + LOCAL_HOOK_PATH
        try:
            ctx.invoke(demo)
        finally:
            if previous is None:
                os.environ.pop("SLACK_WEBHOOK_URL", None)
            else:
                os.environ["SLACK_WEBHOOK_URL"] = previous
        click.echo(f"\nLocal Slack receiver got {len(server.requests)} message(s):")
        for req in server.requests:
            click.echo("  " + describe(req))


def sample_alert() -> Any:
    from vigie.core.models import Alert, Driver, EvidenceItem, Level

    now = datetime.now(timezone.utc).replace(microsecond=0)
    key = Alert.make_dedup_key("vigie-test", now)
    return Alert(
        id=Alert.make_id(key), dedup_key=key, topic_id="vigie-test", level=Level.CRISIS, risk=80, opened_at=now,
        updated_at=now, peak_risk=80, peak_level=Level.CRISIS,
        drivers=[Driver("test", 80, 1, 0, "TEST ALERT sent by `vigie notify test`: no action needed")],
        evidence=[EvidenceItem(id="test:1", author="vigie", followers=0, engagement=0, sentiment="neu",
                               text="This is a test message from Vigie. <!channel> must appear escaped, not as a "
                                    "mention.", url=None, created_at=now)],
    )


@notify.command("test")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default="vigie.yml", show_default=True,
              envvar="VIGIE_CONFIG", help="Configuration whose `channels` are tried (env VIGIE_CONFIG).")
@click.option("--channel", "only", default=None, help="Only this channel name (type, or options.name).")
def test_channels(config_path: str, only: str | None) -> None:
    """Send one test alert (topic `vigie-test`, level crisis) to each configured channel and print the outcome.

    Nothing is stored. Use it after setting up a channel's secrets; PagerDuty gets a trigger then a resolve.

    \b
    Example:
      SLACK_WEBHOOK_URL=https://hooks.slack.com/services/... vigie notify test --config vigie.yml
    """
    from alerts.notify import notifiers_for

    try:
        notifiers = notifiers_for(load_config(config_path), strict=True)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    alert = sample_alert()
    failed = 0
    for n in notifiers:
        if only and n.channel != only:
            continue
        d = n.send(alert, "open")
        if getattr(n, "pager", False) and d.status == "sent":
            n.send(alert, "resolve")
        failed += d.status != "sent"
        click.echo(f"{n.channel}: {d.status} after {d.attempts} attempt(s)"
                   + (f" — {d.error}" if d.error else "") + (f" — {d.response}" if d.response else ""))
    if failed:
        raise click.ClickException(f"{failed} channel(s) failed")
