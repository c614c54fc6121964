"""Kept so `alerts.notify.console` imports keep working: the channel lives in alerts/notify/channels/console.py."""

from alerts.notify.channels.console import ConsoleNotifier, render, render_digest  # noqa: F401
