"""`build_notifiers`: the configured channels (`channels:` in vigie.yml) turned into notifiers, through the
channel registry (`vigie.core.config.CHANNELS`; one module per channel type in alerts/notify/channels/).

Each entry is already an instance of its type's config model; here its `options` are validated (the rule keys
by `alerts.notify.rules.Rules`, the rest by the type's `options_model`), its name is checked unique, and its
`notifier(setup)` builds the notifier. Secrets are read here, from the environment variables the config names
(`ChannelSetup.secret`), and only here. A channel whose secret is missing is a configuration error (a pager
that silently is not there is worse than a run that refuses to start); every missing one is named at once.
A channel marked `optional: true` is left out with a warning instead, unless `strict=True` (`vigie notify
test`), where it raises too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alerts.notify.base import Notifier, RetryPolicy
from alerts.notify.rules import RULE_KEYS, Rules
from vigie.core.action_links import SECRET_ENV
from vigie.core.config import ChannelConfig, ConfigError, SecretMissing, env_secret
from vigie.core.models import Level

log = logging.getLogger("vigie.notify")


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
    # (vigie/core/action_links.py), signed with the secret in the variable `serve.link_secret_env` names
    # (VIGIE_LINK_SECRET by default): the one `vigie serve` verifies them with.
    action_links_url: str | None = Field(None, pattern=r"^https?://[^\s<>|\"']+$")
    action_links_ttl_hours: float = Field(72, gt=0, le=24 * 30)


@dataclass
class ChannelSetup:
    """What a channel type's `notifier(setup)` gets: the entry's validated options and rules, its name and retry
    policy, and the secrets (read from the environment on request)."""

    index: int
    config: ChannelConfig
    name: str
    options: Any  # an instance of the type's options model
    rules: Rules
    retry: RetryPolicy
    console: Any  # a rich Console or a text stream, for the console channel
    # The variable holding the one-click links' secret: `serve.link_secret_env`, so the channels sign with
    # the secret `vigie serve` verifies with (one name for both, or every button fails).
    link_secret_env: str = SECRET_ENV

    def common(self) -> dict[str, Any]:
        """The `Notifier` base arguments: channel name, level, rules, alert kinds."""
        return {"channel": self.name, "min_level": Level(self.config.min_level), "rules": self.rules,
                "kinds": self.config.alert_kinds()}

    def secret(self, what: str) -> str:
        """The channel's secret, from the variable its `*_env` key names (or its type's default)."""
        return env_secret(self.config.secret_variable() or "", f"channel {self.name} ({what})")

    def require(self, value: str | None, key: str, what: str) -> str:
        if not value:
            raise ConfigError(f"channels[{self.index}] ({self.config.type}): `{key}` is required ({what})")
        return value

    def action_links(self) -> Callable[[Any], dict[str, str]] | None:
        """alert -> {action: signed URL} for a channel with `action_links_url`, else None."""
        if not self.options.action_links_url:
            return None
        from datetime import datetime, timedelta, timezone

        from vigie.core.action_links import BadLink, action_links, link_secret

        try:
            secret = link_secret(self.link_secret_env)
        except BadLink as exc:
            raise SecretMissing(f"{exc} (channel {self.name} has action_links_url)") from None
        ttl = timedelta(hours=self.options.action_links_ttl_hours)
        base, name, language = self.options.action_links_url, self.name, self.options.language

        def make(alert: Any) -> dict[str, str]:
            return action_links(base, secret, alert.id, f"{name} recipients", datetime.now(timezone.utc), ttl,
                                language=language)

        return make


def _options(index: int, cfg: ChannelConfig) -> tuple[Any, Rules]:
    where = f"channels[{index}] ({cfg.type})"
    rule_part = {k: v for k, v in cfg.options.items() if k in RULE_KEYS}
    rest = {k: v for k, v in cfg.options.items() if k not in RULE_KEYS}
    try:
        rules = Rules.model_validate(rule_part)
        opts = (cfg.options_model or CommonOptions).model_validate(rest)
    except ValidationError as err:
        problems = "; ".join(
            f"options.{'.'.join(str(p) for p in e['loc'])}: {e['msg']} (found {e.get('input')!r})" for e in err.errors()
        )
        raise ConfigError(f"{where}: invalid options: {problems}") from None
    return opts, rules


def build_notifiers(
    channels: list[ChannelConfig], *, console: Any = None, retry: RetryPolicy | None = None, strict: bool = False,
    link_secret_env: str = SECRET_ENV,
) -> list[Notifier]:
    """One notifier per configured channel. `console` is a rich Console or a text stream for the console
    channel; `retry` overrides the back-off (tests, demo); `link_secret_env` names the variable holding the
    one-click links' secret (pass `config.serve.link_secret_env`: `notifiers_for(config)` does)."""
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
            notifier = cfg.notifier(ChannelSetup(i, cfg, name, opts, rules, policy, console, link_secret_env))
        except SecretMissing as exc:
            if strict or not cfg.optional:
                missing.append(f"channels[{i}] ({name}): {exc}")
                continue
            log.warning("channel %s disabled (optional: true): %s", name, exc)
            continue
        out.append(notifier)
    if missing:
        raise SecretMissing(
            "a configured channel has no secret (" + str(len(missing)) + "):\n  - " + "\n  - ".join(missing)
            + "\n  (mark a channel `optional: true` to run without it)"
        )
    return out


def notifiers_for(config: Any, *, console: Any = None, strict: bool = False) -> list[Notifier]:
    """The notifiers of a whole configuration: its channels, signing one-click links with the secret
    `serve.link_secret_env` names (the one `vigie serve` verifies with)."""
    return build_notifiers(config.channels, console=console, strict=strict, link_secret_env=config.serve.link_secret_env)
