"""The pipeline step behind every human action (vigie/core/actions.py): read the alert, apply the action,
commit the change with the messages it owes (the outbox), deliver.

The read-modify-commit happens under the store's detect-and-deliver lease, so:
- two clicks at once (two serve workers, a Slack retry, a PagerDuty echo) are serialised: the second finds
  the first one's record and changes nothing (exactly one record, one PagerDuty acknowledge);
- detection, which also rewrites alerts, can never overwrite an acknowledgement it did not read.

Sync without echo loops: the channel the action came from (`origin_channels`, e.g. the PagerDuty channel
for an acknowledgement taken from a PagerDuty webhook) is not told again; when PagerDuty later reports our
own acknowledge back, the alert already carries it and nothing is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from alerts.notify import notifiers_for
from alerts.policy import acknowledge
from vigie.core.actions import ActionRefused, ActionRequest, Outcome, apply
from vigie.core.config import VigieConfig
from vigie.core.messages import Message, N_, text
from vigie.core.models import Alert
from vigie.pipeline.outbox import DrainReport, OutboxPolicy, drain, plan, told
from vigie.pipeline.steps import DetectReport, commit_and_deliver, new_owner, store_lease
from vigie.store.base import Store

# The step's own names; the vocabulary of a request and its refusal is vigie.core.actions'.
__all__ = ["AckResult", "ActionBusy", "ActionResult", "acknowledge_alert", "channels", "owed_entries", "perform"]


class ActionBusy(RuntimeError):
    """Another process held the store's lease for longer than `delivery.lease_wait_s`: try again. `message`
    is the language-neutral text (vigie/core/messages.py) `vigie serve` translates."""

    def __init__(self, message: Message | str):
        self.message = N_(message) if isinstance(message, str) else message
        super().__init__(text(self.message))


@dataclass
class ActionResult:
    outcome: Outcome
    delivery: DrainReport = field(default_factory=DrainReport)
    entries: int = 0

    @property
    def changed(self) -> bool:
        return self.outcome.changed


def owed_entries(store: Store, notifiers: list[Any], outcome: Outcome, policy: OutboxPolicy,
                 origin_channels: Iterable[str] = ()) -> list[Any]:
    """The outbox entries an action owes: its event to the channels that carried the alert, minus the
    channel it came from. A `note` goes only to channels that can thread one (`notes = True`: Slack bot)."""
    alert = outcome.alert
    skip = set(origin_channels)
    entries = [e for e in plan([(alert, outcome.event)], notifiers, store, policy) if e.channel not in skip]
    if outcome.event == "note":
        known = store.outbox_entries(alert.id)
        noting = {n.channel for n in notifiers if getattr(n, "notes", False)}
        entries = [e for e in entries if e.channel in noting and told(e.channel, alert, known)]
    return entries


def perform(store: Store, config: VigieConfig, notifiers: list[Any], req: ActionRequest, *,
            origin_channels: Iterable[str] = (), deliver: bool = True, wait_s: float | None = None) -> ActionResult:
    """Apply `req` to its alert and commit it with its messages; deliver them unless `deliver=False`.
    Raises KeyError (no such alert), vigie.core.actions.ActionRefused (a bad request) or ActionBusy."""
    policy = OutboxPolicy.from_config(config.delivery)
    owner = new_owner()
    with store_lease(store, owner, config.delivery, wait_s) as lease:
        if lease is None:
            raise ActionBusy(N_("the store is busy (another process holds its lease); try again in a few seconds"))
        alert = store.get_alert(req.alert_id)
        if alert is None:
            raise KeyError(req.alert_id)
        outcome = apply(alert, req)
        if not outcome.changed:
            return ActionResult(outcome)
        entries = owed_entries(store, notifiers, outcome, policy, origin_channels)
        store.commit_bucket([outcome.alert], entries, [], [], lease=lease)
        result = ActionResult(outcome, entries=len(entries))
        if deliver and entries:
            result.delivery = drain(store, notifiers, policy,
                                    keep_lease=lambda: store.acquire_lease(lease.name, lease.owner, lease.ttl_s))
        return result


def channels(config: VigieConfig) -> list[Any]:
    """The configured channels' notifiers (a missing secret is a configuration error, raised here)."""
    return notifiers_for(config)


@dataclass
class AckResult:
    alert: Alert  # as acknowledged (or as found, when it already was)
    already: bool = False  # it was acknowledged before: nothing changed, nothing sent
    report: DetectReport = field(default_factory=DetectReport)  # the commit and delivery of the messages it owes


def acknowledge_alert(store: Store, config: VigieConfig, alert_id: str, by: str, at: datetime,
                      notifiers: list[Any] | None = None, wait_s: float | None = None) -> AckResult:
    """`vigie alerts ack`: record who acknowledged the alert (it stops repeat paging, not updates), commit it
    with the messages it owes the channels that carried it (PagerDuty acknowledge, a note in the Slack
    thread) and deliver them; through the outbox, so a channel that is down gets them at the next run.
    Read, acknowledged and committed under the detect-and-deliver lease, like every other action: a detector
    updating the alert at the same moment cannot lose the acknowledgement, nor the acknowledgement its update.
    Raises KeyError (no such alert), ActionRefused (no name) or ActionBusy. `notifiers`: default, the
    configured channels."""
    notifiers = channels(config) if notifiers is None else notifiers
    with store_lease(store, new_owner(), config.delivery, wait_s) as lease:
        if lease is None:
            raise ActionBusy(N_("the store is busy (another process holds its lease); try again in a few seconds"))
        alert = store.get_alert(alert_id)
        if alert is None:
            raise KeyError(alert_id)
        if alert.acknowledged_by:
            return AckResult(alert, already=True)
        try:
            acked = acknowledge(alert, by, at)
        except ValueError as exc:  # no name: refused like any bad action
            raise ActionRefused(str(exc)) from None
        return AckResult(acked, report=commit_and_deliver(store, config, notifiers, acked, "acknowledge", lease=lease))
