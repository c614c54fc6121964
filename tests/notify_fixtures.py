"""Stores, retry policies and the delivery rig for the notifier tests (alerts/notify). The alert they send is
vigie.sim.sample_alerts.make_alert (shared with bench/notify.py)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fakes.sleeps import Sleeps

from alerts.notify.base import RetryPolicy
from vigie.store.sqlite import SqliteStore


def open_store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / "notify.db")


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
