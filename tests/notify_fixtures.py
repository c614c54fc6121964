"""Alerts and stores for the notifier tests (alerts/notify). All texts are written for these tests."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from alerts.notify.base import RetryPolicy
from vigie.models import Alert, AlertState, Driver, Level
from vigie.store.sqlite import SqliteStore

T0 = datetime(2026, 3, 10, 14, 5, tzinfo=timezone.utc)

HOSTILE = (
    "<!channel> <!here> <@U024BE7LH> refund now! see <https://evil.example/phish|bank.com> & "
    "[bold red]ALERT[/bold red] \u202egnp.exe <script>alert(1)</script> [click](https://evil.example) \x1b[2J"
)


def evidence(n: int = 5, hostile_first: bool = True) -> list[dict]:
    items = []
    for i in range(n):
        text = HOSTILE if (hostile_first and i == 0) else f"Commande {i} jamais livrée, service client injoignable #acme"
        items.append({
            "id": f"replay:{i}",
            "url": f"https://social.example/p/{i}",
            "author": f"user{i}" if i else "<@U0ADMIN>",
            "followers": 120_000 if i == 0 else 300 + i,
            "text": text,
            "engagement": 4000 - i,
            "sentiment": "neg",
            "created_at": "2026-03-10T14:00:00Z",
        })
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
        history=[{"at": "2026-03-10T13:55:00Z", "event": "open", "level": "watch", "risk": 38.0},
                 {"at": "2026-03-10T14:05:00Z", "event": "escalate", "level": level.value, "risk": risk}],
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
