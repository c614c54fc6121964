"""The source boundary: whatever a listener or its client library raises leaves as a `SourceError` with
its kind, so one source's surprise (atproto's `ModelError` on a truncated 200, a `KeyError` deep in
praw on a changed payload, an `httpx` error tweepy never heard of) stops that query only.

Each platform module maps the errors it knows onto retry / rate-limit / stop (`listeners.http`); this
guard is the net under them, for the ones nobody anticipated. The kind is read from the exception's
class names (no client library is imported here: a missing optional one must not break the others).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from listeners.base import Listener, Page, Query, SourceError
from vigie.core.secrets import scrub

_PARSE = {"JSONDecodeError", "ModelError", "BadJSON", "ExpatError", "SAXParseException", "ParseError",
          "UnicodeDecodeError", "DecodeError", "ValidationError"}
_NETWORK = {"Timeout", "ConnectionError", "TransportError", "NetworkError", "TimeoutException", "InvokeTimeoutError",
            "RemoteProtocolError", "ProtocolError", "ChunkedEncodingError", "ContentDecodingError", "IncompleteRead",
            "SSLError", "ProxyError", "ReadTimeout", "ConnectTimeout", "ResponseException", "ServerError"}
_AUTH = {"Unauthorized", "Forbidden", "UnauthorizedError", "InvalidToken", "OAuthException", "SecretMissing"}
_RATE = {"TooManyRequests", "RateLimitExceededError"}


def classify(exc: BaseException) -> str:
    """The `listeners.base.KINDS` kind of an unexpected exception."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & _AUTH:
        return "auth"
    if names & _RATE:
        return "rate_limit"
    if names & _PARSE:
        return "parse"
    if names & _NETWORK or isinstance(exc, OSError):
        return "network"
    if isinstance(exc, (KeyError, TypeError, AttributeError, IndexError)):
        return "schema"  # the payload is not shaped as the code expects: the API changed
    if isinstance(exc, ValueError):
        return "parse"
    return "internal"


def unexpected(source: str, exc: BaseException) -> SourceError:
    detail = scrub(" ".join(str(exc).split()))[:200]
    kind = classify(exc)
    return SourceError(f"source {source!r}: unexpected {type(exc).__name__} ({kind})" + (f": {detail}" if detail else ""), kind)


class GuardedListener:
    """A listener whose `plan` and `fetch` raise nothing but `SourceError`."""

    def __init__(self, inner: Listener, name: str):
        self.inner = inner
        self.name = name
        self.source = inner.source

    def plan(self, topics: list[Any]) -> list[Query]:
        try:
            return self.inner.plan(topics)
        except SourceError:
            raise
        except Exception as exc:
            raise unexpected(self.name, exc) from exc

    def fetch(self, query: Query, cursor: dict[str, Any] | None, now: datetime) -> Iterator[Page]:
        pages = self.inner.fetch(query, cursor, now)
        try:
            while True:
                try:
                    page = next(pages)
                except StopIteration:
                    return
                except SourceError:
                    raise
                except Exception as exc:
                    raise unexpected(self.name, exc) from exc
                yield page
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()  # the caller may stop early (a store error): release files and sockets now

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.inner, attr)


def guarded(listener: Listener, name: str) -> GuardedListener:
    return listener if isinstance(listener, GuardedListener) else GuardedListener(listener, name)
