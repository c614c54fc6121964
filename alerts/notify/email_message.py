"""E-mail rendering (the e-mail channel: alerts/notify/channels/email.py): the plain-text part, the HTML part
and the message headers of an alert event, and the digest.

Every untrusted string is escaped with `html.escape` in the HTML part; the subject contains only Vigie's own
words (level, topic), and the email library refuses CR/LF in headers.
"""

from __future__ import annotations

import html
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from alerts.notify import content
from alerts.notify.i18n import EN, Translate
from vigie.core.models import Alert, Level, iso


# Signed one-click links (vigie/core/action_links.py), in this order, with their catalogue labels.
LINK_LABELS = {"acknowledge": "Acknowledge", "resolve": "Resolve", "false_alarm": "False alarm",
               "real_crisis": "Real crisis", "mute_2h": "Mute 2 h", "mute_24h": "Mute 24 h"}


def plain_text(alert: Alert, event: str, evidence_posts: int = 5, _: Translate = EN,
               actions: dict[str, str] | None = None) -> str:
    lines = [content.title(alert, event, _), content.summary_line(alert, _),
             _("Opened {at} · alert {id}", at=iso(alert.opened_at), id=alert.id), ""]
    trend = content.risk_trend(alert)
    if len(trend) > 1:
        lines += [_("Trend") + f" {content.sparkline(trend)} {trend[0]:.0f} -> {trend[-1]:.0f}", ""]
    if event != "resolve":
        drivers = content.top_drivers(alert)
        if drivers:
            lines.append(_("Why:"))
            lines += [f"  + {d.points:.0f} pts {content.driver_name(d.name, _)}: {content.explanation(d, _)}" for d in drivers]
            lines.append("")
        story = content.story_lines(alert, _, excerpt_chars=300)
        if story:
            lines.append(_("Story:"))
            for line in story:
                lines.append(f"  {line.label}: {line.text}" + (f" {line.url}" if line.url else ""))
                if line.quote:
                    lines.append(f"     \"{line.quote}\"")
            lines.append("")
        posts = content.evidence(alert, evidence_posts, excerpt_chars=500)
        if posts:
            lines.append(_("Evidence:"))
            for i, p in enumerate(posts, 1):
                lines.append(f"  {i}. @{p.author} (" + _("{n} followers", n=p.followers) + ", "
                             + _("{n} interactions", n=p.engagement) + ")")
                lines.append(f"     \"{p.excerpt}\"")
                if p.url:
                    lines.append(f"     {p.url}")
            lines.append("")
    if actions and event != "resolve":
        lines.append(_("Act on this alert (each link asks for confirmation):"))
        lines += [f"  {_(LINK_LABELS[a])}: {url}" for a, url in actions.items() if a in LINK_LABELS]
        lines.append("")
    for name, value in {**content.links(alert), **content.local_paths(alert)}.items():
        lines.append(f"{name}: {value}")
    return "\n".join(lines) + "\n"


def html_body(alert: Alert, event: str, evidence_posts: int = 5, _: Translate = EN,
              actions: dict[str, str] | None = None) -> str:
    e = html.escape
    color = content.LEVEL_COLOR.get(alert.level, "#333")
    parts = [
        "<!doctype html><html><body style=\"font-family:sans-serif\">",
        f"<h2 style=\"color:{color}\">{e(content.title(alert, event, _))}</h2>",
        f"<p><b>{e(content.summary_line(alert, _))}</b><br>"
        + e(_("Opened {at} · alert {id}", at=iso(alert.opened_at) or "", id=alert.id)) + "</p>",
    ]
    trend = content.risk_trend(alert)
    if len(trend) > 1:
        parts.append(f"<p>{e(_('Trend'))} <code>{e(content.sparkline(trend))}</code> {trend[0]:.0f} → {trend[-1]:.0f}</p>")
    if event != "resolve":
        drivers = content.top_drivers(alert)
        if drivers:
            parts.append(f"<h3>{e(_('Why'))}</h3><ul>")
            parts += [f"<li><b>{e(content.driver_name(d.name, _))}</b> +{d.points:.0f} pts — {e(content.explanation(d, _))}</li>"
                      for d in drivers]
            parts.append("</ul>")
        story = content.story_lines(alert, _, excerpt_chars=300)
        if story:
            parts.append(f"<h3>{e(_('Story'))}</h3><ul>")
            for line in story:
                link = f" · <a href=\"{e(line.url, quote=True)}\">{e(_('open post'))}</a>" if line.url else ""
                quote = f"<br><q>{e(line.quote)}</q>" if line.quote else ""
                parts.append(f"<li><b>{e(line.label)}</b> {e(line.text)}{link}{quote}</li>")
            parts.append("</ul>")
        posts = content.evidence(alert, evidence_posts, excerpt_chars=500)
        if posts:
            parts.append(f"<h3>{e(_('Evidence'))}</h3>")
            for p in posts:
                link = f" · <a href=\"{e(p.url, quote=True)}\">{e(_('open post'))}</a>" if p.url else ""
                parts.append(f"<p><b>@{e(p.author)}</b> · {e(_('{n} followers', n=p.followers))} · "
                             f"{e(_('{n} interactions', n=p.engagement))}{link}<br><q>{e(p.excerpt)}</q></p>")
        if actions:
            parts.append("<p>" + " · ".join(f"<a href=\"{e(url, quote=True)}\">{e(_(LINK_LABELS[a]))}</a>"
                                            for a, url in actions.items() if a in LINK_LABELS) + "</p>")
    for name, url in content.links(alert).items():
        parts.append(f"<p><a href=\"{e(url, quote=True)}\">{e(_('Open {name}', name=name))}</a></p>")
    for name, path in content.local_paths(alert).items():
        parts.append(f"<p>{e(name)}: <code>{e(path)}</code></p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def build_message(alert: Alert, event: str, sender: str, to: list[str], evidence_posts: int = 5, _: Translate = EN,
                  cc: list[str] | None = None, actions: dict[str, str] | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = f"[Vigie] {content.title(alert, event, _)} — " + _("risk {risk}/100", risk=f"{alert.risk:.0f}")
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    if cc and alert.level == Level.CRISIS and event in ("open", "escalate"):
        msg["Cc"] = ", ".join(cc)  # `mention:` on a crisis: these people are called in
    msg["Date"] = format_datetime(alert.updated_at)
    msg["Message-ID"] = make_msgid("vigie")
    # Threading in mail clients: every event of an alert refers to the same root id.
    root = f"<{alert.id}@vigie.alerts>"
    if event == "open":
        msg.replace_header("Message-ID", root)
    else:
        msg["In-Reply-To"] = root
        msg["References"] = root
    msg["X-Vigie-Alert"] = alert.id
    msg.set_content(plain_text(alert, event, evidence_posts, _, actions))
    msg.add_alternative(html_body(alert, event, evidence_posts, _, actions), subtype="html")
    return msg


def build_digest(items: list[tuple[Alert, str]], sender: str, to: list[str]) -> EmailMessage:
    head, lines = content.digest(items)
    msg = EmailMessage()
    msg["Subject"] = f"[Vigie] {head}"
    msg["From"], msg["To"] = sender, ", ".join(to)
    msg["Date"] = format_datetime(items[0][0].updated_at)
    msg["Message-ID"] = make_msgid("vigie")
    plain = [head, ""]
    rich = ["<!doctype html><html><body style=\"font-family:sans-serif\">", f"<h2>{html.escape(head)}</h2><ul>"]
    for line in lines:
        plain.append(f"- {line.text} (alert {line.alert.id})")
        item = f"<li><b>{html.escape(line.text)}</b>"
        if line.top_post:
            plain.append(f"    @{line.top_post.author}: \"{line.top_post.excerpt}\"")
            item += f"<br>@{html.escape(line.top_post.author)}: <q>{html.escape(line.top_post.excerpt)}</q>"
        rich.append(item + "</li>")
    rich.append("</ul></body></html>")
    msg.set_content("\n".join(plain) + "\n")
    msg.add_alternative("\n".join(rich), subtype="html")
    return msg
