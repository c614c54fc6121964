"""Kept so `alerts.notify.webhook` imports keep working: the channel lives in alerts/notify/channels/webhook.py."""

from alerts.notify.channels.webhook import WebhookNotifier, payload, sign, verify_signature  # noqa: F401
