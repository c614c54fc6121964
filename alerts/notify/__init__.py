"""Alert delivery (issues 2 and 7): console, Slack (webhook, bot threads), PagerDuty, Teams, e-mail, webhook.

    notifiers = notifiers_for(config, console=console)   # build_notifiers(channels, ...) for a bare list
    deliver(alert, "open", notifiers, store)      # once per channel, crash-safe, never raises
    deliver_many([(alert, "open"), ...], notifiers, store)   # a cycle's events; a digest when many topics fire

One module per channel type (alerts/notify/channels/); set-up of each, and how to add one: alerts/notify/README.md.
"""

from alerts.notify.base import Notifier, RetryPolicy, SendError
from alerts.notify.delivery import deliver, deliver_many, event_key
from alerts.notify.build import build_notifiers, notifiers_for

__all__ = ["Notifier", "RetryPolicy", "SendError", "build_notifiers", "notifiers_for", "deliver", "deliver_many", "event_key"]
