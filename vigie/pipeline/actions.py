"""The pipeline step behind every human action (alerts/actions.py): read the alert, apply the action,
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
from typing import Any, Iterable

from alerts.actions import ActionRefused, ActionRequest, Allowed, Outcome, apply, records

# What the app layer (`vigie serve`, the CLI) uses, from the pipeline (house rules: apps import the
# pipeline and the core, not detection).
__all__ = ["ActionBusy", "ActionRefused", "ActionRequest", "ActionResult", "Allowed", "owed_entries", "perform", "records"]
from vigie.pipeline.outbox import DrainReport, OutboxPolicy, drain, plan, told
from vigie.core.config import VigieConfig
from vigie.pipeline.steps import new_owner, store_lease
from vigie.store.base import Store


class ActionBusy(RuntimeError):
    """Another process held the store's lease for longer than `delivery.lease_wait_s`: try again."""


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
    Raises KeyError (no such alert), alerts.actions.ActionRefused (a bad request) or ActionBusy."""
    policy = OutboxPolicy.from_config(config.delivery)
    owner = new_owner()
    with store_lease(store, owner, config.delivery, wait_s) as lease:
        if lease is None:
            raise ActionBusy("the store is busy (another process holds its lease); try again in a few seconds")
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
