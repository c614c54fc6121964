"""Kept so `alerts.notify.pagerduty` imports keep working: the channel lives in alerts/notify/channels/pagerduty.py."""

from alerts.notify.channels.pagerduty import PagerDutyNotifier  # noqa: F401
