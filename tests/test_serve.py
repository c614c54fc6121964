"""`vigie serve` against real local servers: uvicorn serving the app, the Slack Web API / PagerDuty Events
API stand-in, signed Slack interactivity payloads (good, forged, replayed), PagerDuty webhook v3 payloads,
signed links (expired, tampered), concurrent clicks, headless Chromium on a one-click link."""

from __future__ import annotations

import json
import subprocess
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from alerts.notify.receiver import LocalReceiver, Reply
from vigie.sim.sample_alerts import make_alert
from serve_fixtures import (LINK_SECRET, ServeRig, block_actions, pd_event, pd_headers, slack_body,
                            slack_headers)
from vigie.core.action_links import action_links, sign
from vigie.core.actions import records
from vigie.app.browser import BASE_FLAGS, find_chromium

ALERT_ID = make_alert().id
DEDUP = make_alert().dedup_key


@pytest.fixture
def receiver():
    with LocalReceiver() as r:
        yield r


@pytest.fixture
def rig(tmp_path, receiver, monkeypatch):
    r = ServeRig(tmp_path, receiver, monkeypatch).start()
    yield r
    r.stop()


def post_slack(rig, payload, **kw):
    body = slack_body(payload)
    return requests.post(rig.url + "/slack/actions", data=body, headers=slack_headers(body, **kw), timeout=10)


def wait_requests(receiver, path: str, n: int = 1, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while len(receiver.to(path)) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    return receiver.to(path)


def pd_acks(receiver):
    return [r.json["event_action"] for r in receiver.to("/v2/enqueue")]


def test_healthz(rig):
    r = requests.get(rig.url + "/healthz", timeout=5)
    assert r.status_code == 200 and r.json() == {"ok": True, "slack": True, "pagerduty": True}


def test_slack_button_acknowledges_everywhere(rig, receiver):
    r = post_slack(rig, block_actions(ALERT_ID, "acknowledge"))
    assert r.status_code == 200
    alert = rig.wait_for(lambda a: records(a))
    [rec] = records(alert)
    assert (rec.action, rec.by, rec.via) == ("acknowledge", "U0ALICE", "slack")
    wait_requests(receiver, "/api/chat.update")
    wait_requests(receiver, "/v2/enqueue")
    assert pd_acks(receiver) == ["acknowledge"]
    [update] = receiver.to("/api/chat.update")
    assert update.json["ts"] == "1700000000.000100" and "Acknowledged by" in json.dumps(update.json["blocks"])
    # PagerDuty then tells us about our own acknowledge: recognised, nothing sent back (no echo loop).
    body = json.dumps(pd_event("incident.acknowledged", DEDUP)).encode()
    answer = requests.post(rig.url + "/pagerduty/webhook", data=body, headers=pd_headers(body), timeout=10)
    assert answer.json() == {"result": "already done"} and pd_acks(receiver) == ["acknowledge"]


def test_forged_and_replayed_slack_requests_are_refused(rig, receiver):
    assert post_slack(rig, block_actions(ALERT_ID, "resolve"), secret="not-the-signing-secret").status_code == 401
    assert post_slack(rig, block_actions(ALERT_ID, "resolve"), ts=int(time.time()) - 301).status_code == 401
    body = slack_body(block_actions(ALERT_ID, "resolve"))
    headers = slack_headers(body)
    tampered = slack_body(block_actions(ALERT_ID, "false_alarm"))
    assert requests.post(rig.url + "/slack/actions", data=tampered, headers=headers, timeout=5).status_code == 401
    time.sleep(0.3)
    assert records(rig.alert()) == [] and receiver.to("/v2/enqueue") == []


def test_slack_actor_not_allowed_is_told_why(tmp_path, receiver, monkeypatch):
    rig = ServeRig(tmp_path, receiver, monkeypatch, extra="  allowed: {slack_users: [U0BOB], slack_groups: [S0CRISIS]}\n").start()
    try:
        receiver.script("/api/usergroups.users.list", Reply(200, {"ok": True, "users": ["U0CAROL"]}))
        post_slack(rig, block_actions(ALERT_ID, "acknowledge", user="U0MALLORY", response_url=receiver.url + "/respond"))
        [reply] = wait_requests(receiver, "/respond")
        assert reply.json["response_type"] == "ephemeral" and "not allowed" in reply.json["text"]
        assert records(rig.alert()) == []
        # A member of the allowed user group may (membership read from usergroups.users.list, cached).
        post_slack(rig, block_actions(ALERT_ID, "false_alarm", user="U0CAROL"))
        alert = rig.wait_for(lambda a: records(a))
        assert records(alert)[0].verdict == "false_alarm"
    finally:
        rig.stop()


def test_slack_overflow_relabels_an_evidence_post(rig):
    post_slack(rig, block_actions(ALERT_ID, "sentiment_wrong:2", selected=f"{ALERT_ID}|2|positive"))
    alert = rig.wait_for(lambda a: records(a))
    [rec] = records(alert)
    assert (rec.post_id, rec.label, rec.was) == ("replay:2", "positive", "neg")


def test_pagerduty_webhook_v3_acknowledge_resolve_and_forged(rig, receiver):
    body = json.dumps(pd_event("incident.acknowledged", DEDUP)).encode()
    forged = requests.post(rig.url + "/pagerduty/webhook", data=body,
                           headers=pd_headers(body, secret="wrong"), timeout=5)
    assert forged.status_code == 401 and records(rig.alert()) == []
    ok = requests.post(rig.url + "/pagerduty/webhook", data=body, headers=pd_headers(body), timeout=10)
    assert ok.json() == {"result": "done"}
    [rec] = records(rig.alert())
    assert (rec.action, rec.by, rec.via) == ("acknowledge", "Jane Oncall", "pagerduty")
    assert receiver.to("/v2/enqueue") == []  # not echoed back to PagerDuty
    assert len(receiver.to("/api/chat.update")) == 1  # Slack shows it
    body = json.dumps(pd_event("incident.resolved", DEDUP)).encode()
    requests.post(rig.url + "/pagerduty/webhook", data=body, headers=pd_headers(body), timeout=10)
    assert rig.alert().state.value == "resolved"
    other = json.dumps(pd_event("incident.priority_updated", DEDUP)).encode()
    assert "ignored" in requests.post(rig.url + "/pagerduty/webhook", data=other, headers=pd_headers(other),
                                      timeout=5).json()["result"]


def test_pagerduty_service_not_allowed(tmp_path, receiver, monkeypatch):
    rig = ServeRig(tmp_path, receiver, monkeypatch, extra="  allowed: {pagerduty_services: [PSVC999]}\n").start()
    try:
        body = json.dumps(pd_event("incident.acknowledged", DEDUP)).encode()
        answer = requests.post(rig.url + "/pagerduty/webhook", data=body, headers=pd_headers(body), timeout=10)
        assert "PSVC001" in answer.json()["result"] and records(rig.alert()) == []
    finally:
        rig.stop()


def _link(rig, action="acknowledge", expires=None):
    expires = expires or datetime.now(timezone.utc) + timedelta(hours=1)
    return f"{rig.url}/a/{sign(LINK_SECRET, ALERT_ID, action, 'dircom@acme.example', expires)}"


def test_link_get_confirms_post_acts(rig, receiver):
    url = _link(rig, "false_alarm")
    page = requests.get(url, timeout=5)
    assert page.status_code == 200 and "Confirm: Mark as false alarm" in page.text and 'method="post"' in page.text
    assert records(rig.alert()) == []  # a scanner's GET does nothing
    done = requests.post(url, timeout=10)
    assert done.status_code == 200 and "Done" in done.text
    [rec] = records(rig.alert())
    assert (rec.verdict, rec.by, rec.via) == ("false_alarm", "dircom@acme.example", "link")
    assert "Already done" in requests.post(url, timeout=10).text


def test_expired_and_tampered_links_are_refused(rig):
    expired = _link(rig, expires=datetime.now(timezone.utc) - timedelta(seconds=1))
    r = requests.post(expired, timeout=5)
    assert r.status_code == 400 and "expired" in r.text
    good = _link(rig, "acknowledge")
    body, mac = good.rsplit("/", 1)[1].split(".")
    other = sign(LINK_SECRET, ALERT_ID, "resolve", "x", datetime.now(timezone.utc) + timedelta(hours=1))
    tampered = f"{rig.url}/a/{other.split('.')[0]}.{mac}"  # resolve claims under acknowledge's signature
    r = requests.post(tampered, timeout=5)
    assert r.status_code == 400 and "signature is invalid" in r.text
    foreign = f"{rig.url}/a/{sign('another-secret-0123456789', ALERT_ID, 'resolve', 'x', datetime.now(timezone.utc) + timedelta(hours=1))}"
    assert requests.post(foreign, timeout=5).status_code == 400
    assert records(rig.alert()) == []


def test_links_a_channel_signs_verify_in_serve_with_a_custom_secret_name(tmp_path, receiver, monkeypatch, caplog, capsys):
    """`serve.link_secret_env: MY_LINK_SECRET`: the Teams channel signs its one-click links with that
    variable's secret and `vigie serve` verifies with it (VIGIE_LINK_SECRET, set to another value by the rig,
    is not the one used); the secret appears in no log line, no output and no message."""
    import logging
    import re

    custom = "my-own-link-secret-0f1e2d3c4b5a6978"
    monkeypatch.setenv("MY_LINK_SECRET", custom)
    monkeypatch.setenv("TEAMS_WEBHOOK_URL", receiver.url + "/teams/workflows/x?sig=abc123")
    caplog.set_level(logging.DEBUG)
    rig = ServeRig(tmp_path, receiver, monkeypatch, extra="  link_secret_env: MY_LINK_SECRET\n",
                   channels="  - type: teams\n    min_level: watch\n"
                            "    options: {retry_attempts: 1, timeout_s: 2, action_links_url: 'https://vigie.example'}\n").start()
    try:
        [teams] = [n for n in rig.service.notifiers if n.channel == "teams"]
        assert teams.send(rig.alert(), "open").status == "sent"
        [card] = receiver.to("/teams")
        tokens = dict(re.findall(r'"title": "([^"]+)", "url": "https://vigie\.example/a/([^"]+)"', json.dumps(card.json)))
        assert tokens, "the Teams card carries signed links"
        ack = f"{rig.url}/a/{tokens['Acknowledge']}"
        page = requests.get(ack, timeout=5)
        assert page.status_code == 200 and "Confirm: Acknowledge" in page.text
        done = requests.post(ack, timeout=10)
        assert done.status_code == 200 and 'id="done"' in done.text
        [rec] = records(rig.alert())
        assert (rec.action, rec.via) == ("acknowledge", "link")
        # A link signed with the default variable's secret (another value here) is refused.
        other = _link(rig, "resolve")
        assert requests.post(other, timeout=5).status_code == 400
        assert records(rig.alert()) == [rec]
    finally:
        rig.stop()
    out = capsys.readouterr()
    seen = caplog.text + out.out + out.err + json.dumps([r.json for r in receiver.requests]) + page.text + done.text
    assert custom not in seen


def test_concurrent_clicks_record_one_action_and_one_pagerduty_acknowledge(rig, receiver):
    url = _link(rig, "acknowledge")
    barrier = threading.Barrier(10)
    answers: list[int] = []

    def click(i: int) -> None:
        barrier.wait()
        if i % 2:
            answers.append(requests.post(url, timeout=30).status_code)
        else:
            answers.append(post_slack(rig, block_actions(ALERT_ID, "acknowledge", user=f"U{i}")).status_code)

    threads = [threading.Thread(target=click, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers.count(200) == 10
    rig.wait_for(lambda a: records(a))
    wait_requests(receiver, "/v2/enqueue")
    time.sleep(1.0)  # the Slack clicks act after their 200: give a double the time to show
    assert len(records(rig.alert(), "acknowledge")) == 1
    assert pd_acks(receiver) == ["acknowledge"]


def test_action_links_helper_signs_every_link_action():
    links = action_links("https://vigie.example/", LINK_SECRET, ALERT_ID, "a@b.example",
                         datetime(2026, 3, 10, tzinfo=timezone.utc))
    assert set(links) == {"acknowledge", "resolve", "false_alarm", "real_crisis", "mute_2h", "mute_24h"}
    assert all(u.startswith("https://vigie.example/a/") for u in links.values())


def test_chromium_opens_a_one_click_link_and_sees_the_confirmation_page(rig):
    exe = find_chromium()
    if exe is None:
        pytest.skip("Chromium not installed (apt-get install chromium)")
    url = _link(rig, "mute_2h")
    with tempfile.TemporaryDirectory(prefix="vigie-chromium-") as profile:
        run = subprocess.run([exe, *BASE_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
                             capture_output=True, text=True, timeout=60)
    assert "Confirm: Mute the topic for 2 hours" in run.stdout and 'id="confirm"' in run.stdout
    assert "dircom@acme.example" in run.stdout
    assert records(rig.alert()) == []  # opening the link did not act


# -- Slack Socket Mode: a local websocket server speaking the envelope/ack protocol ----------------------

class SocketModeServer:
    """apps.connections.open (on the Web API stand-in) hands out this server's ws:// URL; on connect it
    says hello, then sends each queued envelope and records the acks (`{"envelope_id": ...}`)."""

    def __init__(self):
        from websockets.sync.server import serve

        self.acks: list[dict] = []
        self.outgoing: list[dict] = []
        self.connected = threading.Event()
        self._server = serve(self._handler, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}/link/?ticket=t1"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _handler(self, ws):
        ws.send(json.dumps({"type": "hello", "num_connections": 1,
                            "connection_info": {"app_id": "A0VIGIE"}, "debug_info": {"host": "local"}}))
        self.connected.set()
        sent = 0
        while True:
            while sent < len(self.outgoing):
                ws.send(json.dumps(self.outgoing[sent]))
                sent += 1
            try:
                message = ws.recv(timeout=0.1)
            except TimeoutError:
                continue
            except Exception:
                return
            data = json.loads(message)
            if "envelope_id" in data:
                self.acks.append(data)

    def stop(self):
        self._server.shutdown()


def test_socket_mode_button_click_acts_without_a_public_url(tmp_path, receiver, monkeypatch):
    from vigie.app.serve import socket_mode

    ws = SocketModeServer()
    receiver.script("/api/apps.connections.open", *[Reply(200, {"ok": True, "url": ws.url})] * 5)
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-A0VIGIE-socket-test")
    rig = ServeRig(tmp_path, receiver, monkeypatch, extra="  slack_app_token_env: SLACK_APP_TOKEN\n")
    handler = socket_mode(rig.config, rig.service, rig.service.slack_client)
    try:
        assert handler is not None and ws.connected.wait(10)
        [opened] = receiver.to("/api/apps.connections.open")
        assert opened.headers["authorization"] == "Bearer xapp-1-A0VIGIE-socket-test"
        ws.outgoing.append({"envelope_id": "env-1", "type": "interactive", "accepts_response_payload": False,
                            "payload": block_actions(ALERT_ID, "resolve", user="U0ALICE")})
        alert = rig.wait_for(lambda a: records(a), timeout=20)
        assert alert.state.value == "resolved" and records(alert)[0].via == "slack"
        deadline = time.monotonic() + 5
        while not ws.acks and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ws.acks[0]["envelope_id"] == "env-1"
        wait_requests(receiver, "/v2/enqueue")
        assert pd_acks(receiver) == ["resolve"]
    finally:
        handler.close() if handler is not None else None
        ws.stop()


def test_vigie_serve_command_starts_and_answers_healthz(tmp_path, receiver, monkeypatch):
    import os
    import socket
    import sys
    from pathlib import Path

    rig = ServeRig(tmp_path, receiver, monkeypatch)  # writes the config and sets the secrets
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen([sys.executable, "-m", "vigie.app.cli.main", "serve", "--config", str(rig.config_path), "--port", str(port)],
                            env={**os.environ, "PYTHONPATH": str(root)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read() if proc.poll() is not None else "timeout"
                time.sleep(0.2)
        assert r.json()["ok"] is True
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    for secret in ("xoxb-serve", "rk-serve-test", LINK_SECRET):
        assert secret not in out
