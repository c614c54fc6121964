"""`vigie demo`: the bundled scenario replayed in simulated time through the real pipeline.

The replay listener only releases posts created before the simulated clock, detection runs at every
bucket boundary (`vigie.pipeline.replay.simulate`), and alerts go to the configured channels as they fire,
exactly as they would live. At the end the alert timeline is compared with the scenario's ground truth.
This module holds what is the demo's own: its store safety checks and its channels.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from vigie.core.config import ChannelConfig, VigieConfig
from vigie.core.models import Cursor, utc
from vigie.store import Store, open_store, store_backend

# The demo signs the stores it creates (a cursor row: every backend has them), so that it never deletes or
# fills with simulated posts a store it did not create.
DEMO_MARK = ("vigie-demo", "store")

# The bundled demo scenario (a checkout's samples/demo). Its posts (2 MB) are not committed: they are generated
# here, byte for byte the same every time (seed 7; tests/test_scenario.py checks truth.json and the config
# against the generator), the first time anything needs them.
BUNDLED_DEMO = Path(__file__).resolve().parents[2] / "samples" / "demo"


def ensure_bundled_demo(folder: Path = BUNDLED_DEMO) -> Path | None:
    """Generate the bundled demo's posts.jsonl if the checkout has the demo folder but not yet its posts (a
    fresh clone). Returns the posts file, or None when there is no bundled demo (an installed package)."""
    posts = folder / "posts.jsonl"
    if posts.exists() or not (folder / "vigie.yml").exists():
        return posts if posts.exists() else None
    from vigie.sim.scenario import DEMO_SEED, generate, write

    tmp = folder / ".generating"
    write(generate(DEMO_SEED), tmp)  # in a side folder, then renamed: a reader never sees half a file
    (tmp / "posts.jsonl").replace(posts)
    (tmp / "truth.json").replace(folder / "truth.json")
    tmp.rmdir()
    return posts


def load_truth(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


class ForeignStore(Exception):
    """The configured store holds data the demo did not write; the message says what and how to proceed."""


def is_demo_store(store: Store) -> bool:
    return store.get_cursor(*DEMO_MARK) is not None


def mark_demo_store(store: Store) -> None:
    store.set_cursor(Cursor(source=DEMO_MARK[0], query=DEMO_MARK[1], value={"created_by": "vigie demo"},
                            updated_at=utc(time.time())))


def check_store_is_ours(config: VigieConfig) -> None:
    """ForeignStore unless the configured store is absent, empty, or was created by the demo."""
    files = store_backend(config.store).files(config.store)
    if files and not files[0].exists():
        return
    store = open_store(config.store)
    try:
        if is_demo_store(store):
            return
        posts, alerts = store.count_posts(), len(store.alert_history())
    finally:
        store.close()
    if posts or alerts:
        where = store_backend(config.store).location(config.store)
        raise ForeignStore(
            f"{where} was not created by `vigie demo` ({posts} posts, {alerts} alerts): the demo would "
            f"{'delete it' if files else 'fill it with simulated posts'} and page its "
            "channels with simulated alerts. Fix: give the demo its own store (`store:` in the demo config), "
            "or pass --force if that is really what you want."
        )


def console_only(config: VigieConfig) -> VigieConfig:
    """The demo's alerts are simulated: without --force they go to the console, never to a real channel."""
    config.channels = [c for c in config.channels if c.type == "console"] or [ChannelConfig(type="console", min_level="watch")]
    return config


def with_slack_from_env(config: VigieConfig) -> VigieConfig:
    """If SLACK_WEBHOOK_URL is set, the demo's alerts also go to Slack (issue 2)."""
    if os.environ.get("SLACK_WEBHOOK_URL") and not any(c.type == "slack_webhook" for c in config.channels):
        config.channels.append(ChannelConfig(type="slack_webhook", webhook_env="SLACK_WEBHOOK_URL", min_level="warning"))
    return config
