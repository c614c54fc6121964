"""Slack incoming webhook + console notifier + `deliver`, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import io
import json
import logging

import pytest

from alerts.notify import build_notifiers, deliver
from alerts.notify.channels.console import ConsoleNotifier
from alerts.notify.receiver import LocalReceiver, Reply
from alerts.notify.channels.slack import SlackWebhookNotifier
from notify_fixtures import fast_retry, open_store
from vigie.sim.sample_alerts import make_alert
from vigie.core.config import ChannelConfig, ConfigError, SecretMissing
from vigie.core.models import AlertState, Level

SECRET_PATH = "/services/T000/B000/s3cr3tW3bh00kT0ken"


@pytest.fixture
def slack():
    with LocalReceiver() as receiver:
        yield receiver


def webhook(slack: LocalReceiver, attempts: int = 4, **kw):
    retry, sleeps = fast_retry(attempts)
    return SlackWebhookNotifier(slack.url + SECRET_PATH, retry=retry, **kw), sleeps


def all_text(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False)


def test_webhook_payload_is_the_documented_block_kit_message(slack):
    notifier, _ = webhook(slack)
    alert = make_alert(Level.WARNING, 62)
    d = notifier.send(alert, "escalate")
    assert d.status == "sent" and d.attempts == 1 and d.error is None
    [req] = slack.requests
    assert req.path == SECRET_PATH
    assert req.headers["content-type"].startswith("application/json")
    body = req.json
    assert set(body) == {"text", "blocks"}
    assert body["text"] == "WARNING · acme — escalated: risk 62/100, state open"
    types = [b["type"] for b in body["blocks"]]
    assert types == ["header", "section", "section", "divider"] + ["section"] * 5 + ["actions", "context"]
    assert body["blocks"][0] == {"type": "header", "text": {"type": "plain_text", "text": "🟠 WARNING · acme — escalated", "emoji": True}}
    risk = body["blocks"][1]["text"]
    assert risk["type"] == "mrkdwn" and risk["verbatim"] is True
    assert risk["text"].startswith("*Risk* 62/100 · *state* open · *opened* 2026-03-10T14:05:00Z\n*Trend* `")
    assert risk["text"].endswith("` 38 → 62")
    why = body["blocks"][2]["text"]["text"]
    # Top 3 drivers by points; a zero-point driver is not a reason.
    assert why == ("*Why*\n• *negative_volume* +30 pts — 48 negative posts in 30 min vs 6 usual\n"
                   "• *crisis_terms* +18 pts — crisis terms: remboursement, arnaque\n"
                   "• *reach* +9 pts — negative reach 120k followers")
    second_post = body["blocks"][5]["text"]["text"]
    assert second_post == ("*@user1* · 301 followers · 3,999 interactions · neg\n"
                           ">Commande 1 jamais livrée, service client injoignable #acme\n"
                           "<https://social.example/p/1|Open post>")
    [button] = body["blocks"][9]["elements"]
    assert button["url"] == "https://kibana.example/app/dashboards#/view/vigie-crisis-room?x=1&y=2"
    assert button["text"]["text"] == "Open kibana"
    assert "report: `out/report.html`" in body["blocks"][10]["elements"][0]["text"]


def test_hostile_post_cannot_mention_or_disguise_links(slack):
    notifier, _ = webhook(slack)
    notifier.send(make_alert(), "open")
    body = slack.requests[0].json
    hostile_block = body["blocks"][4]["text"]["text"]
    # Every `<` and `>` of the post is escaped: no <!channel>, <!here>, <@U…>, <url|label> survives.
    assert "&lt;!channel&gt; &lt;!here&gt; &lt;@U024BE7LH&gt;" in hostile_block
    assert "&lt;https://evil.example/phish|bank.com&gt;" in hostile_block
    assert "&amp; [bold red]" in hostile_block
    assert "*@&lt;@U0ADMIN&gt;*" in hostile_block  # the author handle is untrusted too
    assert "\u202e" not in hostile_block  # bidi override removed
    for block in body["blocks"]:
        text = block.get("text", {}).get("text", "") if isinstance(block.get("text"), dict) else ""
        for marker in ("<!channel>", "<!here>", "<@U", "<https://evil"):
            assert marker not in text
    # The only real links are the ones Vigie built from safe URLs.
    links = [t for b in body["blocks"] if b["type"] == "section" for t in [b["text"]["text"]] if "|Open post>" in t]
    assert len(links) == 5


def test_lengths_are_capped_within_block_kit_limits(slack):
    notifier, _ = webhook(slack)
    alert = make_alert()
    alert.evidence[1].text = "x" * 10_000
    alert.evidence[2].text = "&" * 5_000  # escaping multiplies length by 5
    alert.drivers[0].explanation = "<" * 4000
    notifier.send(alert, "open")
    body = slack.requests[0].json
    assert len(body["blocks"]) <= 50
    for b in body["blocks"]:
        if b["type"] == "section":
            assert len(b["text"]["text"]) <= 3000
            assert not b["text"]["text"].rstrip("…").endswith("&am")  # never cut inside an entity
        if b["type"] == "header":
            assert len(b["text"]["text"]) <= 150


def test_429_waits_retry_after_then_succeeds(slack):
    slack.script("/services", Reply(429, "rate_limited", {"Retry-After": "7"}))
    notifier, sleeps = webhook(slack)
    d = notifier.send(make_alert(), "open")
    assert d.status == "sent" and d.attempts == 2
    assert sleeps.waits == [7.0]
    assert len(slack.requests) == 2 and slack.requests[0].body == slack.requests[1].body


def test_5xx_is_retried_with_exponential_backoff(slack):
    slack.script("/services", Reply(500, "oops"), Reply(503, "busy"))
    notifier, sleeps = webhook(slack)
    d = notifier.send(make_alert(), "open")
    assert d.status == "sent" and d.attempts == 3
    assert sleeps.waits == [1.0, 2.0]


def test_5xx_gives_up_after_the_configured_attempts(slack):
    slack.script("/services", *[Reply(502, "bad gateway")] * 3)
    notifier, sleeps = webhook(slack, attempts=3)
    d = notifier.send(make_alert(), "open")
    assert d.status == "failed" and d.attempts == 3 and "HTTP 502" in d.error
    assert len(slack.requests) == 3


@pytest.mark.parametrize("status,body", [(404, "no_service"), (403, "invalid_token"), (400, "invalid_blocks")])
def test_4xx_is_not_retried_and_reported_loudly_without_the_secret(slack, caplog, status, body):
    slack.script("/services", Reply(status, body))
    notifier, sleeps = webhook(slack)
    with caplog.at_level(logging.DEBUG):
        d = notifier.send(make_alert(), "open")
    assert d.status == "failed" and d.attempts == 1 and sleeps.waits == []
    assert f"HTTP {status}" in d.error and body in d.error
    assert any(r.levelno == logging.ERROR and "failed" in r.getMessage() for r in caplog.records)
    assert "s3cr3tW3bh00kT0ken" not in d.error
    assert all("s3cr3tW3bh00kT0ken" not in r.getMessage() for r in caplog.records)


def test_unreachable_endpoint_fails_cleanly_without_the_secret(caplog):
    retry, sleeps = fast_retry(2)
    notifier = SlackWebhookNotifier("http://127.0.0.1:9" + SECRET_PATH, retry=retry, timeout=2)
    with caplog.at_level(logging.DEBUG):
        d = notifier.send(make_alert(), "open")
    assert d.status == "failed" and d.attempts == 2 and "unreachable" in d.error
    assert "s3cr3tW3bh00kT0ken" not in d.error
    assert all("s3cr3tW3bh00kT0ken" not in r.getMessage() for r in caplog.records)


def test_console_prints_level_topic_risk_drivers_and_top3_evidence():
    out = io.StringIO()
    ConsoleNotifier(out).send(make_alert(Level.CRISIS, 81), "escalate")
    text = out.getvalue()
    assert "CRISIS · acme — escalated" in text and "risk 81/100" in text
    assert "negative_volume: 48 negative posts in 30 min vs 6 usual" in text
    assert "@user1 (301 followers, 3,999 interactions, neg) https://social.example/p/1" in text
    assert "@user2" in text and "@user3" not in text  # top 3 only
    # Rich markup in a post is printed as characters, never interpreted; no ANSI codes on a non-TTY.
    assert "[bold red]ALERT[/bold red]" in text and "\x1b[" not in text
    assert "kibana: https://kibana.example/" in text and "report: out/report.html" in text


def test_console_is_coloured_on_a_terminal():
    from rich.console import Console

    out = io.StringIO()
    ConsoleNotifier(Console(file=out, force_terminal=True)).send(make_alert(Level.CRISIS, 81), "open")
    assert "\x1b[" in out.getvalue()


# -- deliver ------------------------------------------------------------------------------------

def notifiers_for(slack: LocalReceiver, out: io.StringIO, monkeypatch, min_level="warning"):
    monkeypatch.setenv("SLACK_WEBHOOK_URL", slack.url + SECRET_PATH)
    retry, _ = fast_retry(2)
    return build_notifiers(
        [ChannelConfig(type="console", min_level="watch"), ChannelConfig(type="slack_webhook", min_level=min_level)],
        console=out, retry=retry,
    )


def test_deliver_sends_once_per_channel_and_persists_after_each(tmp_path, slack, monkeypatch):
    out = io.StringIO()
    store = open_store(tmp_path)
    notifiers = notifiers_for(slack, out, monkeypatch)
    alert = make_alert(Level.WARNING)
    store.save_alert(alert)
    got = deliver(alert, "open", notifiers, store)
    assert [(d.channel, d.status, d.key) for d in got] == [("console", "sent", "open"), ("slack_webhook", "sent", "open")]
    stored = store.get_alert(alert.id)
    assert [(d.channel, d.status) for d in stored.deliveries] == [("console", "sent"), ("slack_webhook", "sent")]
    # Re-delivery (a retried task, a re-run on the same store): nothing is sent twice.
    assert deliver(stored, "open", notifiers, store) == []
    assert len(slack.requests) == 1 and out.getvalue().count("acme — opened") == 1


def test_deliver_respects_min_level_and_escalations_are_distinct(tmp_path, slack, monkeypatch):
    out, store = io.StringIO(), open_store(tmp_path)
    notifiers = notifiers_for(slack, out, monkeypatch, min_level="crisis")
    alert = make_alert(Level.WATCH, 40)
    deliver(alert, "open", notifiers, store)
    assert len(slack.requests) == 0  # below slack's min level
    alert.level, alert.risk = Level.WARNING, 60
    deliver(alert, "escalate", notifiers, store)
    assert len(slack.requests) == 0
    alert.level, alert.risk = Level.CRISIS, 85
    got = deliver(alert, "escalate", notifiers, store)
    assert [d.key for d in got] == ["escalate:crisis", "escalate:crisis"]
    assert len(slack.requests) == 1
    # Same escalation again: deduplicated on both channels.
    assert deliver(alert, "escalate", notifiers, store) == []


def test_update_dedup_on_level_and_rounded_risk(tmp_path, slack, monkeypatch):
    out, store = io.StringIO(), open_store(tmp_path)
    notifiers = notifiers_for(slack, out, monkeypatch)
    alert = make_alert(Level.WARNING, 62.2)
    deliver(alert, "update", notifiers, store)
    alert.risk = 61.9  # rounds to the same value: same state, not told twice
    assert deliver(alert, "update", notifiers, store) == []
    alert.risk = 78.0
    assert [d.key for d in deliver(alert, "update", notifiers, store)] == ["update:warning:78"] * 2
    assert len(slack.requests) == 2


def test_resolve_goes_only_to_channels_that_were_told(tmp_path, slack, monkeypatch):
    out, store = io.StringIO(), open_store(tmp_path)
    notifiers = notifiers_for(slack, out, monkeypatch)
    alert = make_alert(Level.WATCH, 40)  # below slack's warning
    deliver(alert, "open", notifiers, store)
    alert.state = AlertState.RESOLVED
    got = deliver(alert, "resolve", notifiers, store)
    assert [d.channel for d in got] == ["console"] and slack.requests == []
    assert "RESOLVED · acme" in out.getvalue()


def test_failing_slack_does_not_block_console_and_hides_the_secret(tmp_path, slack, monkeypatch, caplog):
    slack.script("/services", Reply(410, "channel_is_archived"))
    out, store = io.StringIO(), open_store(tmp_path)
    # Slack first, console second: a failure must not stop the channel after it.
    monkeypatch.setenv("SLACK_WEBHOOK_URL", slack.url + SECRET_PATH)
    retry, _ = fast_retry(2)
    notifiers = build_notifiers([ChannelConfig(type="slack_webhook"), ChannelConfig(type="console", min_level="watch")],
                                console=out, retry=retry)
    alert = make_alert(Level.CRISIS, 90)
    with caplog.at_level(logging.DEBUG):
        got = deliver(alert, "open", notifiers, store)
    assert [(d.channel, d.status) for d in got] == [("slack_webhook", "failed"), ("console", "sent")]
    assert "CRISIS · acme — opened" in out.getvalue()
    stored = store.get_alert(alert.id)
    assert "s3cr3tW3bh00kT0ken" not in json.dumps(stored.to_dict())
    assert all("s3cr3tW3bh00kT0ken" not in r.getMessage() for r in caplog.records)
    # A failed delivery is retried on the next run, attempts accumulate, then it is never re-sent.
    got = deliver(stored, "open", notifiers, store)
    assert [(d.channel, d.status, d.attempts) for d in got] == [("slack_webhook", "sent", 2)]
    assert deliver(store.get_alert(alert.id), "open", notifiers, store) == []


def test_a_crash_between_send_and_record_does_not_resend_to_a_non_idempotent_channel(tmp_path, slack, monkeypatch):
    out, store = io.StringIO(), open_store(tmp_path)
    notifiers = notifiers_for(slack, out, monkeypatch)
    alert = make_alert(Level.WARNING)

    class Crash(Exception):
        pass

    class CrashingStore:
        """The real store, but the process 'dies' on the save that records the outcome."""

        def __init__(self):
            self.saves = 0

        def save_alert(self, a):
            self.saves += 1
            if self.saves == 4:  # console pending, console sent, slack pending, [slack sent: dies]
                raise Crash()
            store.save_alert(a)

        def __getattr__(self, name):
            return getattr(store, name)

    deliver(alert, "open", [notifiers[0], notifiers[1]], CrashingStore())
    assert len(slack.requests) == 1
    reloaded = store.get_alert(alert.id)
    assert [(d.channel, d.status) for d in reloaded.deliveries] == [("console", "sent"), ("slack_webhook", "pending")]
    got = deliver(reloaded, "open", notifiers, store)
    assert [(d.channel, d.status) for d in got] == [("slack_webhook", "unknown")]
    assert len(slack.requests) == 1  # not sent a second time
    assert deliver(store.get_alert(alert.id), "open", notifiers, store) == []


def test_missing_secret_is_a_config_error_unless_the_channel_is_optional(monkeypatch):
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("PAGERDUTY_ROUTING_KEY", raising=False)
    # A pager that silently is not there: refused, every missing variable named at once.
    with pytest.raises(SecretMissing) as err:
        build_notifiers([ChannelConfig(type="console"), ChannelConfig(type="slack_webhook"),
                         ChannelConfig(type="pagerduty")], console=io.StringIO())
    assert "SLACK_WEBHOOK_URL is not set" in str(err.value) and "PAGERDUTY_ROUTING_KEY is not set" in str(err.value)
    assert "optional: true" in str(err.value)
    ns = build_notifiers([ChannelConfig(type="console"), ChannelConfig(type="slack_webhook", optional=True)],
                         console=io.StringIO())
    assert [n.channel for n in ns] == ["console"]
    with pytest.raises(SecretMissing, match="SLACK_WEBHOOK_URL is not set"):
        build_notifiers([ChannelConfig(type="slack_webhook", optional=True)], strict=True)


def test_bad_options_and_duplicate_channels_are_config_errors():
    with pytest.raises(ConfigError, match=r"channels\[0\] \(console\): invalid options: options.evidence_posts"):
        build_notifiers([ChannelConfig(type="console", options={"evidence_posts": 9})])
    with pytest.raises(ConfigError, match="needs `options.name`"):
        build_notifiers([ChannelConfig(type="console"), ChannelConfig(type="console")], console=io.StringIO())
    with pytest.raises(ConfigError, match="quiet_hours"):
        build_notifiers([ChannelConfig(type="console", options={"quiet_hours": {"start": "22:00", "end": "07:00", "tz": "Mars/Olympus"}})])


def test_many_topics_at_once_make_one_digest_per_capable_channel(tmp_path, slack, monkeypatch):
    from alerts.notify import deliver_many
    from alerts.notify.channels.pagerduty import PagerDutyNotifier

    out, store = io.StringIO(), open_store(tmp_path)
    notifiers = notifiers_for(slack, out, monkeypatch)
    notifiers.append(PagerDutyNotifier("R0UT1NGk3y000000", base_url=slack.url, min_level=Level.WARNING, retry=fast_retry()[0]))
    alerts = [make_alert(Level.CRISIS if i == 2 else Level.WARNING, 60 + i * 5, topic=f"brand{i}") for i in range(4)]
    got = deliver_many([(a, "open") for a in alerts], notifiers, store)
    assert sorted((d.channel, d.status) for d in got) == sorted(
        [("console", "sent")] * 4 + [("slack_webhook", "sent")] * 4 + [("pagerduty", "sent")] * 4)
    [digest] = slack.to("/services")
    body = digest.json
    assert body["blocks"][0]["text"]["text"] == "🔴 4 topics alerting at once (worst: CRISIS)"
    sections = [b["text"]["text"] for b in body["blocks"] if b["type"] == "section"]
    assert sections[0].startswith("*🔴 CRISIS · brand2 — opened: risk 70/100 — negative_volume +30*")
    assert all("&lt;!channel&gt;" in s and "<!channel>" not in s for s in sections)  # hostile top post escaped
    assert len(slack.to("/v2/enqueue")) == 4  # one incident per alert, never a digest
    assert out.getvalue().count("topics alerting at once") == 1 and "acme — opened" not in out.getvalue()
    # Each alert has its own record: a re-run sends nothing, a resolution goes to the channels that were told.
    stored = [store.get_alert(a.id) for a in alerts]
    assert all(d.response.startswith("digest of 4") for a in stored for d in a.deliveries if d.channel == "slack_webhook")
    assert deliver_many([(a, "open") for a in stored], notifiers, store) == []
    stored[0].state = AlertState.RESOLVED
    got = deliver_many([(stored[0], "resolve")], notifiers, store)
    assert [d.channel for d in got] == ["console", "slack_webhook", "pagerduty"]


def test_two_topics_are_not_a_digest(tmp_path, slack, monkeypatch):
    from alerts.notify import deliver_many

    out, store = io.StringIO(), open_store(tmp_path)
    notifiers = notifiers_for(slack, out, monkeypatch)
    alerts = [make_alert(Level.WARNING, 60, topic=f"brand{i}") for i in range(2)]
    deliver_many([(a, "open") for a in alerts], notifiers, store)
    assert len(slack.requests) == 2 and "at once" not in out.getvalue()
