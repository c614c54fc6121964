"""The Slack Block Kit message for an alert, shared by the webhook and bot-token notifiers.

Injection safety: every piece of text that did not come from Vigie itself (post text, author handles,
driver explanations that quote terms, local paths) goes through `esc`, which escapes `&`, `<`, `>`
(Slack's control characters), so a post cannot produce `<!channel>`, `<!here>`, `<@U123>` or a disguised
link `<https://evil|bank.com>`. Untrusted mrkdwn objects are also `verbatim` (no auto-linking of
channel names or URLs). Links are only built from `content.safe_url` URLs.

Limits (Block Kit): header ≤ 150 chars, section text ≤ 3000, context element ≤ 2000 (we stay far below),
button text ≤ 75, button URL ≤ 3000, ≤ 50 blocks, fallback `text` kept ≤ 3000.
"""

from __future__ import annotations

from typing import Any

from alerts.notify import content
from alerts.notify.i18n import EN, Translate
from vigie.core.models import Alert, Level, iso

HEADER_MAX = 150
SECTION_MAX = 3000
CONTEXT_MAX = 2000
BUTTON_TEXT_MAX = 75
MAX_BLOCKS = 50
EVIDENCE_MIN, EVIDENCE_MAX = 3, 5


def esc(text: Any) -> str:
    """Slack's escaping: `&` first (so entities are not double-read), then `<` and `>`."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cap(text: str, limit: int) -> str:
    # Cap *after* escaping: entities count against the limit. Never cut inside an entity.
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def mrkdwn(text: str, limit: int = SECTION_MAX) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": _cap(text, limit), "verbatim": True}


def link(url: str, label: str) -> str:
    """`<url|label>` with a safe URL (no `|`, `<`, `>`, spaces) and an escaped label."""
    return f"<{esc(url)}|{esc(label)}>"


def mention_text(mention: str | None) -> str:
    """A Slack mention from configuration: a user group id (S...) -> <!subteam^S...>, a user id (U/W...)
    -> <@U...>. Only ids are accepted (validated in the channel options), never free text."""
    if not mention:
        return ""
    return f"<!subteam^{mention}>" if mention.startswith("S") else f"<@{mention}>"


def crisis_call(alert: Alert, event: str) -> bool:
    """The events that call people in: a crisis opening or an escalation to crisis."""
    return alert.level == Level.CRISIS and event in ("open", "escalate")


def fallback_text(alert: Alert, event: str, _: Translate = EN, mention: str | None = None) -> str:
    """Top-level `text`: shown in notifications and by clients that cannot render blocks."""
    call = mention_text(mention) + " " if mention and crisis_call(alert, event) else ""
    return call + _cap(esc(f"{content.title(alert, event, _)}: {content.summary_line(alert, _)}"), 3000 - len(call))


# Interactive buttons (Slack bot with `options.interactive: true` and `vigie serve` receiving the clicks):
# action_id "vigie:<action>", value = the alert id; the overflow menu of an evidence post carries
# "<alert id>|<post index>|<label>" (option values are capped at 150 characters, post ids are not).
BUTTONS = (("acknowledge", "Acknowledge", "primary"), ("resolve", "Resolve", None), ("false_alarm", "False alarm", None),
           ("real_crisis", "Real crisis", "danger"), ("mute_2h", "Mute 2 h", None))
RELABELS = (("negative", "Sentiment wrong: negative"), ("neutral", "Sentiment wrong: neutral"),
            ("positive", "Sentiment wrong: positive"))


def action_buttons(alert: Alert, _: Translate = EN) -> dict[str, Any]:
    elements = []
    for action, label, style in BUTTONS:
        button: dict[str, Any] = {"type": "button", "action_id": f"vigie:{action}", "value": alert.id,
                                  "text": {"type": "plain_text", "text": _cap(_(label), BUTTON_TEXT_MAX)}}
        if style:
            button["style"] = style
        elements.append(button)
    return {"type": "actions", "block_id": f"vigie_actions:{alert.id}", "elements": elements}


def relabel_menu(alert: Alert, index: int, _: Translate = EN) -> dict[str, Any]:
    return {"type": "overflow", "action_id": f"vigie:sentiment_wrong:{index}",
            "options": [{"text": {"type": "plain_text", "text": _(text)}, "value": f"{alert.id}|{index}|{label}"}
                        for label, text in RELABELS]}


def note_message(alert: Alert, note: str, _: Translate = EN) -> dict[str, Any]:
    """The thread note of a human action (vigie/core/actions.py `describe`)."""
    text = esc(f"{alert.topic_id}: {note}")
    return {"text": _cap(text, 3000), "blocks": [{"type": "context", "elements": [mrkdwn(text, CONTEXT_MAX)]}]}


def story_text(line: content.StoryLine, _: Translate = EN) -> str:
    """A story line in mrkdwn: every piece of data escaped, the excerpt quoted with our own `>`."""
    text = f"• *{esc(line.label)}* {esc(line.text)}"
    if line.url:
        text += " " + link(line.url, _("Open post"))
    if line.quote:
        text += f"\n>{esc(line.quote)}"
    return text


def blocks(alert: Alert, event: str, evidence_posts: int = EVIDENCE_MAX, interactive: bool = False,
           _: Translate = EN, mention: str | None = None) -> list[dict[str, Any]]:
    emoji = "✅" if event == "resolve" else content.LEVEL_EMOJI.get(alert.level, "")
    header = f"{emoji} {content.title(alert, event, _)}".strip()
    out: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cap(header, HEADER_MAX), "emoji": True}}
    ]
    if mention and crisis_call(alert, event):
        # Vigie's own markup (an id from the configuration), so not verbatim: Slack must resolve the mention.
        out.append({"type": "section", "text": {"type": "mrkdwn", "text": _("{who} crisis: please look now",
                                                                             who=mention_text(mention))}})
    lines = [_("*Risk* {risk}/100", risk=f"{alert.risk:.0f}")
             + (_(" (peak {peak})", peak=f"{alert.peak_risk:.0f}") if alert.peak_risk > alert.risk else "")
             + _(" · *state* {state} · *opened* {opened}", state=_(alert.state.value), opened=iso(alert.opened_at))]
    note = content.coverage_note(alert, _) if alert.kind != "coverage" else content.coverage_line(alert, _)
    if note:
        lines.append(f":warning: {esc(note)}")
    trend = content.risk_trend(alert)
    if len(trend) > 1:
        lines.append(_("*Trend*") + f" `{content.sparkline(trend)}` {trend[0]:.0f} → {trend[-1]:.0f}")
    if alert.acknowledged_by:
        lines.append(_("*Acknowledged by* {who}", who=esc(content.clean(alert.acknowledged_by, 60))))
    out.append({"type": "section", "text": mrkdwn("\n".join(lines))})

    drivers = content.top_drivers(alert)
    if drivers and event != "resolve":
        why = "\n".join(f"• *{esc(content.driver_name(d.name, _))}* +{d.points:.0f} pts — {esc(content.explanation(d, _))}"
                        for d in drivers)
        out.append({"type": "section", "text": mrkdwn(_("*Why*") + "\n" + why)})

    story = content.story_lines(alert, _, excerpt_chars=200, per_part=2)
    if story and event != "resolve":
        out.append({"type": "section", "text": mrkdwn(_("*Story*") + "\n" + "\n".join(story_text(line, _) for line in story))})

    posts = content.evidence(alert, max(EVIDENCE_MIN, min(EVIDENCE_MAX, evidence_posts)), excerpt_chars=500)
    if posts and event != "resolve":
        out.append({"type": "divider"})
        for i, p in enumerate(posts):
            meta = (f"*@{esc(p.author)}* · " + _("{n} followers", n=p.followers) + " · "
                    + _("{n} interactions", n=p.engagement) + (f" · {esc(p.sentiment)}" if p.sentiment else ""))
            # The excerpt is quoted with `>` at the start of the line: Slack's quote syntax is the literal
            # character we add, the post's own `>` characters are escaped.
            body = f"{meta}\n>{esc(p.excerpt)}"
            if p.url:
                body += "\n" + link(p.url, _("Open post"))
            section: dict[str, Any] = {"type": "section", "text": mrkdwn(body)}
            if interactive:
                section["accessory"] = relabel_menu(alert, i, _)
            out.append(section)

    if interactive and event != "resolve" and alert.state.value != "resolved":
        out.append(action_buttons(alert, _))
    buttons = [
        {"type": "button", "text": {"type": "plain_text", "text": _cap(_("Open {name}", name=name), BUTTON_TEXT_MAX)},
         "url": url, "action_id": f"vigie_link_{i}"}
        for i, (name, url) in enumerate(content.links(alert).items())
    ]
    if buttons:
        out.append({"type": "actions", "elements": buttons[:5]})
    ctx = [f"alert `{alert.id}`", f"dedup `{esc(alert.dedup_key)}`"]
    ctx += [f"{esc(name)}: `{esc(path)}`" for name, path in content.local_paths(alert).items()]
    out.append({"type": "context", "elements": [mrkdwn(" · ".join(ctx), CONTEXT_MAX)]})
    return out[:MAX_BLOCKS]


def message(alert: Alert, event: str, evidence_posts: int = EVIDENCE_MAX, interactive: bool = False,
            _: Translate = EN, mention: str | None = None) -> dict[str, Any]:
    return {"text": fallback_text(alert, event, _, mention),
            "blocks": blocks(alert, event, evidence_posts, interactive, _, mention)}


def digest_message(items: list[tuple[Alert, str]]) -> dict[str, Any]:
    """Many topics at once: one header, one section per alert (≤ 45, the rest counted), links in context."""
    head, lines = content.digest(items)
    out: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": _cap(head, HEADER_MAX), "emoji": True}}]
    shown = lines[: MAX_BLOCKS - 5]
    for line in shown:
        text = f"*{esc(line.text)}*"
        if line.top_post:
            text += f"\n>@{esc(line.top_post.author)}: {esc(line.top_post.excerpt)}"
        kibana = content.links(line.alert).get("kibana")
        if kibana:
            text += "\n" + link(kibana, "Crisis room")
        out.append({"type": "section", "text": mrkdwn(text)})
    if len(lines) > len(shown):
        out.append({"type": "context", "elements": [mrkdwn(f"and {len(lines) - len(shown)} more alerts")]})
    return {"text": _cap(esc(head), 3000), "blocks": out}
