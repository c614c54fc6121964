"""Secret hygiene: one scrubber for every configured secret, and the one logging hook that applies it.

A secret leaks in pieces, not only whole: an endpoint that answers 404 quotes the *path* of the Slack
webhook it was called on (`/services/T000/B000/XXXX`), a Teams error quotes the query (`...&sig=...`),
a library logs a URL without its scheme. So each secret registers its *fragments*: the value itself,
and when it is a URL its path, its query, every query value and its user-info, plain and
percent-encoded; every fragment is replaced by `***` wherever it appears.

Secrets register themselves when they are read (`vigie.core.config.env_secret` calls `register`) and the
CLI and the Airflow glue pre-register every secret a configuration names (`register_config`) at
start-up, before any client library can log anything.

`install_log_filter()` installs `SecretFilter` once per process, as the log-record factory's last
step, because that is the only place every record passes: a filter on a logger does not see records
propagated from its children (slack_sdk, urllib3, tweepy log on their own loggers), and a filter on
the root handlers misses handlers added later (Airflow's task-log handler, pytest's caplog).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

MASK = "***"
# Shorter values would mask ordinary words everywhere ("test", "/api"); a real secret, or the part of a URL
# that identifies one, is longer.
MIN_FRAGMENT = 6
# Path segments that name an endpoint rather than identify a tenant (kept readable in messages).
_PUBLIC_SEGMENTS = {"services", "workflows", "triggers", "manual", "paths", "invoke", "hooks", "webhook",
                    "webhooks", "api", "v1", "v2", "enqueue", "incoming"}


def fragments(secret: str) -> set[str]:
    """The secret and, when it is a URL, each part of it that identifies the secret on its own."""
    secret = secret.strip()
    out = {secret} if len(secret) >= MIN_FRAGMENT else set()
    if "://" not in secret:
        return out
    try:
        parts = urlsplit(secret)
    except ValueError:
        return out
    path = parts.path.rstrip("/")
    candidates = [path, path.lstrip("/"), parts.query, parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""]
    segments = [s for s in path.split("/") if s]
    # A tenant id is in the path (Slack T…/B…/token, Teams workflow id): the tail after the first
    # identifying segment, and each long identifying segment alone.
    for i, seg in enumerate(segments):
        if seg.lower() not in _PUBLIC_SEGMENTS:
            candidates.append("/".join(segments[i:]))
            break
    candidates += [s for s in segments if s.lower() not in _PUBLIC_SEGMENTS and len(s) >= 16]
    for key, value in parse_qsl(parts.query, keep_blank_values=False):
        if key.lower() in ("api-version", "sv", "sp") and len(value) < 24:
            continue  # the API version and the permission path are public, and common words
        candidates += [value, f"{key}={value}", f"{key}={quote(value, safe='')}"]
    for c in candidates:
        for form in (c, unquote(c), quote(c, safe="/"), quote(unquote(c), safe="")):
            if len(form) >= MIN_FRAGMENT:
                out.add(form)
    return out


class Scrubber:
    """Every registered secret's fragments, longest first (so a whole URL is masked as one)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fragments: tuple[str, ...] = ()

    def register(self, *secrets: str | None) -> None:
        new = set()
        for secret in secrets:
            if secret:
                new |= fragments(secret)
        if not new - set(self._fragments):
            return
        with self._lock:
            merged = set(self._fragments) | new
            self._fragments = tuple(sorted(merged, key=len, reverse=True))

    def scrub(self, text: str, extra: Iterable[str | None] = ()) -> str:
        frags = self._fragments
        extra_frags: set[str] = set()
        for secret in extra:
            if secret:
                extra_frags |= fragments(secret)
        if extra_frags:
            frags = tuple(sorted(set(frags) | extra_frags, key=len, reverse=True))
        for frag in frags:
            if frag in text:
                text = text.replace(frag, MASK)
        return text

    def clear(self) -> None:
        with self._lock:
            self._fragments = ()

    def __len__(self) -> int:
        return len(self._fragments)


SCRUBBER = Scrubber()


def register(*secrets: str | None) -> None:
    SCRUBBER.register(*secrets)


def scrub(text: Any, extra: Iterable[str | None] = ()) -> Any:
    """`text` with every registered secret (and every secret in `extra`) masked; non-strings unchanged."""
    return SCRUBBER.scrub(text, extra) if isinstance(text, str) else text


class SecretFilter(logging.Filter):
    """Masks every registered secret in a record's message, arguments, traceback and stack."""

    def __init__(self, scrubber: Scrubber = SCRUBBER):
        super().__init__()
        self.scrubber = scrubber

    def filter(self, record: logging.LogRecord) -> bool:
        if not len(self.scrubber):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed format string: let logging report it as it always does
            return True
        record.msg, record.args = self.scrubber.scrub(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.scrubber.scrub(record.exc_text)
            # The formatter would render exc_info again only when exc_text is empty: keep the scrubbed one.
        if record.stack_info:
            record.stack_info = self.scrubber.scrub(record.stack_info)
        return True


_installed: SecretFilter | None = None
_install_lock = threading.Lock()


def install_log_filter() -> SecretFilter:
    """Make every log record of the process pass `SecretFilter` (idempotent: one filter, installed once)."""
    global _installed
    with _install_lock:
        if _installed is not None:
            return _installed
        secret_filter = SecretFilter()
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            secret_filter.filter(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed = secret_filter
        return secret_filter


def register_config(config: Any) -> list[str]:
    """Register the value of every environment variable a configuration names in a `*_env` key (set or
    not, configured or defaulted); returns the variable names. Values never leave this module."""
    import os

    names = env_names(config)
    register(*(os.environ.get(name) for name in names))
    return names


def env_names(config: Any) -> list[str]:
    """Names of the environment variables a (pydantic) configuration refers to, in `*_env` keys and the
    channels' default variables."""
    from pydantic import BaseModel

    from vigie.core.config import channel_secret_env

    names: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, BaseModel):
            for key in type(value).model_fields:
                item = getattr(value, key)
                if key.endswith("_env") and isinstance(item, str):
                    names.append(item)
                else:
                    walk(item)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)

    walk(config)
    for channel in getattr(config, "channels", []) or []:
        name = channel_secret_env(channel)
        if name:
            names.append(name)
    return sorted(set(names))
