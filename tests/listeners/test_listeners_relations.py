"""Post relations (original / repost / quote / reply) and entities (hashtags, mentions, expanded links,
registered domains, account age) from every platform, through the real listeners against the fixture
servers, with payloads shaped as each API documents them."""

from __future__ import annotations

from datetime import datetime, timezone

from test_listeners_mastodon_bluesky import Q as BSKY_Q, bluesky, bsky_env, mastodon  # noqa: F401
from test_listeners_reddit import T, reddit, reddit_env  # noqa: F401
from test_listeners_x import Q as X_Q, make as make_x, x_env  # noqa: F401

from listeners.bluesky import normalise_post
from listeners.feeds import normalise_entry
from vigie.core.entities import from_text, registered_domain
from vigie.sim.standins.x import USERS, FakeX, tweet
from vigie.sim.standins.server import FixtureServer, drain
from vigie.sim.standins.bluesky import DID, FakeBluesky, bsky_post  # noqa: F401
from vigie.sim.standins.mastodon import FakeMastodon, status  # noqa: F401
from vigie.sim.standins.reddit import FakeReddit, link  # noqa: F401

NOW = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)


def relations(posts) -> dict[str, tuple[str, str | None, str | None]]:
    return {p.id: (p.relation, p.ref_id, p.parent_id) for p in posts}


# -- X: referenced_tweets, entities with expanded_url, user created_at ------------------------------

def test_x_retweet_quote_reply_and_entities(x_env, monkeypatch):
    monkeypatch.setitem(USERS["500"], "created_at", "2026-02-28T09:00:00.000Z")  # a 2-day-old account
    tweets = [
        tweet(1, text="Brivolle m'a arnaqué #BoycottBrivolle @brivolle_fr https://t.co/abc",
              entities={"hashtags": [{"start": 23, "end": 39, "tag": "BoycottBrivolle"}],
                        "mentions": [{"start": 40, "end": 52, "username": "Brivolle_FR", "id": "42"}],
                        "urls": [{"start": 53, "end": 76, "url": "https://t.co/abc",
                                  "expanded_url": "https://www.lemonde.fr/economie/article/brivolle.html",
                                  "display_url": "lemonde.fr/economie/…"}]}),
        tweet(2, text="RT @user1: Brivolle m'a arnaqué", referenced_tweets=[{"type": "retweeted", "id": "1000001"}]),
        tweet(3, text="Pas étonnant", referenced_tweets=[{"type": "quoted", "id": "1000001"}]),
        tweet(4, text="@user1 moi aussi", referenced_tweets=[{"type": "replied_to", "id": "1000001"}]),
        tweet(6, text="Je cite en répondant", referenced_tweets=[{"type": "replied_to", "id": "1000004"},
                                                                {"type": "quoted", "id": "1000001"}]),
    ]
    with FixtureServer(FakeX(tweets)) as server:
        posts = [p for page in make_x(server).fetch(X_Q, None, NOW) for p in page.posts]
        asked = server.paths("/2/tweets")[0]
    assert "entities" in asked.arg("tweet.fields") and "created_at" in asked.arg("user.fields")
    assert relations(posts) == {
        "x:1000001": ("original", None, None),
        "x:1000002": ("repost", "x:1000001", None),  # a retweet is no longer a "parent"
        "x:1000003": ("quote", "x:1000001", None),
        "x:1000004": ("reply", "x:1000001", "x:1000001"),
        "x:1000006": ("quote", "x:1000001", None),  # a quote that replies comments on the quoted post
    }
    first = next(p for p in posts if p.id == "x:1000001")
    assert first.entities.hashtags == ["boycottbrivolle"] and first.entities.mentions == ["brivolle_fr"]
    assert first.entities.links == ["https://www.lemonde.fr/economie/article/brivolle.html"]  # not the t.co link
    assert first.entities.domains == ["lemonde.fr"]
    old = next(p for p in posts if p.author.id == "501")
    assert old.author.created_at is None  # the platform did not say: unknown, not guessed
    young = next(p for p in posts if p.author.id == "500")
    assert young.author.created_at == datetime(2026, 2, 28, 9, tzinfo=timezone.utc)
    # Tweets without `entities` get theirs from the text.
    reply = next(p for p in posts if p.id == "x:1000004")
    assert reply.entities.mentions == ["user1"] and reply.entities.hashtags == []


# -- Mastodon: reblog, quote (4.4+), in_reply_to_id, tags/mentions/card, account created_at ----------

def test_mastodon_boost_quote_reply_and_entities():
    original = status(1, content='<p>Scandale <a href="https://mastodon.test/tags/brivolle" class="mention hashtag" '
                                 'rel="tag">#<span>Brivolle</span></a> <span class="h-card"><a href="https://m.test/@bob" '
                                 'class="u-url mention">@<span>bob</span></a></span> <a href="https://www.francetvinfo.fr/'
                                 'brivolle-rappel.html" rel="nofollow noopener" target="_blank"><span class="invisible">'
                                 'https://www.</span><span class="ellipsis">francetvinfo.fr/brivolle</span></a></p>',
                      tags=[{"name": "Brivolle", "url": "https://mastodon.test/tags/brivolle"}],
                      mentions=[{"id": "9", "username": "bob", "acct": "bob@m.test", "url": "https://m.test/@bob"}],
                      card={"url": "https://www.francetvinfo.fr/brivolle-rappel.html", "title": "Rappel"})
    original["account"] = {**original["account"], "created_at": "2025-12-01T00:00:00.000Z"}
    boost = status(2, content="", reblog=original)
    quote = status(3, content="<p>Incroyable</p>", quote={"state": "accepted", "quoted_status": original})
    reply = status(4, content="<p>idem</p>", in_reply_to_id="110001")
    with FixtureServer(FakeMastodon([original, boost, quote, reply])) as server:
        listener = mastodon(server, page_size=10)
        store: dict = {}
        drain(listener, listener.plan([])[0], None, NOW, store)
    assert relations(store.values()) == {
        "mastodon:110001": ("original", None, None),
        "mastodon:110002": ("repost", "mastodon:110001", None),  # a boost is not a reply any more
        "mastodon:110003": ("quote", "mastodon:110001", None),
        "mastodon:110004": ("reply", "mastodon:110001", "mastodon:110001"),
    }
    first = store["mastodon:110001"]
    assert first.entities.hashtags == ["brivolle"] and first.entities.mentions == ["bob@m.test"]
    assert first.entities.links == ["https://www.francetvinfo.fr/brivolle-rappel.html"]  # tags/mentions are not links
    assert first.entities.domains == ["francetvinfo.fr"]
    assert first.author.created_at == datetime(2025, 12, 1, tzinfo=timezone.utc)
    assert store["mastodon:110002"].entities.hashtags == ["brivolle"]  # a boost carries its original's entities
    assert store["mastodon:110002"].text == first.text


# -- Bluesky: embed record / recordWithMedia (quotes), reply, repost reason, facets, profile createdAt -

def test_bluesky_quotes_reply_and_facets(bsky_env):
    quoted = f"at://{DID}/app.bsky.feed.post/3k0001"
    posts = [
        bsky_post(1, record={"$type": "app.bsky.feed.post", "text": "Brivolle #rappel lemonde.fr/brivo...",
                             "createdAt": "2026-03-02T10:00:01.000Z", "langs": ["fr"],
                             "facets": [{"index": {"byteStart": 9, "byteEnd": 16},
                                         "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "Rappel"}]},
                                        {"index": {"byteStart": 17, "byteEnd": 36},
                                         "features": [{"$type": "app.bsky.richtext.facet#link",
                                                       "uri": "https://www.lemonde.fr/brivolle-rappel"}]}]}),
        bsky_post(2, record={"$type": "app.bsky.feed.post", "text": "Lisez ça", "createdAt": "2026-03-02T10:00:02.000Z",
                             "embed": {"$type": "app.bsky.embed.record",
                                       "record": {"uri": quoted, "cid": "bafy1"}}}),
        bsky_post(3, record={"$type": "app.bsky.feed.post", "text": "Photo + citation",
                             "createdAt": "2026-03-02T10:00:03.000Z",
                             "embed": {"$type": "app.bsky.embed.recordWithMedia",
                                       "record": {"$type": "app.bsky.embed.record", "record": {"uri": quoted, "cid": "b"}},
                                       "media": {"$type": "app.bsky.embed.images", "images": []}}}),
        bsky_post(4, record={"$type": "app.bsky.feed.post", "text": "Ma liste", "createdAt": "2026-03-02T10:00:04.000Z",
                             "embed": {"$type": "app.bsky.embed.record",
                                       "record": {"uri": f"at://{DID}/app.bsky.graph.list/3l", "cid": "c"}}}),
        bsky_post(5, record={"$type": "app.bsky.feed.post", "text": "D'accord", "createdAt": "2026-03-02T10:00:05.000Z",
                             "reply": {"parent": {"uri": quoted, "cid": "x"}, "root": {"uri": quoted, "cid": "x"}}}),
    ]
    with FixtureServer(FakeBluesky(posts)) as server:
        store: dict = {}
        drain(bluesky(server, page_size=10), BSKY_Q, None, NOW, store)
    ids = {f"bluesky:at://{DID}/app.bsky.feed.post/3k{n:04d}": n for n in range(1, 6)}
    got = {ids[k]: v for k, v in relations(store.values()).items()}
    ref = f"bluesky:{quoted}"
    assert got == {1: ("original", None, None), 2: ("quote", ref, None), 3: ("quote", ref, None),
                   4: ("original", None, None),  # embedding a list is not quoting a post
                   5: ("reply", ref, ref)}
    first = store[f"bluesky:{quoted}"]
    assert first.entities.hashtags == ["rappel"]
    assert first.entities.links == ["https://www.lemonde.fr/brivolle-rappel"]  # the facet's full target
    assert first.entities.domains == ["lemonde.fr"]


def test_bluesky_feed_repost_reason_is_a_repost():
    """`app.bsky.feed.defs#feedViewPost` with `reason: #reasonRepost` (author feeds, timelines)."""
    item = {"post": bsky_post(1), "reason": {"$type": "app.bsky.feed.defs#reasonRepost",
                                             "by": {"did": "did:plc:bob", "handle": "bob.bsky.social"},
                                             "indexedAt": "2026-03-02T10:05:00.000Z"},
            "profile": {"did": "did:plc:bob", "followersCount": 250000, "createdAt": "2026-03-01T00:00:00.000Z"}}
    post = normalise_post(item)
    assert post.relation == "repost" and post.ref_id == f"bluesky:at://{DID}/app.bsky.feed.post/3k0001"
    assert post.author.id == "did:plc:bob" and post.author.followers == 250000
    assert post.author.created_at == datetime(2026, 3, 1, tzinfo=timezone.utc)
    assert post.created_at == datetime(2026, 3, 2, 10, 5, tzinfo=timezone.utc)
    assert post.id != f"bluesky:at://{DID}/app.bsky.feed.post/3k0001"  # never overwrites the original


# -- Reddit: crossposts, comments, link submissions ---------------------------------------------------

def test_reddit_crossposts_and_links(reddit_env):
    parent = link(1, title="Brivolle rappelle ses poussettes", selftext="", is_self=False,
                  url="https://www.leparisien.fr/brivolle.php")
    plain = link(2, title="Brivolle rappelle ses poussettes", selftext="", crosspost_parent=parent["data"]["name"],
                 crosspost_parent_list=[parent["data"]], is_self=False, url="/r/brivolle/comments/x/")
    worded = link(3, title="Encore eux !", selftext="", crosspost_parent=parent["data"]["name"],
                  crosspost_parent_list=[parent["data"]])
    with FixtureServer(FakeReddit([parent, plain, worded])) as server:
        listener = reddit(server)
        store: dict = {}
        drain(listener, listener.plan([T()])[1], None, NOW, store)
    rel = {p.id: (p.relation, p.ref_id) for p in store.values()}
    ref = f"reddit:{parent['data']['name']}"
    assert rel[f"reddit:{plain['data']['name']}"] == ("repost", ref)
    assert rel[f"reddit:{worded['data']['name']}"] == ("quote", ref)
    assert rel[ref] == ("original", None)
    assert store[ref].entities.domains == ["leparisien.fr"]


# -- feeds and the text fallback ----------------------------------------------------------------------

def test_feed_items_are_originals_linking_to_their_article():
    entry = {"id": "urn:1", "title": "Brivolle : rappel de poussettes", "link": "https://www.liberation.fr/eco/brivolle/",
             "summary": "<p>Le fabricant rappelle…</p>", "published_parsed": (2026, 3, 2, 9, 0, 0, 0, 0, 0)}
    post = normalise_entry("https://www.liberation.fr/rss", entry, NOW)
    assert post.relation == "original" and post.ref_id is None
    assert post.entities.domains == ["liberation.fr"]


def test_text_fallback_and_registered_domains_offline():
    e = from_text("Honteux #Brivolle #brivolle @Ana_B et @bob@mastodon.social → https://bit.ly/3xY, voir "
                  "https://news.bbc.co.uk/a#b?c=@d. Mail: x@y.fr")
    assert e.hashtags == ["brivolle"] and e.mentions == ["ana_b", "bob@mastodon.social"]
    assert e.links == ["https://bit.ly/3xY", "https://news.bbc.co.uk/a#b?c=@d"]
    assert e.domains == ["bit.ly", "bbc.co.uk"]  # the Public Suffix List bundled in tldextract, never fetched
    assert registered_domain("http://192.168.0.1/x") is None and registered_domain("http://localhost:8080") is None
    assert registered_domain("https://user.github.io/p") == "github.io"
