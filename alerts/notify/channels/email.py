"""E-mail channel (`type: email`) over SMTP with TLS: a plain-text part and an HTML part, for teams without Slack.

TLS: `starttls` (port 587, the default) or `ssl` (implicit TLS, port 465), certificates verified against
the system store (plus `ca_file` for a private relay). `none` exists for a relay on localhost only; it
refuses to send a password in clear. The message itself: alerts/notify/email_message.py. SMTP is not
idempotent (`idempotent = False`): a delivery interrupted by a crash is not re-sent.
"""

from __future__ import annotations

import smtplib
import ssl
from typing import Any
from email.message import EmailMessage

from pydantic import Field

from alerts.notify.base import Notifier, RetryPolicy, SendError, attempt
from alerts.notify.build import LinkOptions
from alerts.notify.email_message import build_digest, build_message
from alerts.notify.i18n import translator
from alerts.notify.rules import Rules
from vigie.core.config import CHANNELS, ChannelConfig
from vigie.core.models import Alert, Delivery, Level

# SMTP reply codes: 4xx are transient (retry), 5xx permanent (a wrong address, auth refused).
_TRANSIENT = range(400, 500)


class EmailOptions(LinkOptions):
    mention: list[str] = Field(default_factory=list, description="CC on a crisis (open, or escalation to crisis)")
    host: str
    port: int = Field(587, ge=1, le=65535)
    tls: str = Field("starttls", pattern="^(starttls|ssl|none)$", description="none is only for a local relay")
    sender: str = Field(alias="from")
    to: list[str] = Field(min_length=1)
    username: str | None = None
    ca_file: str | None = Field(None, description="Extra CA bundle (a private relay's certificate)")


@CHANNELS.decorator("email")
class EmailConfig(ChannelConfig):
    """Reads `secret_env` (the variable holding the SMTP password, used with `options.username`); the server,
    sender and recipients are options."""

    secret_key = "secret_env"
    secret_default = "SMTP_PASSWORD"
    options_model = EmailOptions

    def secret_variable(self) -> str | None:
        # A relay without login (no `options.username`) needs no password.
        return super().secret_variable() if self.options.get("username") else None

    def notifier(self, setup: Any) -> "EmailNotifier":
        opts = setup.options
        password = setup.secret(f"SMTP password for {opts.username}") if opts.username else None
        return EmailNotifier(host=opts.host, port=opts.port, tls=opts.tls, sender=opts.sender, to=opts.to,
                             username=opts.username, password=password, ca_file=opts.ca_file, retry=setup.retry,
                             timeout=opts.timeout_s, evidence_posts=opts.evidence_posts, language=opts.language,
                             cc_on_crisis=opts.mention, action_links=setup.action_links(), **setup.common())


class EmailNotifier(Notifier):
    idempotent = False
    digest = True

    def __init__(self, *, host: str, port: int = 587, tls: str = "starttls", sender: str, to: list[str],
                 username: str | None = None, password: str | None = None, ca_file: str | None = None,
                 min_level: Level = Level.WARNING, channel: str = "email", retry: RetryPolicy | None = None,
                 timeout: float = 10, evidence_posts: int = 5, language: str = "en",
                 cc_on_crisis: list[str] | None = None, action_links: Any = None, rules: Rules | None = None,
                 kinds: Any = None):
        if tls == "none" and password:
            raise ValueError("email channel: refusing to send an SMTP password without TLS (tls: none)")
        super().__init__(channel=channel, min_level=min_level, rules=rules, kinds=kinds)
        self.host, self.port, self.tls = host, port, tls
        self.sender, self.to = sender, list(to)
        self.username = username
        self._password = password
        self.ca_file = ca_file
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.evidence_posts = evidence_posts
        self._ = translator(language)
        self.cc_on_crisis = list(cc_on_crisis or [])
        self.action_links = action_links  # alert -> {action: signed URL}, or None

    def _context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else ssl.create_default_context()
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        return ctx

    def send(self, alert: Alert, event: str) -> Delivery:
        actions = self.action_links(alert) if self.action_links and event != "resolve" else None
        msg = build_message(alert, event, self.sender, self.to, self.evidence_posts, self._, self.cc_on_crisis, actions)
        return attempt(self.channel, event, alert, lambda: self._send(msg), self.retry, [self._password])

    def send_digest(self, items: list[tuple[Alert, str]]) -> Delivery:
        msg = build_digest(items, self.sender, self.to)
        return attempt(self.channel, "digest", items[0][0], lambda: self._send(msg), self.retry, [self._password])

    def _send(self, msg: EmailMessage) -> str:
        try:
            if self.tls == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._context())
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with smtp:
                smtp.ehlo()
                if self.tls == "starttls":
                    smtp.starttls(context=self._context())
                    smtp.ehlo()
                if self.username and self._password:
                    smtp.login(self.username, self._password)
                refused = smtp.send_message(msg)
        except smtplib.SMTPAuthenticationError as exc:
            raise SendError(f"SMTP authentication refused ({exc.smtp_code})", retryable=False) from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise SendError(f"SMTP refused all recipients: {sorted(exc.recipients)}", retryable=False) from None
        except smtplib.SMTPResponseException as exc:
            raise SendError(f"SMTP error {exc.smtp_code}: {exc.smtp_error[:200]!r}",
                            retryable=exc.smtp_code in _TRANSIENT) from None
        except smtplib.SMTPNotSupportedError:
            raise SendError("SMTP server does not offer STARTTLS: refusing to send in clear", retryable=False) from None
        except ssl.SSLCertVerificationError as exc:
            raise SendError(f"SMTP TLS certificate not trusted: {exc.verify_message}", retryable=False) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(f"SMTP server {self.host}:{self.port} unreachable ({type(exc).__name__})", retryable=True) from None
        if refused:
            # Some recipients got it: it counts as sent (a retry would send it to them twice); the refused
            # addresses are named in the response, for the delivery log.
            return f"{msg['Message-ID']} (refused: {', '.join(sorted(refused))})"
        return str(msg["Message-ID"])
