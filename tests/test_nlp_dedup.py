"""Near-duplicate clusters: stable ids, distinct authors, time window, across batches."""

from datetime import datetime, timedelta, timezone

from nlp.dedup import NearDuplicateIndex, Signatures, shingle
from vigie.core.models import Author, Post

T0 = datetime(2026, 11, 23, 8, tzinfo=timezone.utc)
RAID = "Brivolle vend des bouilloires dangereuses qui prennent feu, boycott immédiat, partagez partout"


def post(n: int, text: str, author: str | None, minutes: float = 0) -> Post:
    return Post(id=f"x:{n}", source="x", text=text, created_at=T0 + timedelta(minutes=minutes), author=Author(id=author))


def test_copies_by_distinct_authors_share_the_id_of_the_first_post() -> None:
    index = NearDuplicateIndex()
    posts = [
        post(3, RAID + " @brivolle_fr", "c", minutes=2),  # mentions/URLs vary in raids
        post(1, RAID, "a", minutes=0),
        post(2, RAID + " https://t.co/xyz", "b", minutes=1),
        post(4, "Totally unrelated post about the weather in Lyon today", "d", minutes=1),
    ]
    assert index.assign(posts) == ["x:1", "x:1", "x:1", None]  # named after the earliest, whatever the order


def test_one_author_repeating_is_not_coordination() -> None:
    index = NearDuplicateIndex()
    assert index.assign([post(1, RAID, "a"), post(2, RAID, "a", 1), post(3, RAID, "a", 2)]) == [None, None, None]
    assert index.assign([post(4, RAID, "b", 3)]) == ["x:1"]
    assert index.labelled_late() == ["x:1", "x:2", "x:3"]
    assert index.labelled_late() == []


def test_unknown_authors_count_as_distinct() -> None:
    index = NearDuplicateIndex()
    assert index.assign([post(1, RAID, None), post(2, RAID, None, 1)]) == ["x:1", "x:1"]


def test_small_edits_still_cluster_but_different_texts_do_not() -> None:
    index = NearDuplicateIndex()
    edited = RAID.replace("immédiat", "immédiatement")
    other = "Brivolle a livré ma bouilloire en avance, emballage soigné, je suis ravie de mon achat"
    assert index.assign([post(1, RAID, "a"), post(2, edited, "b", 1), post(3, other, "c", 2)]) == ["x:1", "x:1", None]


def test_short_posts_are_never_clustered() -> None:
    index = NearDuplicateIndex()
    assert shingle("merci beaucoup !") == []
    assert index.assign([post(i, "nul nul nul", f"u{i}", i) for i in range(5)]) == [None] * 5


def test_the_window_forgets_old_posts() -> None:
    index = NearDuplicateIndex(window=timedelta(hours=1))
    index.assign([post(1, RAID, "a", 0)])
    index.assign([post(2, "Une toute autre histoire de livraison ratée chez un voisin", "z", 90)])
    assert index.assign([post(3, RAID, "b", 91)]) == [None]  # x:1 left the window: a new cluster starts
    assert index.assign([post(4, RAID, "c", 92)]) == ["x:3"]


def test_reanalysing_a_post_keeps_its_cluster() -> None:
    index = NearDuplicateIndex()
    index.assign([post(1, RAID, "a"), post(2, RAID, "b", 1)])
    assert index.assign([post(2, RAID, "b", 1)]) == ["x:1"]
    assert len(index) <= 2


def test_a_large_raid_stays_fast() -> None:
    index = NearDuplicateIndex()
    posts = [post(i, RAID + f" #{i % 7}", f"u{i}", i / 60) for i in range(3000)]
    import time

    start = time.perf_counter()
    out = index.assign(posts)
    assert time.perf_counter() - start < 5  # ≈0.3 s here; quadratic behaviour would take minutes
    assert set(out) == {"x:0"}
    assert len(index) <= 3  # only a few representatives are indexed


def test_naive_times_are_taken_as_utc() -> None:
    index = NearDuplicateIndex()
    naive = Post(id="x:1", source="x", text=RAID, created_at=T0.replace(tzinfo=None), author=Author(id="a"))
    assert index.assign([naive, post(2, RAID, "b", 1)]) == ["x:1", "x:1"]


def test_signatures_computed_elsewhere_give_the_same_clusters() -> None:
    """What the worker processes send (signatures of consecutive chunks) clusters exactly as the serial path."""
    texts = ["Brivolle explose en pleine cuisson, plusieurs brûlés, quel scandale",
             "court", "Brivolle explose en pleine cuisson, plusieurs brûlés, quel scandale !!",
             "Loving my new Brivolle kettle, it boils water really fast and quietly"]
    posts = [post(i, texts[i % len(texts)], f"u{i % 5}", minutes=i) for i in range(24)]
    serial, given = NearDuplicateIndex(), NearDuplicateIndex()
    parts = [Signatures.of([p.text for p in posts[i:i + 7]], given.num_perm) for i in range(0, 24, 7)]
    signatures = Signatures.concat(parts).minhashes()
    assert signatures[1] is None and signatures[0] is not None  # too short to compare
    expected = serial.assign(posts)
    assert given.assign(posts, signatures) == expected
    assert any(expected) and None in expected
