"""Teams rendering (the Teams channel: alerts/notify/channels/teams.py): the Adaptive Card of an alert event, and the digest.

`message` wraps the card the way the Workflows template expects it.

Injection safety: Adaptive Card `TextBlock`s interpret a Markdown subset (`[label](url)` links, emphasis),
so no untrusted text ever goes in a TextBlock. Post text, author handles and driver explanations go in
`RichTextBlock` → `TextRun` elements, which are rendered literally. Links are `Action.OpenUrl` buttons
built from `content.safe_url` URLs only.
"""

from __future__ import annotations

from typing import Any

from alerts.notify import content
from alerts.notify.i18n import EN, Translate
from vigie.core.models import Alert, Level, iso

CARD_VERSION = "1.4"
COLOR = {Level.WATCH: "Warning", Level.WARNING: "Warning", Level.CRISIS: "Attention"}


def literal(text: str, **style: Any) -> dict[str, Any]:
    """Untrusted text, shown as is (TextRun does not parse Markdown)."""
    return {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": text, **style}]}


# Signed one-click links (vigie/core/action_links.py) shown as card buttons, with their catalogue labels.
LINK_LABELS = {"acknowledge": "Acknowledge", "resolve": "Resolve", "false_alarm": "False alarm", "mute_2h": "Mute 2 h"}


def card(alert: Alert, event: str, evidence_posts: int = 5, _: Translate = EN, mention: dict[str, str] | None = None,
         links: dict[str, str] | None = None) -> dict[str, Any]:
    resolved = event == "resolve"
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "size": "Large", "weight": "Bolder", "wrap": True,
         "color": "Good" if resolved else COLOR.get(alert.level, "Default"),
         "text": f"{'✅' if resolved else content.LEVEL_EMOJI.get(alert.level, '')} {content.title(alert, event, _)}"},
        {"type": "FactSet", "facts": [
            {"title": _("Risk"), "value": f"{alert.risk:.0f}/100 (" + _("peak") + f" {alert.peak_risk:.0f})"},
            {"title": _("State"), "value": _(alert.state.value)},
            {"title": _("Opened"), "value": iso(alert.opened_at) or ""},
            {"title": _("Alert"), "value": alert.id},
        ]},
    ]
    entities = []
    if mention and alert.level == Level.CRISIS and event in ("open", "escalate"):
        # A Teams mention: the <at> text in a TextBlock plus its entity (Adaptive Cards in Teams).
        at = f"<at>{mention['name']}</at>"
        body.insert(1, {"type": "TextBlock", "wrap": True, "text": _("{who} crisis: please look now", who=at)})
        entities.append({"type": "mention", "text": at, "mentioned": {"id": mention["id"], "name": mention["name"]}})
    trend = content.risk_trend(alert)
    if len(trend) > 1:
        body.append({"type": "TextBlock", "wrap": True, "fontType": "Monospace",
                     "text": f"Trend {content.sparkline(trend)} {trend[0]:.0f} → {trend[-1]:.0f}"})
    if not resolved:
        drivers = content.top_drivers(alert)
        if drivers:
            body.append({"type": "TextBlock", "weight": "Bolder", "text": _("Why"), "spacing": "Medium"})
            body += [literal(f"• {content.driver_name(d.name, _)} +{d.points:.0f} pts — {content.explanation(d, _)}")
                     for d in drivers]
        story = content.story_lines(alert, _, excerpt_chars=200, per_part=2)
        if story:
            body.append({"type": "TextBlock", "weight": "Bolder", "text": _("Story"), "spacing": "Medium", "separator": True})
        for line in story:
            items: list[dict[str, Any]] = [literal(f"{line.label}: {line.text}")]
            if line.quote:
                items.append(literal(line.quote, italic=True))
            block: dict[str, Any] = {"type": "Container", "items": items, "spacing": "Small"}
            if line.url:
                block["selectAction"] = {"type": "Action.OpenUrl", "url": line.url, "title": _("Open post")}
            body.append(block)
        posts = content.evidence(alert, evidence_posts, excerpt_chars=400)
        if posts:
            body.append({"type": "TextBlock", "weight": "Bolder", "text": _("Evidence"), "spacing": "Medium", "separator": True})
        for p in posts:
            item: list[dict[str, Any]] = [
                literal(f"@{p.author} · " + _("{n} followers", n=p.followers) + " · " + _("{n} interactions", n=p.engagement)
                        + (f" · {p.sentiment}" if p.sentiment else ""), weight="Bolder"),
                literal(p.excerpt, italic=True),
            ]
            container: dict[str, Any] = {"type": "Container", "items": item, "spacing": "Small"}
            if p.url:
                container["selectAction"] = {"type": "Action.OpenUrl", "url": p.url, "title": _("Open post")}
            body.append(container)
    for name, path in content.local_paths(alert).items():
        body.append(literal(f"{name}: {path}", isSubtle=True))
    actions = [{"type": "Action.OpenUrl", "title": _("Open {name}", name=name), "url": url}
               for name, url in content.links(alert).items()]
    if links and not resolved:
        actions += [{"type": "Action.OpenUrl", "title": _(LINK_LABELS[a]), "url": url} for a, url in links.items()
                    if a in LINK_LABELS]
    msteams: dict[str, Any] = {"width": "Full"}
    if entities:
        msteams["entities"] = entities
    out: dict[str, Any] = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
                           "version": CARD_VERSION, "msteams": msteams, "body": body}
    if actions:
        out["actions"] = actions
    return out


def message(alert: Alert, event: str, evidence_posts: int = 5, _: Translate = EN, mention: dict[str, str] | None = None,
            links: dict[str, str] | None = None) -> dict[str, Any]:
    return {"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
                                                "content": card(alert, event, evidence_posts, _, mention, links)}]}


def digest_message(items: list[tuple[Alert, str]]) -> dict[str, Any]:
    head, lines = content.digest(items)
    body: list[dict[str, Any]] = [{"type": "TextBlock", "size": "Large", "weight": "Bolder", "wrap": True, "text": head}]
    for line in lines:
        block: dict[str, Any] = {"type": "Container", "separator": True, "items": [literal(line.text, weight="Bolder")]}
        if line.top_post:
            block["items"].append(literal(f"@{line.top_post.author}: {line.top_post.excerpt}", italic=True))
        kibana = content.links(line.alert).get("kibana")
        if kibana:
            block["selectAction"] = {"type": "Action.OpenUrl", "url": kibana, "title": "Crisis room"}
        body.append(block)
    card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": CARD_VERSION, "msteams": {"width": "Full"}, "body": body}
    return {"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                                                "contentUrl": None, "content": card}]}
