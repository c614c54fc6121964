"""What a person can do to an alert, as pure logic: acknowledge, resolve, false alarm, real crisis, mute the
topic for 2 h / 24 h, and "sentiment wrong" on an evidence post.

One function (`apply`) used by every entry point (Slack buttons and Socket Mode, PagerDuty webhooks, signed
e-mail/Teams links, `vigie alerts act`): the entry points only authenticate and translate; the pipeline step
(`vigie.pipeline.actions.perform`) reads the alert, calls `apply` and commits the change with the messages it owes.

Every action is recorded in the alert's history (persisted by both stores, which keep `history` opaque) as a
`HistoryEntry` with `event="action"` (`action`, `by`, `via`, `at`, ...); a repeated action finds its record and changes
nothing (idempotent: two clicks, a retried webhook, PagerDuty echoing our own acknowledge).
Feedback marks (`false_alarm`, `real_crisis`) keep the drivers as they were when the person judged the
alert, so a later adaptation (alerts/feedback.py) knows which signals misled.

A core record, not detection: notify (the Slack thread notes), the pipeline, serve and the CLI all read it, so it
does no I/O and imports only core (house rules: core imports only core; notify never imports detection).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from vigie.core.messages import Message, N_, text
from vigie.core.models import Alert, AlertState, HistoryEntry, iso, utc

ACTIONS = ("acknowledge", "resolve", "false_alarm", "real_crisis", "mute_2h", "mute_24h", "sentiment_wrong")
MUTES = {"mute_2h": timedelta(hours=2), "mute_24h": timedelta(hours=24)}
LABELS = ("negative", "neutral", "positive")
SOURCES = ("slack", "pagerduty", "link", "cli")
# The outbox event each action owes the channels that carried the alert: `acknowledge` and `resolve` are
# the channels' own events (PagerDuty acknowledge/resolve with the same dedup_key); the other actions are
# a `note` (Slack thread note + message updated in place; channels without notes ignore it).
EVENT = {"acknowledge": "acknowledge", "resolve": "resolve"}


class ActionRefused(ValueError):
    """The action cannot be done (unknown action, bad label, unknown post, actor not allowed). `message` says
    why language-neutrally (vigie/core/messages.py): `vigie serve` answers in the channel's language, the
    exception's own text (the CLI's) is English."""

    def __init__(self, message: Message | str):
        self.message = N_(message) if isinstance(message, str) else message
        super().__init__(text(self.message))


@dataclass(frozen=True)
class ActionRequest:
    action: str
    alert_id: str
    actor: str  # a Slack user id, a PagerDuty user, an e-mail address, a CLI name
    via: str  # slack | pagerduty | link | cli
    at: datetime
    post_id: str | None = None  # sentiment_wrong: the evidence post
    label: str | None = None  # sentiment_wrong: the right label

    def check(self) -> None:
        if self.action not in ACTIONS:
            raise ActionRefused(N_("unknown action {action} (one of: {choices})", action=repr(self.action),
                                   choices=", ".join(ACTIONS)))
        if self.via not in SOURCES:
            raise ActionRefused(N_("unknown origin {via} (one of: {choices})", via=repr(self.via),
                                   choices=", ".join(SOURCES)))
        if not self.actor.strip():
            raise ActionRefused(N_("an action needs the name of who does it"))
        if self.action == "sentiment_wrong":
            if self.label not in LABELS:
                raise ActionRefused(N_("'sentiment wrong' needs a label in {labels}, got {label}",
                                       labels=", ".join(LABELS), label=repr(self.label)))
            if not self.post_id:
                raise ActionRefused(N_("'sentiment wrong' needs the id of an evidence post"))


@dataclass
class Outcome:
    alert: Alert  # the alert after the action (a copy; the input is untouched)
    changed: bool  # False: the same action was already recorded (nothing to commit or deliver)
    event: str  # the outbox event owed ("acknowledge", "resolve" or "note")
    record: HistoryEntry | None = None  # the history entry of this action (or the earlier one)

    @property
    def note(self) -> str:
        return describe(self.record)


def _key(req: ActionRequest) -> str:
    # What makes two requests "the same action": a relabel is per post (and label); muting twice for the
    # same length within a mute is one mute; the rest are once per alert.
    if req.action == "sentiment_wrong":
        return f"sentiment_wrong:{req.post_id}:{req.label}"
    return req.action


def records(alert: Alert, action: str | None = None) -> list[HistoryEntry]:
    """The action records of an alert, oldest first (optionally of one action)."""
    return [h for h in alert.history if h.event == "action" and (action is None or h.action == action)]


def apply(alert: Alert, req: ActionRequest) -> Outcome:
    """The alert after `req`, and what it owes the channels. Raises ActionRefused on a bad request."""
    req.check()
    at = utc(req.at)
    key = _key(req)
    for h in records(alert):
        if h.key == key and (req.action not in MUTES or (h.until is not None and h.until > at)):
            return Outcome(alert, False, EVENT.get(req.action, "note"), h)
    if req.action == "acknowledge" and alert.acknowledged_by is not None:
        # Acknowledged another way (`vigie alerts ack`, a verdict): the first acknowledgement stands.
        earlier = HistoryEntry(at=alert.acknowledged_at, event="action", action="acknowledge", by=alert.acknowledged_by,
                               via="earlier")
        return Outcome(alert, False, "acknowledge", earlier)
    out = Alert.from_dict(alert.to_dict())
    rec = HistoryEntry(at=at, event="action", action=req.action, key=key, by=req.actor.strip(), via=req.via,
                       level=out.level, risk=out.risk)
    if req.action in ("acknowledge", "false_alarm", "real_crisis") and out.acknowledged_by is None:
        # Judging an alert means a person has seen it: stop repeat paging (alerts.policy.acknowledge).
        out.acknowledged_by, out.acknowledged_at = req.actor.strip(), at
    if req.action == "resolve":
        if out.state == AlertState.RESOLVED:
            return Outcome(alert, False, "resolve", rec)
        out.state, out.resolved_at = AlertState.RESOLVED, at
    if req.action in ("false_alarm", "real_crisis"):
        rec.verdict = req.action
        rec.judged = {d.name: round(d.points, 2) for d in out.drivers}
    if req.action in MUTES:
        rec.until = at + MUTES[req.action]
        rec.topic = out.topic_id
    if req.action == "sentiment_wrong":
        post = next((p for p in out.evidence if p.id == req.post_id), None)
        if post is None:
            raise ActionRefused(N_("post {post} is not evidence of alert {alert}", post=repr(req.post_id), alert=alert.id))
        rec.post_id, rec.label, rec.was, rec.text = req.post_id, req.label, post.sentiment, post.text
    out.history.append(rec)
    event = EVENT.get(req.action, "note")
    if req.action in ("false_alarm", "real_crisis") and alert.acknowledged_by is None:
        event = "acknowledge"  # the pager stops too
    return Outcome(out, True, event, rec)


def muted_until(alerts: list[Alert | None], at: datetime) -> datetime | None:
    """The end of the longest mute, among these alerts' records, still running at `at` (None: not muted)."""
    at = utc(at)
    ends = [h.until for a in alerts if a is not None for h in records(a) if h.until is not None]
    running = [e for e in ends if e > at]
    return max(running) if running else None


def _english(msgid: str, **values: Any) -> str:
    return msgid.format(**values) if values else msgid


def describe(rec: HistoryEntry | None, _: Any = _english) -> str:
    """A one-line record of an action; `_` is a channel's translator (alerts/notify/i18n.py), passed in
    because this module may not import notify."""
    if rec is None:
        return ""
    what = _(ACTION_NAMES.get(rec.action or "", str(rec.action)))
    who = {"who": rec.by, "via": rec.via, "at": iso(rec.at)}
    if rec.label:
        return _("{what} on post {post} ({was} → {label}) by {who} via {via} at {at}", what=what,
                 post=rec.post_id, was=_(rec.was or "?"), label=_(rec.label), **who)
    if rec.until:
        return _("{what} until {until} by {who} via {via} at {at}", what=what, until=iso(rec.until), **who)
    return _("{what} by {who} via {via} at {at}", what=what, **who)


ACTION_NAMES = {"acknowledge": "Acknowledged", "resolve": "Resolved", "false_alarm": "Marked false alarm",
                "real_crisis": "Marked real crisis", "mute_2h": "Topic muted for 2 h",
                "mute_24h": "Topic muted for 24 h", "sentiment_wrong": "Sentiment corrected"}


@dataclass
class Allowed:
    """Who may act (empty lists = anyone on that origin who reached Vigie authenticated).

    Slack: user ids, or members of the listed user groups / channels (resolved by the serve process with
    usergroups.users.list / conversations.members and passed in `member_of`). PagerDuty: service ids whose
    webhooks are taken. Signed links and the CLI are authorised by the signature / the shell itself."""

    slack_users: list[str] = field(default_factory=list)
    slack_groups: list[str] = field(default_factory=list)
    slack_channels: list[str] = field(default_factory=list)
    pagerduty_services: list[str] = field(default_factory=list)

    def refusal(self, via: str, actor: str, *, member_of: set[str] | frozenset[str] = frozenset(),
                service: str | None = None) -> str | None:
        """Why `actor` may not act from `via` (English), or None when allowed."""
        why = self.refusal_message(via, actor, member_of=member_of, service=service)
        return None if why is None else text(why)

    def refusal_message(self, via: str, actor: str, *, member_of: set[str] | frozenset[str] = frozenset(),
                        service: str | None = None) -> Message | None:
        """`refusal` as a language-neutral message (translated by `vigie serve` for the channel)."""
        if via == "slack":
            if not (self.slack_users or self.slack_groups or self.slack_channels):
                return None
            if actor in self.slack_users or member_of & set(self.slack_groups + self.slack_channels):
                return None
            return N_("{who} is not allowed to act on Vigie alerts (allowed: {settings})", who=f"<@{actor}>",
                      settings="serve.allowed.slack_users, serve.allowed.slack_groups, serve.allowed.slack_channels")
        if via == "pagerduty":
            if not self.pagerduty_services or service in self.pagerduty_services:
                return None
            return N_("PagerDuty service {service} is not in serve.allowed.pagerduty_services", service=repr(service))
        return None
