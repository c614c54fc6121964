"""Microsoft Teams channel (`type: teams`) through a Workflows (Power Automate) webhook, posting the Adaptive Card
of alerts/notify/teams_card.py.

The Workflows template "Post to a channel when a webhook request is received" expects
`{"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
"content": <AdaptiveCard>}]}` and answers 202 Accepted. The webhook URL carries a signature (`sig=`): it is a secret.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from alerts.notify.base import Notifier, RetryPolicy, attempt
from alerts.notify.build import LinkOptions
from alerts.notify.http import post_json
from alerts.notify.i18n import translator
from alerts.notify.rules import Rules
from alerts.notify.teams_card import digest_message, message
from vigie.core.config import CHANNELS, ChannelConfig
from vigie.core.models import Alert, Delivery, Level


class TeamsMention(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(description="Entra ID object id or UPN (user@tenant) of the person called on a crisis")
    name: str


class TeamsOptions(LinkOptions):
    mention: TeamsMention | None = None


@CHANNELS.decorator("teams")
class TeamsConfig(ChannelConfig):
    """Reads `webhook_env` (the variable holding the Workflows webhook URL)."""

    secret_key = "webhook_env"
    secret_default = "TEAMS_WEBHOOK_URL"
    options_model = TeamsOptions

    def notifier(self, setup: Any) -> "TeamsNotifier":
        url = setup.secret("Teams Workflows webhook URL")
        opts = setup.options
        return TeamsNotifier(url, retry=setup.retry, timeout=opts.timeout_s, evidence_posts=opts.evidence_posts,
                             language=opts.language, mention=opts.mention.model_dump() if opts.mention else None,
                             action_links=setup.action_links(), **setup.common())


class TeamsNotifier(Notifier):
    # Workflows webhooks have no dedup: an interrupted delivery is marked `unknown` and reported, never
    # repeated (at-most-once; README "Delivery guarantees").
    idempotent = False
    digest = True

    def __init__(self, url: str, *, min_level: Level = Level.WARNING, channel: str = "teams",
                 retry: RetryPolicy | None = None, timeout: float = 10, evidence_posts: int = 5, language: str = "en",
                 mention: dict[str, str] | None = None, action_links: Any = None, rules: Rules | None = None,
                 kinds: Any = None):
        super().__init__(channel=channel, min_level=min_level, rules=rules, kinds=kinds)
        self._ = translator(language)
        self.mention = mention
        self.action_links = action_links  # alert -> {action: signed URL}, or None
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.evidence_posts = evidence_posts
        self._url = url

    def send(self, alert: Alert, event: str) -> Delivery:
        links = self.action_links(alert) if self.action_links and event != "resolve" else None
        body = message(alert, event, self.evidence_posts, self._, self.mention, links)

        def call() -> str | None:
            post_json(self._url, body, timeout=self.timeout, what="Teams Workflows webhook")
            return None

        return attempt(self.channel, event, alert, call, self.retry, [self._url])

    def send_digest(self, items: list[tuple[Alert, str]]) -> Delivery:
        body = digest_message(items)

        def call() -> str | None:
            post_json(self._url, body, timeout=self.timeout, what="Teams Workflows webhook")
            return None

        return attempt(self.channel, "digest", items[0][0], call, self.retry, [self._url])
