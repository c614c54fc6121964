"""Kept so `alerts.notify.teams` imports keep working: the channel is alerts/notify/channels/teams.py, the
card it sends alerts/notify/teams_card.py."""

from alerts.notify.channels.teams import TeamsNotifier  # noqa: F401
from alerts.notify.teams_card import LINK_LABELS, card, digest_message, message  # noqa: F401
