"""`build_notifiers`: the configured channels (`channels:` in vigie.yml) turned into notifiers.

Secrets are read here, from the environment variables the config names, and only here. A channel whose
secret is missing is a configuration error (a pager that silently is not there is worse than a run
that refuses to start); every missing one is named at once. A channel marked `optional: true` is left
out with a warning instead, unless `strict=True` (`vigie notify test`), where it raises too.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alerts.notify.base import Notifier, RetryPolicy
from alerts.notify.rules import RULE_KEYS, Rules
from vigie.core.config import CHANNEL_SECRET_ENV, ChannelConfig, ConfigError, SecretMissing, env_secret
from vigie.core.models import Level

log = logging.getLogger("vigie.notify")

DEFAULT_ENV = CHANNEL_SECRET_ENV  # (kept under its old name for callers of this module)


class CommonOptions(BaseModel):
    """Options every channel understands (besides the rules of alerts.notify.rules)."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9_-]*$", description="Channel name in the delivery log")
    timeout_s: float = Field(10, gt=0)
    retry_attempts: int = Field(4, ge=1, le=10)
    evidence_posts: int = Field(5, ge=3, le=5)
    language: Literal["en", "fr"] = Field("en", description="Language of every text Vigie writes on this channel")


class LinkOptions(CommonOptions):
    # Base URL of `vigie serve` as recipients reach it: messages then carry signed one-click action links
    # (vigie/core/action_links.py), signed with the secret in VIGIE_LINK_SECRET.
    action_links_url: str | None = Field(None, pattern=r"^https?://[^\s<>|\"']+$")
    action_links_ttl_hours: float = Field(72, gt=0, le=24 * 30)


class EmailOptions(LinkOptions):
    mention: list[str] = Field(default_factory=list, description="CC on a crisis (open, or escalation to crisis)")
    host: str
    port: int = Field(587, ge=1, le=65535)
    tls: str = Field("starttls", pattern="^(starttls|ssl|none)$", description="none is only for a local relay")
    sender: str = Field(alias="from")
    to: list[str] = Field(min_length=1)
    username: str | None = None
    ca_file: str | None = Field(None, description="Extra CA bundle (a private relay's certificate)")


class WebhookOptions(CommonOptions):
    headers: dict[str, str] = Field(default_factory=dict, description="Extra non-secret headers")


class PagerDutyOptions(CommonOptions):
    source: str = "vigie"


SLACK_MENTION = r"^[SUW][A-Z0-9]{2,}$"


class SlackWebhookOptions(CommonOptions):
    mention: str | None = Field(None, pattern=SLACK_MENTION, description="User group (S...) or user (U...) called on a crisis")


class SlackBotOptions(SlackWebhookOptions):
    interactive: bool = Field(False, description="Real buttons (Acknowledge, Resolve, ...) answered by `vigie serve`")


class TeamsMention(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(description="Entra ID object id or UPN (user@tenant) of the person called on a crisis")
    name: str


class TeamsOptions(LinkOptions):
    mention: TeamsMention | None = None


OPTION_MODELS: dict[str, type[CommonOptions]] = {"email": EmailOptions, "webhook": WebhookOptions, "pagerduty": PagerDutyOptions,
                                                 "slack_bot": SlackBotOptions, "slack_webhook": SlackWebhookOptions,
                                                 "teams": TeamsOptions}


def _options(index: int, cfg: ChannelConfig) -> tuple[CommonOptions, Rules]:
    where = f"channels[{index}] ({cfg.type})"
    rule_part = {k: v for k, v in cfg.options.items() if k in RULE_KEYS}
    rest = {k: v for k, v in cfg.options.items() if k not in RULE_KEYS}
    try:
        rules = Rules.model_validate(rule_part)
        opts = OPTION_MODELS.get(cfg.type, CommonOptions).model_validate(rest)
    except ValidationError as err:
        problems = "; ".join(
            f"options.{'.'.join(str(p) for p in e['loc'])}: {e['msg']} (found {e.get('input')!r})" for e in err.errors()
        )
        raise ConfigError(f"{where}: invalid options: {problems}") from None
    return opts, rules


def _secret(cfg: ChannelConfig, what: str) -> str:
    attr, default = DEFAULT_ENV[cfg.type]
    return env_secret(getattr(cfg, attr) or default, what)


def build_notifiers(
    channels: list[ChannelConfig], *, console: Any = None, retry: RetryPolicy | None = None, strict: bool = False
) -> list[Notifier]:
    """One notifier per configured channel. `console` is a rich Console or a text stream for the console
    channel; `retry` overrides the back-off (tests, demo)."""
    out: list[Notifier] = []
    names: set[str] = set()
    missing: list[str] = []
    for i, cfg in enumerate(channels):
        opts, rules = _options(i, cfg)
        name = opts.name or cfg.type
        if name in names:
            raise ConfigError(f"channels[{i}]: a second `{cfg.type}` channel needs `options.name` (channel names must be unique)")
        names.add(name)
        policy = retry or RetryPolicy(attempts=opts.retry_attempts)
        if retry is not None and opts.retry_attempts != 4:
            policy = RetryPolicy(attempts=opts.retry_attempts, base_delay=retry.base_delay, max_delay=retry.max_delay,
                                 max_wait=retry.max_wait, sleep=retry.sleep)
        try:
            notifier = _build_one(i, cfg, name, opts, policy, console)
        except SecretMissing as exc:
            if strict or not cfg.optional:
                missing.append(f"channels[{i}] ({name}): {exc}")
                continue
            log.warning("channel %s disabled (optional: true): %s", name, exc)
            continue
        notifier.rules = rules  # type: ignore[attr-defined]
        notifier.kinds = cfg.alert_kinds()  # type: ignore[attr-defined]  # which alert kinds it takes
        out.append(notifier)
    if missing:
        raise SecretMissing(
            "a configured channel has no secret (" + str(len(missing)) + "):\n  - " + "\n  - ".join(missing)
            + "\n  (mark a channel `optional: true` to run without it)"
        )
    return out


def _link_maker(opts: Any, name: str) -> Any:
    """alert -> {action: signed URL} for a channel with `action_links_url`, else None."""
    if not opts.action_links_url:
        return None
    from datetime import datetime, timedelta, timezone

    from vigie.core.action_links import BadLink, action_links, link_secret

    try:
        secret = link_secret()
    except BadLink as exc:
        raise SecretMissing(f"{exc} (channel {name} has action_links_url)") from None
    ttl = timedelta(hours=opts.action_links_ttl_hours)

    def make(alert: Any) -> dict[str, str]:
        return action_links(opts.action_links_url, secret, alert.id, f"{name} recipients", datetime.now(timezone.utc), ttl)

    return make


def _build_one(i: int, cfg: ChannelConfig, name: str, opts: Any, retry: RetryPolicy, console: Any) -> Notifier:
    level = Level(cfg.min_level)
    if cfg.type == "console":
        from alerts.notify.console import ConsoleNotifier

        return ConsoleNotifier(console, min_level=level, channel=name)
    if cfg.type == "slack_webhook":
        from alerts.notify.slack import SlackWebhookNotifier

        url = _secret(cfg, f"channel {name} (Slack incoming webhook URL)")
        return SlackWebhookNotifier(url, min_level=level, channel=name, retry=retry, timeout=opts.timeout_s,
                                    evidence_posts=opts.evidence_posts, language=opts.language, mention=opts.mention)
    if cfg.type == "slack_bot":
        from alerts.notify.slack import SlackBotNotifier

        if not cfg.channel:
            raise ConfigError(f"channels[{i}] (slack_bot): `channel` is required (a channel id such as C0123456789 or #crisis-room)")
        token = _secret(cfg, f"channel {name} (Slack bot token)")
        return SlackBotNotifier(token, cfg.channel, min_level=level, channel=name, base_url=cfg.url, retry=retry,
                                timeout=opts.timeout_s, evidence_posts=opts.evidence_posts, interactive=opts.interactive,
                                language=opts.language, mention=opts.mention)
    if cfg.type == "pagerduty":
        from alerts.notify.pagerduty import PagerDutyNotifier

        key = _secret(cfg, f"channel {name} (PagerDuty Events API v2 routing key)")
        return PagerDutyNotifier(key, min_level=level, channel=name, base_url=cfg.url, retry=retry,
                                 timeout=opts.timeout_s, source=opts.source)
    if cfg.type == "teams":
        from alerts.notify.teams import TeamsNotifier

        url = _secret(cfg, f"channel {name} (Teams Workflows webhook URL)")
        return TeamsNotifier(url, min_level=level, channel=name, retry=retry, timeout=opts.timeout_s,
                             evidence_posts=opts.evidence_posts, language=opts.language,
                             mention=opts.mention.model_dump() if opts.mention else None,
                             action_links=_link_maker(opts, name))
    if cfg.type == "email":
        from alerts.notify.email import EmailNotifier

        password = None
        if opts.username:
            password = _secret(cfg, f"channel {name} (SMTP password for {opts.username})")
        return EmailNotifier(host=opts.host, port=opts.port, tls=opts.tls, sender=opts.sender, to=opts.to,
                             username=opts.username, password=password, ca_file=opts.ca_file, min_level=level,
                             channel=name, retry=retry, timeout=opts.timeout_s, evidence_posts=opts.evidence_posts,
                             language=opts.language, cc_on_crisis=opts.mention, action_links=_link_maker(opts, name))
    if cfg.type == "webhook":
        from alerts.notify.webhook import WebhookNotifier

        if not cfg.url:
            raise ConfigError(f"channels[{i}] (webhook): `url` is required (the receiver's https URL)")
        secret = _secret(cfg, f"channel {name} (webhook signing secret)")
        return WebhookNotifier(cfg.url, secret, min_level=level, channel=name, retry=retry, timeout=opts.timeout_s,
                               headers=opts.headers, evidence_posts=opts.evidence_posts)
    raise ConfigError(f"channels[{i}]: unknown channel type {cfg.type!r}")
