"""Alerts and stores for the notifier tests (alerts/notify). All texts are written for these tests."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from alerts.notify.base import RetryPolicy
from vigie.core.models import Alert, AlertState, Driver, EvidenceItem, HistoryEntry, Level, utc
from vigie.store.sqlite import SqliteStore

T0 = datetime(2026, 3, 10, 14, 5, tzinfo=timezone.utc)

HOSTILE = (
    "<!channel> <!here> <@U024BE7LH> refund now! see <https://evil.example/phish|bank.com> & "
    "[bold red]ALERT[/bold red] \u202egnp.exe <script>alert(1)</script> [click](https://evil.example) \x1b[2J"
)


def evidence(n: int = 5, hostile_first: bool = True) -> list[EvidenceItem]:
    items = []
    for i in range(n):
        text = HOSTILE if (hostile_first and i == 0) else f"Commande {i} jamais livrée, service client injoignable #acme"
        items.append(EvidenceItem(
            id=f"replay:{i}",
            url=f"https://social.example/p/{i}",
            author=f"user{i}" if i else "<@U0ADMIN>",
            followers=120_000 if i == 0 else 300 + i,
            text=text,
            engagement=4000 - i,
            sentiment="neg",
            created_at=utc("2026-03-10T14:00:00Z"),
        ))
    return items


def make_alert(level: Level = Level.WARNING, risk: float = 62.0, topic: str = "acme", **kw) -> Alert:
    key = Alert.make_dedup_key(topic, T0)
    alert = Alert(
        id=Alert.make_id(key),
        dedup_key=key,
        topic_id=topic,
        level=level,
        risk=risk,
        opened_at=T0,
        updated_at=kw.pop("updated_at", T0),
        state=kw.pop("state", AlertState.OPEN),
        drivers=[
            Driver("negative_volume", 30.0, 48, 6.0, "48 negative posts in 30 min vs 6 usual"),
            Driver("crisis_terms", 18.0, 0.4, 0.02, "crisis terms: remboursement, arnaque"),
            Driver("reach", 9.0, 120000, 3000, "negative reach 120k followers"),
            Driver("authors", 0.0, 3, 3, "no change"),
        ],
        evidence=kw.pop("evidence", evidence()),
        peak_risk=kw.pop("peak_risk", risk),
        peak_level=level,
        history=[HistoryEntry(at=utc("2026-03-10T13:55:00Z"), event="open", level=Level.WATCH, risk=38.0),
                 HistoryEntry(at=utc("2026-03-10T14:05:00Z"), event="escalate", level=level, risk=risk)],
        links=kw.pop("links", {"kibana": "https://kibana.example/app/dashboards#/view/vigie-crisis-room?x=1&y=2",
                               "report": "out/report.html"}),
        **kw,
    )
    return alert


def open_store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / "notify.db")


class Sleeps:
    """Records back-off waits instead of spending them (RetryPolicy(sleep=...))."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def fast_retry(attempts: int = 4) -> tuple[RetryPolicy, Sleeps]:
    sleeps = Sleeps()
    return RetryPolicy(attempts=attempts, base_delay=1.0, max_delay=8.0, sleep=sleeps), sleeps


# -- delivery rig: the whole pipeline wired to the local stand-ins (tests/test_delivery_faults.py) -----

SECRETS = {"SLACK_WEBHOOK_URL": "/services/T0VIGIE/B0VIGIE/s3cr3t", "VIGIE_WEBHOOK_SECRET": "rig-webhook-secret",
           "PAGERDUTY_ROUTING_KEY": "rig-routing-key"}
CHANNEL_PATH = {"webhook": "/hook", "pagerduty": "/v2/enqueue", "slack_webhook": "/services"}


class DeliveryRig:
    """A Vigie config whose replay source holds a quiet day then a negative surge (a crisis opens at the
    bucket of 12:00), whose channels are the local stand-ins (signed webhook, PagerDuty, Slack incoming
    webhook, in that order, then the console) and whose store is a SQLite file or osmem (through the
    test proxy). `run` drives one `vigie run` in process; `run_process` in a subprocess, optionally killed
    at a fault-injection point (vigie/core/faults.py)."""

    def __init__(self, tmp_path: Path, receiver, *, store_yaml: str | None = None, delivery: str = "",
                 topics: tuple[str, ...] = ("acme",), options: str = "{retry_attempts: 1, timeout_s: 1}"):
        from test_es_e2e import END, _replay

        self.end = END
        self.receiver = receiver
        self.tmp = tmp_path
        self.replay = tmp_path / "posts.jsonl"
        if not self.replay.exists():
            _replay(self.replay)
        self.db = tmp_path / "vigie.db"
        store_yaml = store_yaml or f"  type: sqlite\n  path: {self.db}\n"
        topic_yaml = "".join(f"  - id: {t}\n    name: {t}\n    query: acme\n" for t in topics)
        channel = f"    min_level: watch\n    options: {options}\n"
        self.config = tmp_path / "vigie.yml"
        self.config.write_text(
            f"topics:\n{topic_yaml}sources:\n  replay:\n    type: replay\n    path: {self.replay}\n"
            f"store:\n{store_yaml}"
            f"channels:\n  - type: webhook\n    url: {receiver.url}/hook\n{channel}"
            f"  - type: pagerduty\n    url: {receiver.url}\n{channel}"
            f"  - type: slack_webhook\n{channel}"
            f"  - type: console\n    min_level: watch\n"
            f"delivery:\n  retry_base_s: 0\n  retry_max_s: 0\n{delivery}",
            encoding="utf-8")

    def env(self) -> dict[str, str]:
        return {**SECRETS, "SLACK_WEBHOOK_URL": self.receiver.url + SECRETS["SLACK_WEBHOOK_URL"]}

    def now(self, minutes: int = 0) -> datetime:
        from datetime import timedelta

        return self.end + timedelta(minutes=minutes)

    def run(self, monkeypatch, minutes: int = 0):
        """One `vigie run` cycle in this process; returns (CycleReport, console output)."""
        import io

        from vigie.core.config import load_config
        from vigie.pipeline.steps import Runtime, run_cycle

        for k, v in self.env().items():
            monkeypatch.setenv(k, v)
        out = io.StringIO()
        rt = Runtime.from_config(load_config(self.config), console=out)
        try:
            return run_cycle(rt, self.now(minutes)), out.getvalue()
        finally:
            rt.close()

    def start_process(self, minutes: int = 0, crash: str | None = None):
        import os
        import subprocess
        import sys

        root = Path(__file__).resolve().parents[1]
        env = {**os.environ, **self.env(), "PYTHONPATH": str(root)}
        env.pop("VIGIE_CRASH_AT", None)
        if crash:
            env["VIGIE_CRASH_AT"] = crash
        return subprocess.Popen([sys.executable, "-m", "vigie.app.cli.main", "run", "--config", str(self.config),
                                 "--now", self.now(minutes).isoformat()], env=env, cwd=str(self.tmp),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def run_process(self, minutes: int = 0, crash: str | None = None, timeout: float = 120):
        proc = self.start_process(minutes, crash)
        out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, out

    def pages(self, channel: str) -> list[str]:
        """What the channel's stand-in accepted, one identity per message: the delivery id (webhook),
        dedup key and action (PagerDuty), the message text (Slack)."""
        got = self.receiver.accepted(CHANNEL_PATH[channel])
        if channel == "webhook":
            return [r.headers["x-vigie-delivery"] for r in got]
        if channel == "pagerduty":
            return [f"{r.json['dedup_key']}:{r.json['event_action']}" for r in got]
        return [r.json["text"] for r in got]
