"""Slack channels through `slack_sdk`: incoming webhook (`type: slack_webhook`), and bot token (`type: slack_bot`,
threads + parent updates). One module: both render with alerts/notify/slack_blocks.py and share the SDK set-up.

Webhook mode posts one message per event. Bot-token mode posts the alert once (the *parent*), answers
escalations, updates and the resolution in its thread, and rewrites the parent so the channel always
shows the current state. The parent's `channel/ts` is the Delivery response, kept in the store's
delivery log, so a later process (or a re-run) finds the thread again.

Secrets: the webhook URL and the bot token are secrets. slack_sdk logs URLs and headers at DEBUG level,
so its logger is pinned at WARNING; errors are redacted before they reach a Delivery or a log.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import Field

from alerts.notify import slack_blocks
from alerts.notify.base import Notifier, RetryPolicy, SendError, attempt, classify_http
from alerts.notify.build import CommonOptions
from alerts.notify.i18n import translator
from alerts.notify.rules import Rules
from vigie.core.actions import describe, records
from vigie.core.config import CHANNELS, ChannelConfig
from vigie.core.models import Alert, Delivery, Level

_sdk_log = logging.getLogger("vigie.notify.slack_sdk")
_sdk_log.setLevel(logging.WARNING)  # never DEBUG: slack_sdk would log the webhook URL / token

SLACK_MENTION = r"^[SUW][A-Z0-9]{2,}$"


class SlackWebhookOptions(CommonOptions):
    mention: str | None = Field(None, pattern=SLACK_MENTION, description="User group (S...) or user (U...) called on a crisis")


class SlackBotOptions(SlackWebhookOptions):
    interactive: bool = Field(False, description="Real buttons (Acknowledge, Resolve, ...) answered by `vigie serve`")


@CHANNELS.decorator("slack_webhook")
class SlackWebhookConfig(ChannelConfig):
    """Reads `webhook_env` (the variable holding the webhook URL)."""

    secret_key = "webhook_env"
    secret_default = "SLACK_WEBHOOK_URL"
    options_model = SlackWebhookOptions

    def notifier(self, setup: Any) -> "SlackWebhookNotifier":
        url = setup.secret("Slack incoming webhook URL")
        opts = setup.options
        return SlackWebhookNotifier(url, retry=setup.retry, timeout=opts.timeout_s, evidence_posts=opts.evidence_posts,
                                    language=opts.language, mention=opts.mention, **setup.common())


@CHANNELS.decorator("slack_bot")
class SlackBotConfig(ChannelConfig):
    """Reads `token_env` (the variable holding the bot token), `channel` (the Slack channel: an id such as
    C0123456789, or #name) and `url` (the API base URL: tests, a proxy)."""

    secret_key = "token_env"
    secret_default = "SLACK_BOT_TOKEN"
    options_model = SlackBotOptions

    def notifier(self, setup: Any) -> "SlackBotNotifier":
        slack_channel = setup.require(self.channel, "channel", "a channel id such as C0123456789 or #crisis-room")
        token = setup.secret("Slack bot token")
        opts = setup.options
        return SlackBotNotifier(token, slack_channel, base_url=self.url, retry=setup.retry, timeout=opts.timeout_s,
                                evidence_posts=opts.evidence_posts, interactive=opts.interactive,
                                language=opts.language, mention=opts.mention, **setup.common())


class SlackWebhookNotifier(Notifier):
    """Slack incoming webhook (https://api.slack.com/messaging/webhooks)."""

    # No message id, no dedup: a delivery interrupted by a crash is marked `unknown` and reported, never
    # repeated (at-most-once; README "Delivery guarantees").
    idempotent = False
    digest = True

    def __init__(self, url: str, *, min_level: Level = Level.WARNING, channel: str = "slack_webhook",
                 retry: RetryPolicy | None = None, timeout: float = 10, evidence_posts: int = 5,
                 language: str = "en", mention: str | None = None, rules: Rules | None = None, kinds: Any = None):
        super().__init__(channel=channel, min_level=min_level, rules=rules, kinds=kinds)
        self.retry = retry or RetryPolicy()
        self.evidence_posts = evidence_posts
        self._ = translator(language)
        self.mention = mention
        self._url = url
        from slack_sdk.webhook import WebhookClient  # imported here: reading the configuration needs no SDK

        self._client = WebhookClient(url, timeout=int(max(1, timeout)), logger=_sdk_log, retry_handlers=[])

    def send(self, alert: Alert, event: str) -> Delivery:
        body = slack_blocks.message(alert, event, self.evidence_posts, _=self._, mention=self.mention)
        return attempt(self.channel, event, alert, lambda: self._post(body), self.retry, [self._url])

    def send_digest(self, items: list[tuple[Alert, str]]) -> Delivery:
        body = slack_blocks.digest_message(items)
        return attempt(self.channel, "digest", items[0][0], lambda: self._post(body), self.retry, [self._url])

    def _post(self, body: dict[str, Any]) -> str | None:
        try:
            resp = self._client.send_dict(body)
        except Exception as exc:  # connection refused, timeout, TLS: the network may come back
            raise SendError(f"Slack webhook unreachable: {type(exc).__name__}: {exc}", retryable=True) from None
        error = classify_http(resp.status_code, resp.body or "", (resp.headers or {}).get("Retry-After")
                              or (resp.headers or {}).get("retry-after"))
        if error:
            raise error
        return None  # incoming webhooks return "ok", no message id


class SlackBotNotifier(Notifier):
    """Slack bot token: chat.postMessage / chat.update (scopes: chat:write, plus chat:write.public to post
    in public channels the bot was not invited to)."""

    notes = True  # human actions (vigie/core/actions.py) are threaded as notes and the parent is updated in place

    def __init__(self, token: str, slack_channel: str, *, min_level: Level = Level.WARNING, channel: str = "slack_bot",
                 base_url: str | None = None, retry: RetryPolicy | None = None, timeout: float = 10,
                 evidence_posts: int = 5, interactive: bool = False, language: str = "en", mention: str | None = None,
                 rules: Rules | None = None, kinds: Any = None):
        super().__init__(channel=channel, min_level=min_level, rules=rules, kinds=kinds)
        self.slack_channel = slack_channel
        self.interactive = interactive  # real buttons (Block Kit actions), answered by `vigie serve`
        self._ = translator(language)
        self.mention = mention
        self.retry = retry or RetryPolicy()
        self.evidence_posts = evidence_posts
        self._token = token
        kwargs: dict[str, Any] = {"token": token, "timeout": int(max(1, timeout)), "logger": _sdk_log, "retry_handlers": []}
        if base_url:
            kwargs["base_url"] = base_url.rstrip("/") + "/"
        from slack_sdk import WebClient  # imported here: reading the configuration needs no SDK

        self._client = WebClient(**kwargs)

    # The parent message of this alert in this channel, from the delivery log: "<channel id>/<ts>".
    def thread_of(self, alert: Alert) -> tuple[str, str] | None:
        for d in alert.deliveries:
            if d.channel == self.channel and d.status == "sent" and d.response and "/" in d.response:
                channel_id, ts = d.response.split("/", 1)
                return channel_id, ts.split("#", 1)[0]  # "#<reply ts>" marks a thread reply
        return None

    def send(self, alert: Alert, event: str) -> Delivery:
        return attempt(self.channel, event, alert, lambda: self._send(alert, event), self.retry, [self._token])

    # After a crash in the middle of a delivery (vigie/pipeline/outbox.py): when the alert's thread is known,
    # the parent message is rewritten to the state of this event (chat.update of a message we posted:
    # idempotent) instead of posting a thread reply that may already be there.
    def resume_possible(self, alert: Alert) -> bool:
        return self.thread_of(alert) is not None

    def resume(self, alert: Alert, event: str) -> Delivery:
        def call() -> str:
            thread = self.thread_of(alert)
            assert thread is not None  # resume_possible said so
            channel_id, ts = thread
            self._call("chat_update", channel=channel_id, ts=ts, **self._parent(alert, event))
            return f"{channel_id}/{ts}#resumed"

        return attempt(self.channel, event, alert, call, self.retry, [self._token])

    def _parent(self, alert: Alert, event: str) -> dict[str, Any]:
        state = "resolve" if event == "resolve" or alert.state.value == "resolved" else "update"
        return slack_blocks.message(alert, state, self.evidence_posts, self.interactive, self._)

    def _send(self, alert: Alert, event: str) -> str:
        thread = self.thread_of(alert)
        if event == "note":
            if thread is None:
                raise SendError("no Slack message of this alert to thread a note under", retryable=False)
            channel_id, ts = thread
            done = records(alert)
            reply = self._call("chat_postMessage", channel=channel_id, thread_ts=ts, unfurl_links=False,
                               unfurl_media=False, **slack_blocks.note_message(alert, describe(done[-1], self._) if done else ""))
            self._call("chat_update", channel=channel_id, ts=ts, **self._parent(alert, event))
            return f"{channel_id}/{ts}#{reply.get('ts')}"
        if thread is None:
            # First message for this alert on this channel (open, or an escalation past min_level).
            data = self._call("chat_postMessage", channel=self.slack_channel, unfurl_links=False, unfurl_media=False,
                              **slack_blocks.message(alert, event, self.evidence_posts, self.interactive, self._, self.mention))
            return f"{data['channel']}/{data['ts']}"
        channel_id, ts = thread
        # Reply in the thread first (the event), then rewrite the parent (the current state). Updating
        # the parent is idempotent, so a retry after a crash repeats it harmlessly.
        reply = self._call("chat_postMessage", channel=channel_id, thread_ts=ts, unfurl_links=False, unfurl_media=False,
                           reply_broadcast=(event == "escalate" and alert.level == Level.CRISIS),
                           **slack_blocks.message(alert, event, self.evidence_posts, False, self._, self.mention))
        self._call("chat_update", channel=channel_id, ts=ts, **self._parent(alert, event))
        return f"{channel_id}/{ts}#{reply.get('ts')}"

    def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        from slack_sdk.errors import SlackApiError

        try:
            resp = getattr(self._client, method)(**kwargs)
        except SlackApiError as exc:
            r = exc.response
            status = getattr(r, "status_code", 0) or 0
            err = r.get("error") if hasattr(r, "get") and isinstance(r.data, dict) else None
            headers = getattr(r, "headers", {}) or {}
            retry_after = headers.get("Retry-After") or headers.get("retry-after")
            if isinstance(retry_after, list):
                retry_after = retry_after[0]
            if status == 429 or err == "ratelimited":
                raise SendError(f"Slack {method} rate limited", retryable=True, status=429,
                                retry_after=float(retry_after) if retry_after else None) from None
            if status >= 500 or err in ("internal_error", "fatal_error", "service_unavailable", "request_timeout"):
                raise SendError(f"Slack {method} server error {status} {err or ''}".strip(), retryable=True, status=status) from None
            raise SendError(f"Slack {method} refused: {err or status} (will not succeed on retry)", retryable=False,
                            status=status) from None
        except ValueError as exc:  # a non-JSON body (a proxy's HTML error page)
            raise SendError(f"Slack {method}: malformed response: {exc}", retryable=True) from None
        except Exception as exc:
            raise SendError(f"Slack {method} unreachable: {type(exc).__name__}: {exc}", retryable=True) from None
        return dict(resp.data) if isinstance(resp.data, dict) else {}
