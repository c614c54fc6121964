"""Kept so `alerts.notify.slack` imports keep working: the channel lives in alerts/notify/channels/slack.py."""

from alerts.notify.channels.slack import SlackBotNotifier, SlackWebhookNotifier  # noqa: F401
