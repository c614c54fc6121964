"""`vigie serve` on 127.0.0.1 for the tests: a real uvicorn server in a thread, wired to a SQLite store and
to the local Slack Web API / PagerDuty stand-in (alerts/notify/receiver.py). Signing helpers make requests
the way Slack and PagerDuty document them."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from alerts.notify import notifiers_for
from vigie.sim.sample_alerts import T0, make_alert
from vigie.core.config import load_config
from vigie.core.models import Delivery
from vigie.app.serve import ActionService, build_app, slack_web_client
from vigie.store.sqlite import SqliteStore

SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # the example secret of Slack's documentation
PD_SECRET = "pd-webhook-secret-for-tests"
LINK_SECRET = "link-secret-for-tests-0123456789"


def slack_headers(body: bytes, secret: str = SLACK_SECRET, ts: int | None = None) -> dict[str, str]:
    ts = int(time.time()) if ts is None else ts
    sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sig,
            "Content-Type": "application/x-www-form-urlencoded"}


def slack_body(payload: dict[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def block_actions(alert_id: str, action: str, user: str = "U0ALICE", response_url: str | None = None,
                  selected: str | None = None) -> dict[str, Any]:
    """A block_actions payload shaped as Slack documents it (trimmed to what Vigie reads, plus context)."""
    act: dict[str, Any] = {"action_id": f"vigie:{action}", "block_id": f"vigie_actions:{alert_id}",
                           "type": "button", "value": alert_id, "action_ts": "1700000100.000200"}
    if selected is not None:
        act = {"action_id": f"vigie:{action}", "type": "overflow", "selected_option": {"value": selected}}
    return {"type": "block_actions", "user": {"id": user, "username": "alice", "team_id": "T0VIGIE"},
            "api_app_id": "A0VIGIE", "team": {"id": "T0VIGIE"}, "channel": {"id": "C0VIGIE", "name": "crisis"},
            "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": "C0VIGIE"},
            "message": {"ts": "1700000000.000100"}, "response_url": response_url or "", "trigger_id": "1.2.3",
            "actions": [act]}


def pd_headers(body: bytes, secret: str = PD_SECRET) -> dict[str, str]:
    sig = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-PagerDuty-Signature": f"v1=deadbeef,v1={sig}", "Content-Type": "application/json"}


def pd_event(event_type: str, dedup_key: str, service: str = "PSVC001", agent: str = "Jane Oncall") -> dict[str, Any]:
    """A webhook v3 payload as in PagerDuty's documentation (incident.* events)."""
    return {"event": {
        "id": "01CELIHOV5CKF3WJNCJGC1ZY2P", "event_type": event_type, "resource_type": "incident",
        "occurred_at": "2026-03-10T14:10:00.000Z",
        "agent": {"html_url": "https://acme.pagerduty.com/users/PLH1HKV", "id": "PLH1HKV",
                  "self": "https://api.pagerduty.com/users/PLH1HKV", "summary": agent, "type": "user_reference"},
        "client": None,
        "data": {"id": "PGR0VU2", "type": "incident", "self": "https://api.pagerduty.com/incidents/PGR0VU2",
                 "html_url": "https://acme.pagerduty.com/incidents/PGR0VU2", "number": 2,
                 "status": event_type.split(".")[1], "incident_key": dedup_key,
                 "created_at": "2026-03-10T14:05:00Z", "title": "[Vigie] CRISIS · acme",
                 "service": {"html_url": "https://acme.pagerduty.com/services/PF9KMXH", "id": service,
                             "self": "https://api.pagerduty.com/services/PF9KMXH", "summary": "Vigie",
                             "type": "service_reference"},
                 "assignees": [], "escalation_policy": {"id": "PUS0KTE", "type": "escalation_policy_reference"},
                 "teams": [], "priority": None, "urgency": "high", "conference_bridge": None,
                 "resolve_reason": None}}}


def delivered_alert():
    alert = make_alert()
    alert.deliveries = [Delivery("slack_bot", "open", "sent", attempts=1, response="C0VIGIE/1700000000.000100", at=T0),
                        Delivery("pagerduty", "open", "sent", attempts=1, response=alert.dedup_key, at=T0)]
    return alert


class ServeRig:
    """A config + store + running `vigie serve` app. `extra` is YAML appended under `serve:`, `channels`
    YAML appended to the `channels:` list, `language` the Slack channel's `options.language`."""

    def __init__(self, tmp_path: Path, receiver, monkeypatch, extra: str = "", socket: bool = False, channels: str = "",
                 language: str = "en"):
        self.receiver = receiver
        self.db = tmp_path / "serve.db"
        self.config_path = tmp_path / "vigie.yml"
        self.config_path.write_text(
            "topics:\n  - id: acme\n    name: Acme\n    query: acme\n"
            f"store:\n  type: sqlite\n  path: {self.db}\n"
            "channels:\n"
            f"  - type: slack_bot\n    channel: C0VIGIE\n    url: {receiver.url}/api/\n"
            f"    options: {{retry_attempts: 1, timeout_s: 2, interactive: true, language: {language}}}\n"
            f"  - type: pagerduty\n    url: {receiver.url}\n    options: {{retry_attempts: 1, timeout_s: 2}}\n"
            f"{channels}"
            "delivery: {retry_base_s: 0, retry_max_s: 0, lease_wait_s: 20}\n"
            f"serve:\n  port: 0\n{extra}", encoding="utf-8")
        for k, v in {"SLACK_BOT_TOKEN": "xoxb-serve", "PAGERDUTY_ROUTING_KEY": "rk-serve-test",
                     "SLACK_SIGNING_SECRET": SLACK_SECRET, "PAGERDUTY_WEBHOOK_SECRET": PD_SECRET,
                     "VIGIE_LINK_SECRET": LINK_SECRET}.items():
            monkeypatch.setenv(k, v)
        self.config = load_config(self.config_path)
        store = SqliteStore(self.db)
        store.save_alert(delivered_alert())
        store.close()
        self.service = ActionService(self.config, notifiers_for(self.config),
                                     slack_client=slack_web_client(self.config))
        self._server = None
        self.url = ""

    def start(self) -> "ServeRig":
        import uvicorn

        config = uvicorn.Config(build_app(self.config, self.service), host="127.0.0.1", port=0, log_level="warning")
        self._server = uvicorn.Server(config)
        thread = threading.Thread(target=self._server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self._thread = thread
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)

    def alert(self):
        store = SqliteStore(self.db)
        try:
            return store.get_alert(make_alert().id)
        finally:
            store.close()

    def wait_for(self, predicate, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            alert = self.alert()
            if predicate(alert):
                return alert
            time.sleep(0.05)
        raise AssertionError("condition not reached in time")
