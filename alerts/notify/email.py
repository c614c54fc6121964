"""Kept so `alerts.notify.email` imports keep working: the channel is alerts/notify/channels/email.py, the
message it sends alerts/notify/email_message.py."""

from alerts.notify.channels.email import EmailNotifier  # noqa: F401
from alerts.notify.email_message import LINK_LABELS, build_digest, build_message, html_body, plain_text  # noqa: F401
