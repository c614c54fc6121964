"""A realistic alert, written for the notifier tests and bench/notify.py: a warning on topic "acme" opened at T0,
with four drivers, an escalation history, links, and evidence whose first post is hostile text (Slack mentions,
markup, a right-to-left override, a script tag, an escape sequence) that every channel must render as inert data.
Never used in production (`vigie notify test` sends its own, vigie.app.cli.notify.sample_alert).
"""

from __future__ import annotations

from datetime import datetime, timezone

from vigie.core.models import Alert, AlertState, Driver, EvidenceItem, HistoryEntry, Level, utc

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
