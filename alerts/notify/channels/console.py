"""Console channel (`type: console`): the embedded default and the ops path. Readable in a log file, coloured
on a terminal (rich).

Post text goes through `rich.text.Text` (never through markup), so a post containing `[bold red]` or
ANSI escapes prints as the characters it is.
"""

from __future__ import annotations

from typing import Any, TextIO

from rich.console import Console
from rich.text import Text

from alerts.notify import content
from alerts.notify.base import Notifier
from alerts.notify.i18n import EN, Translate, translator
from alerts.notify.rules import Rules
from vigie.core.config import CHANNELS, ChannelConfig
from vigie.core.models import Alert, Delivery, Level, iso

STYLE = {Level.WATCH: "yellow", Level.WARNING: "dark_orange", Level.CRISIS: "bold red"}
EVIDENCE_POSTS = 3


@CHANNELS.decorator("console")
class ConsoleConfig(ChannelConfig):
    """No key of its own, no secret; it takes coverage alerts too (it is the ops path)."""

    default_kinds = ("risk", "coverage")

    def notifier(self, setup: Any) -> "ConsoleNotifier":
        return ConsoleNotifier(setup.console, language=setup.options.language, **setup.common())


class ConsoleNotifier(Notifier):
    default_kinds = ConsoleConfig.default_kinds
    # A delivery interrupted by a crash is printed again: at-least-once, a repeated local line costs nothing.
    after_interruption = "resend"
    digest = True

    def __init__(self, console: Console | TextIO | None = None, min_level: Level = Level.WATCH, channel: str = "console",
                 *, rules: Rules | None = None, kinds: Any = None, language: str = "en"):
        super().__init__(channel=channel, min_level=min_level, rules=rules, kinds=kinds)
        self._ = translator(language)
        if console is None:
            console = Console(highlight=False)
        elif not isinstance(console, Console):
            # A plain stream (a file, StringIO in tests): colour only if it is a terminal.
            console = Console(file=console, highlight=False, soft_wrap=True)
        self.console = console

    def send(self, alert: Alert, event: str) -> Delivery:
        try:
            self.console.print(render(alert, event, self._))
        except Exception as exc:  # a closed stream must not stop the other channels
            return Delivery(self.channel, event, "failed", attempts=1, error=f"{type(exc).__name__}: {exc}", at=alert.updated_at)
        return Delivery(self.channel, event, "sent", attempts=1, at=alert.updated_at)

    def notice(self, text: str) -> None:
        """The ops path: delivery problems (a message given up, a maybe-lost one) told to whoever reads this."""
        self.console.print(Text(f"⚠ {text}", style="bold magenta"))

    def send_digest(self, items: list[tuple[Alert, str]]) -> Delivery:
        first = items[0][0]
        try:
            self.console.print(render_digest(items, self._))
        except Exception as exc:
            return Delivery(self.channel, "digest", "failed", attempts=1, error=f"{type(exc).__name__}: {exc}", at=first.updated_at)
        return Delivery(self.channel, "digest", "sent", attempts=1, at=first.updated_at)


def render(alert: Alert, event: str, _: Translate = EN, evidence_posts: int = EVIDENCE_POSTS, story_part: int = 2) -> Text:
    """The alert as console lines, in the channel's language (`_`, alerts/notify/i18n.py). `vigie alerts show`
    prints it too, with every evidence post and more of the story."""
    style = STYLE.get(alert.level, "bold")
    out = Text()
    when = iso(alert.updated_at) or ""
    if alert.kind == "coverage":  # a blind source (alerts/coverage.py): no risk, no evidence
        out.append(content.title(alert, event, _), style="bold green" if event == "resolve" else "bold yellow")
        out.append(f"  {content.summary_line(alert, _)}  {when}  [{alert.id}]\n")
        return out
    if event == "resolve":
        out.append("✔ " + _("RESOLVED · {topic}", topic=alert.topic_id), style="bold green")
        out.append("  " + _("peak {peak}/100 ({level}), now risk {risk}", peak=f"{alert.peak_risk:.0f}",
                            level=_((alert.peak_level or alert.level).value), risk=f"{alert.risk:.0f}")
                   + f"  {when}  [{alert.id}]\n")
        return out
    out.append(f"{content.LEVEL_EMOJI.get(alert.level, '')} {content.title(alert, event, _)}", style=style)
    out.append(f"  {content.summary_line(alert, _)}  {when}  [{alert.id}]\n")
    if alert.acknowledged_by:
        out.append("  " + _("acknowledged by {who}", who=content.clean(alert.acknowledged_by, 60)) + "\n", style="dim")
    trend = content.risk_trend(alert)
    if len(trend) > 1:
        out.append("  " + _("trend") + f" {content.sparkline(trend)} {trend[0]:.0f}→{trend[-1]:.0f}\n")
    drivers = content.top_drivers(alert)
    if drivers:
        out.append("  " + _("why:") + "\n", style="bold")
        for d in drivers:
            out.append(f"    +{d.points:4.1f} {content.driver_name(d.name, _)}: {content.explanation(d, _, 200)}\n")
    story = content.story_lines(alert, _, excerpt_chars=160, per_part=story_part)
    if story:
        out.append("  " + _("story:") + "\n", style="bold")
        for line in story:
            out.append(f"    {line.label}: ", style="bold")
            out.append(line.text + (f" {line.url}" if line.url else "") + "\n")
            if line.quote:
                out.append(f"       “{line.quote}”\n")
    posts = content.evidence(alert, evidence_posts, excerpt_chars=200)
    if posts:
        out.append("  " + _("evidence:") + "\n", style="bold")
        for i, p in enumerate(posts, 1):
            out.append(f"    {i}. @{p.author}", style="bold")
            counts = [_("{n} followers", n=p.followers), _("{n} interactions", n=p.engagement)]
            out.append(" (" + ", ".join(counts + ([_(p.sentiment)] if p.sentiment else [])) + ")")
            if p.url:
                out.append(f" {p.url}", style="cyan")
            out.append(f"\n       “{p.excerpt}”\n")
    for name, value in {**content.links(alert), **content.local_paths(alert)}.items():
        out.append(f"  {name}: {value}\n", style="dim")
    return out


def render_digest(items: list[tuple[Alert, str]], _: Translate = EN) -> Text:
    head, lines = content.digest(items, _)
    out = Text()
    out.append(head + "\n", style="bold")
    for line in lines:
        out.append(f"  {line.text}  [{line.alert.id}]\n", style=STYLE.get(line.alert.level, ""))
        if line.top_post:
            out.append(f"     @{line.top_post.author}: “{line.top_post.excerpt}”\n", style="dim")
    return out

