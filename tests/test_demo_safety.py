"""`vigie demo` never deletes a store it did not create and never pages a real channel with simulated
alerts, unless `--force` says so. Real CLI, real SQLite, a real local Slack endpoint."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_es_e2e import END, _replay

from alerts.notify.receiver import LocalReceiver
from vigie.app.cli.main import cli
from vigie.store.sqlite import SqliteStore


def write_config(tmp_path: Path) -> Path:
    _replay(tmp_path / "posts.jsonl")  # a quiet day, then a negative surge: alerts fire
    path = tmp_path / "vigie.yml"
    path.write_text(
        "topics:\n  - id: acme\n    name: Acme\n    query: acme\n"
        f"sources:\n  replay: {{type: replay, path: {tmp_path / 'posts.jsonl'}}}\n"
        f"store: {{type: sqlite, path: {tmp_path / 'vigie.db'}}}\n"
        "channels:\n  - {type: console, min_level: watch}\n  - {type: slack_webhook, min_level: watch, webhook_env: DEMO_TEST_SLACK}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def slack(monkeypatch):
    with LocalReceiver() as receiver:
        monkeypatch.setenv("DEMO_TEST_SLACK", receiver.url + "/services/T0DEMO/B0DEMO/demoW3bh00kS3cret")
        yield receiver


def posts_in(db: Path) -> int:
    store = SqliteStore(db)
    try:
        return store.count_posts()
    finally:
        store.close()


def test_demo_refuses_a_store_it_did_not_create_unless_forced(tmp_path, slack):
    config = write_config(tmp_path)
    # A production-like store: filled by `vigie run`, not by the demo.
    run = CliRunner().invoke(cli, ["run", "--config", str(config), "--now", (END - timedelta(hours=3)).isoformat()])
    assert run.exit_code == 0, run.output
    before = posts_in(tmp_path / "vigie.db")
    assert before > 0
    refused = CliRunner().invoke(cli, ["demo", "--config", str(config), "--report", str(tmp_path / "r.html")])
    assert refused.exit_code == 1
    assert "was not created by `vigie demo`" in refused.output and "--force" in refused.output
    assert posts_in(tmp_path / "vigie.db") == before  # untouched
    resumed = CliRunner().invoke(cli, ["demo", "--config", str(config), "--resume", "--report", str(tmp_path / "r.html")])
    assert resumed.exit_code == 1 and "was not created by `vigie demo`" in resumed.output
    assert not slack.requests
    forced = CliRunner().invoke(cli, ["demo", "--config", str(config), "--force", "--report", str(tmp_path / "r.html")])
    assert forced.exit_code == 0, forced.output
    # Its own store now: a second demo needs no --force.
    again = CliRunner().invoke(cli, ["demo", "--config", str(config), "--report", str(tmp_path / "r.html")])
    assert again.exit_code == 0, again.output


def test_demo_alerts_stay_on_the_console_unless_forced(tmp_path, slack):
    config = write_config(tmp_path)
    quiet = CliRunner().invoke(cli, ["demo", "--config", str(config), "--report", str(tmp_path / "r.html")])
    assert quiet.exit_code == 0, quiet.output
    assert "WARNING" in quiet.output or "CRISIS" in quiet.output  # alerts fired (printed on the console)...
    assert slack.requests == []  # ...and the real channel heard nothing
    forced = CliRunner().invoke(cli, ["demo", "--config", str(config), "--force", "--report", str(tmp_path / "r.html")])
    assert forced.exit_code == 0, forced.output
    assert slack.to("/services/T0DEMO/B0DEMO/")  # explicitly asked for: the channel is paged
