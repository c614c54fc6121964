"""Signed one-click action links for e-mail and Teams: one alert, one action, an expiry, a recipient.

Token = base64url(JSON claims) "." base64url(HMAC-SHA256(secret, that first part)). The secret comes from
the environment variable `serve.link_secret_env` names (`VIGIE_LINK_SECRET` by default; the channels sign
and `vigie serve` verifies with that one name), registered with the scrubber so it never reaches a log; rotating it
invalidates every link in flight. Anyone holding the link can do that one action on that one alert until
it expires, so links are short-lived (a channel's `options.action_links_ttl_hours`, 72 h by default) and the action
is idempotent.

Opening the link (GET) only shows a confirmation page; the action is done by the page's POST button, so
mail scanners and link previews that fetch URLs never act.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from vigie.core import secrets
from vigie.core.messages import Message, N_, text
from vigie.core.models import utc

SECRET_ENV = "VIGIE_LINK_SECRET"
LINK_ACTIONS = ("acknowledge", "resolve", "false_alarm", "real_crisis", "mute_2h", "mute_24h")
MIN_SECRET_CHARS = 16


class BadLink(ValueError):
    """A link that is malformed, tampered with, expired or for an action links cannot do. `message` says so
    language-neutrally (vigie/core/messages.py: `vigie serve` shows it in the link's language), `language`
    is the language of a link whose signature held (an expired one), else English."""

    def __init__(self, message: Message | str, language: str = "en"):
        self.message = N_(message) if isinstance(message, str) else message
        self.language = language
        super().__init__(text(self.message))


@dataclass(frozen=True)
class LinkClaims:
    alert_id: str
    action: str
    expires: datetime
    recipient: str
    language: str = "en"  # the language of the channel that sent the link: its confirmation page's


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def link_secret(name: str = SECRET_ENV) -> str:
    value = os.environ.get(name, "")
    if len(value) < MIN_SECRET_CHARS:
        raise BadLink(f"{name} must hold a random secret of at least {MIN_SECRET_CHARS} characters "
                      "(e.g. `openssl rand -hex 32`)")
    secrets.register(value)
    return value


def sign(secret: str, alert_id: str, action: str, recipient: str, expires: datetime, language: str = "en") -> str:
    if action not in LINK_ACTIONS:
        raise BadLink(f"no one-click link for {action!r} (links do: {', '.join(LINK_ACTIONS)})")
    claims = {"a": alert_id, "x": action, "e": int(utc(expires).timestamp()), "r": recipient}
    if language != "en":  # English links carry no language claim (as before languages)
        claims["l"] = language
    body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    mac = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def verify(secret: str, token: str, now: datetime) -> LinkClaims:
    body, dot, mac = token.partition(".")
    if not dot or not body or not mac:
        raise BadLink(N_("this link is malformed (was it cut by the mail client?)"))
    expected = _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, mac):
        raise BadLink(N_("this link's signature is invalid (changed, or signed with another secret)"))
    try:
        claims = json.loads(_unb64(body))
        out = LinkClaims(str(claims["a"]), str(claims["x"]), datetime.fromtimestamp(int(claims["e"]), tz=utc(now).tzinfo),
                         str(claims.get("r") or "link"), str(claims.get("l") or "en"))
    except (ValueError, KeyError, TypeError):
        raise BadLink(N_("this link's content is unreadable")) from None
    if out.action not in LINK_ACTIONS:
        raise BadLink(N_("no one-click link for {action}", action=repr(out.action)), out.language)
    if utc(now) >= out.expires:
        raise BadLink(N_("this link expired at {at} UTC; act from Slack, PagerDuty or `vigie alerts act`",
                         at=f"{out.expires:%Y-%m-%d %H:%M}"), out.language)
    return out


def action_links(base_url: str, secret: str, alert_id: str, recipient: str, now: datetime,
                 ttl: timedelta = timedelta(hours=72), actions: tuple[str, ...] = LINK_ACTIONS,
                 language: str = "en") -> dict[str, str]:
    """action -> the signed URL `<base_url>/a/<token>` for each action (`language`: the sending channel's,
    so the confirmation page speaks it)."""
    base = base_url.rstrip("/")
    return {a: f"{base}/a/{quote(sign(secret, alert_id, a, recipient, utc(now) + ttl, language))}" for a in actions}
