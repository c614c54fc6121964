"""A stand-in of the Bluesky XRPC endpoints the listener calls (createSession, searchPosts with cursor paging,
getProfiles), written from the AT Protocol reference, and `bsky_post(n)` to make the posts it serves."""

from __future__ import annotations

from typing import Any

from vigie.sim.standins.server import Reply, Req


DID = "did:plc:abc123"


def _jwt(kind: str) -> str:
    """A JWT-shaped token (atproto decodes the expiry of its session tokens; the signature is not checked)."""
    import base64
    import json

    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()  # noqa: E731
    return f"{enc({'alg': 'HS256', 'typ': 'JWT'})}.{enc({'sub': DID, 'scope': kind, 'iat': 1800000000, 'exp': 4102444800})}.c2ln"


ACCESS, REFRESH = _jwt("com.atproto.appPass"), _jwt("com.atproto.refresh")


def bsky_post(n: int, **extra: Any) -> dict[str, Any]:
    data = {
        "uri": f"at://{DID}/app.bsky.feed.post/3k{n:04d}",
        "cid": f"bafy{n}",
        "author": {"did": DID, "handle": "ana.bsky.social", "displayName": "Ana"},
        "record": {"$type": "app.bsky.feed.post", "text": f"Brivolle post {n}", "createdAt": f"2026-03-02T10:00:{n % 60:02d}.000Z", "langs": ["fr"]},
        "replyCount": 1, "repostCount": 2, "likeCount": n, "quoteCount": 0,
        "indexedAt": f"2026-03-02T10:00:{n % 60:02d}.500Z",
    }
    data.update(extra)
    return data


class FakeBluesky:
    def __init__(self, posts):
        self.posts = posts

    def __call__(self, req: Req) -> Reply:
        if req.path == "/xrpc/com.atproto.server.createSession":
            if b"app-pass-ok" not in req.body:
                return Reply(401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"})
            return Reply(200, {"did": DID, "handle": "ana.bsky.social", "accessJwt": ACCESS, "refreshJwt": REFRESH})
        if req.headers.get("authorization") != f"Bearer {ACCESS}":
            return Reply(401, {"error": "AuthenticationRequired"})
        if req.path == "/xrpc/app.bsky.actor.getProfiles":
            return Reply(200, {"profiles": [{"did": d, "handle": "ana.bsky.social", "followersCount": 4321, "verification": {"verifiedStatus": "valid"}} for d in req.query.get("actors", [])]})
        if req.path == "/xrpc/app.bsky.feed.searchPosts":
            size, offset = int(req.arg("limit")), int(req.arg("cursor") or 0)
            rows = sorted(self.posts, key=lambda p: p.get("indexedAt", ""), reverse=True)
            body: dict[str, Any] = {"posts": rows[offset : offset + size], "hitsTotal": len(rows)}
            if offset + size < len(rows):
                body["cursor"] = str(offset + size)
            return Reply(200, body, {"ratelimit-remaining": "2999", "ratelimit-reset": "1800000300"})
        return Reply(404, {"error": "MethodNotImplemented"})
