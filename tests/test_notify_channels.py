"""PagerDuty, Teams, generic webhook, Slack bot threads and e-mail, against real local servers."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
from datetime import timedelta

import pytest

from alerts.notify import build_notifiers, deliver
from alerts.notify.channels.pagerduty import PagerDutyNotifier
from alerts.notify.receiver import LocalReceiver, Reply
from alerts.notify.channels.slack import SlackBotNotifier
from alerts.notify.channels.teams import TeamsNotifier
from alerts.notify.channels.webhook import WebhookNotifier, verify_signature
from notify_fixtures import fast_retry, open_store
from vigie.sim.sample_alerts import make_alert
from vigie.core.config import ChannelConfig
from vigie.core.models import AlertState, Level

ROUTING_KEY = "R0UT1NGk3yS3cr3t0000000000000000"
BOT_TOKEN = "test-bot-token-s3cr3t-not-real"  # fake; never a real-looking xoxb- token


@pytest.fixture
def server():
    with LocalReceiver() as receiver:
        yield receiver


# -- PagerDuty ----------------------------------------------------------------------------------

def pagerduty(server, attempts=4):
    retry, sleeps = fast_retry(attempts)
    return PagerDutyNotifier(ROUTING_KEY, base_url=server.url, retry=retry), sleeps


def test_pagerduty_trigger_escalate_resolve_share_one_dedup_key(server):
    pd, _ = pagerduty(server)
    alert = make_alert(Level.WARNING, 62)
    assert pd.send(alert, "open").status == "sent"
    alert.level, alert.risk = Level.CRISIS, 88
    assert pd.send(alert, "escalate").response == alert.dedup_key
    alert.state = AlertState.RESOLVED
    pd.send(alert, "resolve")
    trigger, escalate, resolve = (r.json for r in server.to("/v2/enqueue"))
    assert trigger["routing_key"] == ROUTING_KEY and trigger["event_action"] == "trigger"
    assert trigger["dedup_key"] == escalate["dedup_key"] == resolve["dedup_key"] == "vigie:acme:20260310T140500Z"
    p = trigger["payload"]
    assert p["summary"] == "[Vigie] WARNING · acme — opened: risk 62/100, state open; top driver negative_volume"
    assert (p["source"], p["severity"], p["component"], p["timestamp"]) == ("vigie", "warning", "acme", "2026-03-10T14:05:00Z")
    assert p["custom_details"]["risk"] == 62.0 and len(p["custom_details"]["evidence"]) == 3
    assert escalate["payload"]["severity"] == "critical"
    assert trigger["links"] == [{"href": "https://kibana.example/app/dashboards#/view/vigie-crisis-room?x=1&y=2",
                                 "text": "Open kibana"}]
    assert resolve == {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": alert.dedup_key}


def test_pagerduty_429_then_success_and_400_is_final_without_leaking_the_key(server, caplog):
    server.script("/v2/enqueue", Reply(429, {"status": "throttle event"}), Reply(500, "upstream"))
    pd, sleeps = pagerduty(server)
    d = pd.send(make_alert(), "open")
    assert d.status == "sent" and d.attempts == 3 and sleeps.waits == [1.0, 2.0]
    server.script("/v2/enqueue", Reply(400, {"status": "invalid event", "message": "Event object is invalid",
                                             "errors": [f"routing_key {ROUTING_KEY} unknown"]}))
    with caplog.at_level(logging.DEBUG):
        d = pd.send(make_alert(), "open")
    assert d.status == "failed" and d.attempts == 1 and "HTTP 400" in d.error
    assert ROUTING_KEY not in d.error and "***" in d.error
    assert all(ROUTING_KEY not in r.getMessage() for r in caplog.records)


def test_pagerduty_malformed_json_answer_is_retried(server):
    server.script("/v2/enqueue", Reply(202, "{not json", {"Content-Type": "application/json"}))
    pd, sleeps = pagerduty(server)
    d = pd.send(make_alert(), "open")
    assert d.status == "sent" and d.attempts == 2


def test_pagerduty_crash_after_send_is_resent_with_the_same_dedup_key(tmp_path, server):
    """PagerDuty is idempotent on dedup_key: a delivery left `pending` by a crash is simply sent again."""
    store = open_store(tmp_path)
    pd, _ = pagerduty(server)
    alert = make_alert(Level.CRISIS, 90)
    from vigie.core.models import Delivery

    alert.deliveries.append(Delivery("pagerduty", "open", "pending", at=alert.updated_at, key="open"))
    store.save_alert(alert)
    [d] = deliver(store.get_alert(alert.id), "open", [pd], store)
    assert d.status == "sent" and len(server.requests) == 1
    assert server.requests[0].json["dedup_key"] == alert.dedup_key


def test_acknowledged_alert_is_not_repaged_on_updates_but_escalation_and_resolve_go(tmp_path, server):
    store = open_store(tmp_path)
    pd, _ = pagerduty(server)
    pd.min_level = Level.WARNING
    alert = make_alert(Level.WARNING, 60)
    deliver(alert, "open", [pd], store)
    alert.acknowledged_by, alert.acknowledged_at = "alice", alert.updated_at + timedelta(minutes=3)
    deliver(alert, "acknowledge", [pd], store)
    alert.risk = 70
    [skipped] = deliver(alert, "update", [pd], store)
    assert skipped.status == "skipped" and "acknowledged by alice" in skipped.error
    alert.level, alert.risk = Level.CRISIS, 85
    deliver(alert, "escalate", [pd], store)
    alert.state = AlertState.RESOLVED
    deliver(alert, "resolve", [pd], store)
    actions = [r.json["event_action"] for r in server.requests]
    assert actions == ["trigger", "acknowledge", "trigger", "resolve"]


# -- delivery rules -----------------------------------------------------------------------------

def test_quiet_hours_hold_back_lower_levels_but_not_crisis(tmp_path, server, monkeypatch):
    monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", ROUTING_KEY)
    retry, _ = fast_retry()
    [pd] = build_notifiers([ChannelConfig(type="pagerduty", min_level="watch", url=server.url, options={
        "quiet_hours": {"start": "22:00", "end": "07:00", "tz": "Europe/Paris", "min_level": "crisis"}})], retry=retry)
    store = open_store(tmp_path)
    night = make_alert(Level.WARNING, 60)
    night.updated_at = night.opened_at.replace(hour=23)  # 00:00 in Paris (UTC+1 in March)
    [d] = deliver(night, "open", [pd], store)
    assert d.status == "skipped" and "quiet hours 22:00-07:00 Europe/Paris" in d.error
    assert deliver(night, "open", [pd], store) == []  # recorded once, not re-logged by a re-run
    night.level = Level.CRISIS
    [d] = deliver(night, "escalate", [pd], store)
    assert d.status == "sent" and len(server.requests) == 1
    day = make_alert(Level.WARNING, 60, topic="other")
    day.updated_at = day.opened_at.replace(hour=9)
    assert deliver(day, "open", [pd], store)[0].status == "sent"


def test_rate_limit_of_pages_per_topic_per_hour_spans_alerts(tmp_path, server, monkeypatch):
    monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", ROUTING_KEY)
    retry, _ = fast_retry()
    [pd] = build_notifiers([ChannelConfig(type="pagerduty", min_level="watch", url=server.url,
                                          options={"max_per_topic_per_hour": 2})], retry=retry)
    store = open_store(tmp_path)
    first = make_alert(Level.WARNING, 60)
    deliver(first, "open", [pd], store)
    first.risk, first.updated_at = 80, first.updated_at + timedelta(minutes=10)
    deliver(first, "update", [pd], store)
    # A new episode of the same topic 20 minutes later: third page within the hour → held back.
    from vigie.core.models import Alert

    second = make_alert(Level.WARNING, 65)
    second.opened_at = second.updated_at = first.opened_at + timedelta(minutes=20)
    second.dedup_key = Alert.make_dedup_key("acme", second.opened_at)
    second.id = Alert.make_id(second.dedup_key)
    [d] = deliver(second, "open", [pd], store)
    assert d.status == "skipped" and "rate limit: 2 message(s) for topic acme" in d.error
    # The resolution of a paged incident always goes through.
    first.state = AlertState.RESOLVED
    assert deliver(first, "resolve", [pd], store)[0].status == "sent"
    # An hour later the topic may page again.
    later = make_alert(Level.WARNING, 70)
    later.opened_at = later.updated_at = first.opened_at + timedelta(minutes=75)
    later.dedup_key = Alert.make_dedup_key("acme", later.opened_at)
    later.id = Alert.make_id(later.dedup_key)
    assert deliver(later, "open", [pd], store)[0].status == "sent"


# -- Teams --------------------------------------------------------------------------------------

def test_teams_adaptive_card_with_hostile_text_only_in_literal_text_runs(server):
    retry, _ = fast_retry()
    url = server.url + "/teams/workflows/abc?sig=T3amsS1gnatur3"
    d = TeamsNotifier(url, retry=retry).send(make_alert(Level.CRISIS, 81), "escalate")
    assert d.status == "sent"
    [req] = server.to("/teams")
    msg = req.json
    assert msg["type"] == "message"
    [att] = msg["attachments"]
    assert att["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = att["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["body"][0]["text"] == "🔴 CRISIS · acme — escalated"
    assert {"title": "Risk", "value": "81/100 (peak 81)"} in card["body"][1]["facts"]
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open kibana",
                                "url": "https://kibana.example/app/dashboards#/view/vigie-crisis-room?x=1&y=2"}]

    def walk(node, path=""):
        if isinstance(node, dict):
            for k, v in node.items():
                yield from walk(v, path + "/" + (node.get("type", "") if k == "text" else k))
            if node.get("type") == "TextBlock":
                yield ("TextBlock", node["text"])
            if node.get("type") == "TextRun":
                yield ("TextRun", node["text"])
        elif isinstance(node, list):
            for v in node:
                yield from walk(v, path)

    texts = [t for t in walk(card) if isinstance(t, tuple)]
    hostile_runs = [t for kind, t in texts if kind == "TextRun" and "<!channel>" in t]
    assert len(hostile_runs) == 1 and "[click](https://evil.example)" in hostile_runs[0]
    assert all("evil" not in t for kind, t in texts if kind == "TextBlock")  # markdown-capable blocks are clean


def test_teams_5xx_retry_then_4xx_final_and_url_signature_never_leaks(server, caplog):
    retry, sleeps = fast_retry()
    url = server.url + "/teams/workflows/abc?sig=T3amsS1gnatur3"
    server.script("/teams", Reply(502, "bad gateway"), Reply(404, "workflow not found"))
    with caplog.at_level(logging.DEBUG):
        d = TeamsNotifier(url, retry=retry).send(make_alert(), "open")
    assert d.status == "failed" and d.attempts == 2 and "HTTP 404" in d.error
    assert "T3amsS1gnatur3" not in d.error and all("T3amsS1gnatur3" not in r.getMessage() for r in caplog.records)


# -- generic webhook ------------------------------------------------------------------------------

def test_webhook_is_signed_and_the_delivery_id_is_stable_across_retries(server):
    retry, sleeps = fast_retry()
    server.script("/hook", Reply(503, "busy"))
    clock = iter([1_773_151_500, 1_773_151_501])
    n = WebhookNotifier(server.url + "/hook", "sh4red-s3cret", retry=retry, clock=lambda: next(clock))
    alert = make_alert(Level.CRISIS, 81)
    d = n.send(alert, "escalate")
    assert d.status == "sent" and d.attempts == 2
    first, second = server.to("/hook")
    assert first.body == second.body
    for req, ts in ((first, "1773151500"), (second, "1773151501")):
        assert req.headers["x-vigie-timestamp"] == ts
        expected = hmac.new(b"sh4red-s3cret", ts.encode() + b"." + req.body, hashlib.sha256).hexdigest()
        assert req.headers["x-vigie-signature"] == f"sha256={expected}"
        assert req.headers["x-vigie-delivery"] == f"{alert.id}:escalate:crisis"
        assert req.headers["x-vigie-event"] == "escalate"
        assert verify_signature("sh4red-s3cret", ts, req.body, req.headers["x-vigie-signature"], now=int(ts) + 10)
    assert not verify_signature("wrong", "1773151500", first.body, first.headers["x-vigie-signature"], now=1_773_151_500)
    assert not verify_signature("sh4red-s3cret", "1773151500", first.body + b" ", first.headers["x-vigie-signature"],
                                now=1_773_151_500)
    assert not verify_signature("sh4red-s3cret", "1773151500", first.body, first.headers["x-vigie-signature"],
                                now=1_773_151_500 + 301)  # replayed too late
    body = first.json
    assert body["schema"] == "vigie.alert/2" and body["event"] == "escalate"
    assert body["alert"]["level"] == "crisis" and body["alert"]["risk"] == 81.0
    assert body["alert"]["evidence"][0]["text"].startswith("<!channel> <!here>")  # data, not markup: the receiver escapes
    assert "sh4red-s3cret" not in first.body.decode()


# -- Slack bot token: threads ------------------------------------------------------------------

def bot(server, **kw):
    retry, sleeps = fast_retry()
    return SlackBotNotifier(BOT_TOKEN, "#crisis-room", base_url=server.url + "/api/", retry=retry, **kw), sleeps


def test_slack_bot_threads_escalation_and_resolution_and_updates_the_parent(tmp_path, server):
    store = open_store(tmp_path)
    n, _ = bot(server)
    alert = make_alert(Level.WARNING, 60)
    [opened] = deliver(alert, "open", [n], store)
    assert opened.response == "C0VIGIE/1700000000.000200"
    alert.level, alert.risk, alert.state = Level.CRISIS, 88, AlertState.ESCALATED
    alert.peak_level, alert.peak_risk = Level.CRISIS, 88
    deliver(alert, "escalate", [n], store)
    alert.level, alert.risk, alert.state = Level.WATCH, 20, AlertState.RESOLVED
    deliver(alert, "resolve", [n], store)
    calls = [(r.path, r.json) for r in server.requests]
    assert [p for p, _ in calls] == ["/api/chat.postMessage", "/api/chat.postMessage", "/api/chat.update",
                                     "/api/chat.postMessage", "/api/chat.update"]
    assert all(r.headers["authorization"] == f"Bearer {BOT_TOKEN}" for r in server.requests)
    parent = calls[0][1]
    assert parent["channel"] == "#crisis-room" and "thread_ts" not in parent
    assert parent["blocks"][0]["text"]["text"] == "🟠 WARNING · acme — opened"
    reply = calls[1][1]
    assert reply["channel"] == "C0VIGIE" and reply["thread_ts"] == "1700000000.000200"
    assert reply["reply_broadcast"] is True  # escalation to crisis is also shown in the channel
    assert reply["blocks"][0]["text"]["text"] == "🔴 CRISIS · acme — escalated"
    update = calls[2][1]
    assert (update["channel"], update["ts"]) == ("C0VIGIE", "1700000000.000200")
    assert update["blocks"][0]["text"]["text"] == "🔴 CRISIS · acme — updated"  # the parent shows the current state
    assert calls[3][1]["thread_ts"] == "1700000000.000200" and calls[3][1]["blocks"][0]["text"]["text"].startswith("✅")
    assert calls[4][1]["blocks"][0]["text"]["text"] == "✅ RESOLVED · acme — peak CRISIS 88/100"
    # A re-run of the same events posts nothing.
    for event in ("open", "escalate", "resolve"):
        assert deliver(store.get_alert(alert.id), event, [n], store) == []
    assert len(server.requests) == 5


def test_slack_bot_ratelimited_then_ok_and_invalid_auth_is_final(server, caplog):
    n, sleeps = bot(server)
    server.script("/api/chat.postMessage", Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "3"}))
    d = n.send(make_alert(), "open")
    assert d.status == "sent" and sleeps.waits == [3.0]
    server.script("/api/chat.postMessage", Reply(200, {"ok": False, "error": "invalid_auth"}))
    with caplog.at_level(logging.DEBUG):
        d = n.send(make_alert(), "open")
    assert d.status == "failed" and d.attempts == 1 and "invalid_auth" in d.error
    assert BOT_TOKEN not in d.error and all(BOT_TOKEN not in r.getMessage() for r in caplog.records)
    server.script("/api/chat.postMessage", Reply(503, "<html>maintenance</html>", {"Content-Type": "text/html"}))
    d = n.send(make_alert(), "open")
    assert d.status == "sent" and d.attempts == 2


def test_slack_bot_escapes_hostile_posts(server):
    n, _ = bot(server)
    n.send(make_alert(), "open")
    text = json.dumps(server.requests[0].json)
    for marker in ("<!channel>", "<!here>", "<@U024BE7LH>", "<https://evil.example/phish|bank.com>"):
        assert marker not in text
    assert "&lt;!channel&gt;" in text


# -- e-mail over SMTP with STARTTLS (aiosmtpd on 127.0.0.1) ------------------------------------

@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vigie-test-smtp")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return folder / "cert.pem", folder / "key.pem"


@pytest.fixture
def smtp_server(tls_files):
    import socket
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    class Inbox:
        def __init__(self):
            self.messages = []
            self.tls_seen = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
            self.messages.append(envelope)
            self.tls_seen.append(session.ssl is not None)
            return "250 OK"

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"alerts@acme.example" and auth_data.password == b"smtp-pa55word"
        return AuthResult(success=ok, handled=False)

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(*tls_files)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=ctx, require_starttls=True,
                            authenticator=authenticator, auth_require_tls=True)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def email_notifier(port, tls_files, monkeypatch, password="smtp-pa55word"):
    monkeypatch.setenv("SMTP_PASSWORD", password)
    retry, _ = fast_retry(2)
    [n] = build_notifiers([ChannelConfig(type="email", options={
        "host": "127.0.0.1", "port": port, "tls": "starttls", "from": "vigie@acme.example",
        "to": ["crisis@acme.example", "cm@acme.example"], "username": "alerts@acme.example",
        "ca_file": str(tls_files[0])})], retry=retry)
    return n


def test_email_over_starttls_with_plain_and_escaped_html_parts(smtp_server, tls_files, monkeypatch):
    import email
    from email import policy

    inbox, port = smtp_server
    n = email_notifier(port, tls_files, monkeypatch)
    alert = make_alert(Level.CRISIS, 81)
    d = n.send(alert, "escalate")
    assert d.status == "sent", d.error
    [env] = inbox.messages
    assert inbox.tls_seen == [True]
    assert env.mail_from == "vigie@acme.example" and env.rcpt_tos == ["crisis@acme.example", "cm@acme.example"]
    msg = email.message_from_bytes(env.content, policy=policy.default)
    assert msg["Subject"] == "[Vigie] CRISIS · acme — escalated — risk 81/100"
    assert msg["In-Reply-To"] == f"<{alert.id}@vigie.alerts>"
    plain = msg.get_body(("plain",)).get_content()
    html_part = msg.get_body(("html",)).get_content()
    assert "CRISIS · acme — escalated" in plain and "@user1 (301 followers" in plain
    assert "<!channel>" in plain  # plain text shows the post as written
    assert "<script>" not in html_part and "&lt;script&gt;alert(1)&lt;/script&gt;" in html_part
    assert "&lt;!channel&gt; &lt;!here&gt;" in html_part
    assert '<a href="https://social.example/p/1">open post</a>' in html_part
    assert "smtp-pa55word" not in env.content.decode("utf-8", "replace")


def test_email_wrong_password_is_final_and_not_logged(smtp_server, tls_files, monkeypatch, caplog):
    inbox, port = smtp_server
    n = email_notifier(port, tls_files, monkeypatch, password="wr0ng-pa55word")
    with caplog.at_level(logging.DEBUG):
        d = n.send(make_alert(), "open")
    assert d.status == "failed" and d.attempts == 1 and "authentication refused (535)" in d.error
    assert inbox.messages == []
    assert all("wr0ng-pa55word" not in r.getMessage() for r in caplog.records)


def test_email_untrusted_certificate_is_refused(smtp_server, monkeypatch):
    inbox, port = smtp_server
    monkeypatch.setenv("SMTP_PASSWORD", "smtp-pa55word")
    [n] = build_notifiers([ChannelConfig(type="email", options={
        "host": "127.0.0.1", "port": port, "from": "vigie@acme.example", "to": ["crisis@acme.example"],
        "username": "alerts@acme.example"})], retry=fast_retry(2)[0])
    d = n.send(make_alert(), "open")
    assert d.status == "failed" and "certificate not trusted" in d.error and inbox.messages == []


def test_all_channels_from_config_one_failing_does_not_block_the_rest(tmp_path, server, monkeypatch):
    monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", ROUTING_KEY)
    monkeypatch.setenv("TEAMS_WEBHOOK_URL", server.url + "/teams/x?sig=abc123")
    monkeypatch.setenv("VIGIE_WEBHOOK_SECRET", "sh4red-s3cret")
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_WEBHOOK_URL", server.url + "/services/T/B/x")
    server.script("/teams", Reply(403, "forbidden"))
    out = io.StringIO()
    notifiers = build_notifiers([
        ChannelConfig(type="teams"),
        ChannelConfig(type="console", min_level="watch"),
        ChannelConfig(type="slack_webhook"),
        ChannelConfig(type="slack_bot", channel="C0VIGIE", url=server.url + "/api/"),
        ChannelConfig(type="pagerduty", min_level="crisis", url=server.url),
        ChannelConfig(type="webhook", url=server.url + "/hook"),
    ], console=out, retry=fast_retry(2)[0])
    got = deliver(make_alert(Level.CRISIS, 90), "open", notifiers, open_store(tmp_path))
    assert [(d.channel, d.status) for d in got] == [
        ("teams", "failed"), ("console", "sent"), ("slack_webhook", "sent"), ("slack_bot", "sent"),
        ("pagerduty", "sent"), ("webhook", "sent")]


def test_a_provider_that_does_not_answer_in_time_is_retried_then_reported(server):
    server.script("/v2/enqueue", Reply(202, {"status": "success", "dedup_key": "x"}, delay=1.0))
    retry, sleeps = fast_retry(2)
    pd = PagerDutyNotifier(ROUTING_KEY, base_url=server.url, retry=retry, timeout=0.3)
    d = pd.send(make_alert(), "open")
    assert d.status == "sent" and d.attempts == 2 and sleeps.waits == [1.0]
    server.script("/v2/enqueue", *[Reply(202, {"status": "success"}, delay=1.0)] * 2)
    d = pd.send(make_alert(), "open")
    assert d.status == "failed" and d.attempts == 2 and "no answer within 0.3s" in d.error
