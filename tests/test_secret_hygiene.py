"""Secrets never reach a log record or the store, whole or in pieces: endpoints that answer 404 quoting
the path (and query) they were called on, slack_sdk's own ERROR lines quoting raw responses, third-party
loggers, tracebacks. Real local endpoints (alerts.notify.receiver), the real SQLite store, the one log
filter installed as `vigie` installs it at start-up."""

from __future__ import annotations

import logging
import sqlite3
from urllib.parse import quote, unquote

import pytest
from notify_fixtures import fast_retry, open_store
from vigie.sim.sample_alerts import make_alert

from alerts.notify import build_notifiers, deliver
from alerts.notify.receiver import LocalReceiver, Reply
from vigie.core.config import ChannelConfig
from vigie.core.secrets import MASK, fragments, install_log_filter, register, scrub

SLACK_PATH = "/services/T0VIGIE01/B0VIGIE02/s3cr3tW3bh00kT0ken0000"
TEAMS_PATH = "/teams/workflows/8f3c2a9e41d74b0c9b1e6a7d5c3f2e10/triggers/manual/paths/invoke"
TEAMS_QUERY = "api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=T3amsS1gnatur3Xyz0123456789abcdef"
# Built at run time so that no token-shaped literal sits in the repository (secret scanners flag them).
BOT_TOKEN = "-".join(("xoxb", "1234567890", "0987654321", "S3cr3tB0tT0k3nV4lu3"))
# What must never be seen, alone or inside a longer text.
LEAKS = ["T0VIGIE01/B0VIGIE02", "s3cr3tW3bh00kT0ken0000", "8f3c2a9e41d74b0c9b1e6a7d5c3f2e10",
         "T3amsS1gnatur3Xyz0123456789abcdef", "S3cr3tB0tT0k3nV4lu3"]


def echo_path(got) -> str:
    """A 404 page that quotes the request, as many gateways and misconfigured endpoints do."""
    return f"Not found: POST {got.path} (decoded: {unquote(got.path)}; encoded: {quote(got.path, safe='')})"


def leaks_in(text: str) -> list[str]:
    return [s for s in LEAKS if s in text or quote(s, safe="") in text]


def stored_text(db_path) -> str:
    con = sqlite3.connect(db_path)
    try:
        rows = []
        for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            rows += [repr(r) for r in con.execute(f'SELECT * FROM "{table}"')]
        return "\n".join(rows)
    finally:
        con.close()


@pytest.fixture
def receiver():
    with LocalReceiver() as r:
        yield r


def test_a_404_that_echoes_the_path_leaks_no_webhook_path_nor_sig_to_logs_or_store(tmp_path, receiver, monkeypatch, caplog):
    install_log_filter()
    monkeypatch.setenv("SLACK_WEBHOOK_URL", receiver.url + SLACK_PATH)
    monkeypatch.setenv("TEAMS_WEBHOOK_URL", f"{receiver.url}{TEAMS_PATH}?{TEAMS_QUERY}")
    receiver.script("/services", Reply(404, echo_path))
    receiver.script("/teams", Reply(404, echo_path))
    retry, _ = fast_retry(2)
    store = open_store(tmp_path)
    alert = make_alert()
    store.save_alert(alert)
    with caplog.at_level(logging.DEBUG):  # every logger, every level
        notifiers = build_notifiers([ChannelConfig(type="slack_webhook"), ChannelConfig(type="teams")], retry=retry)
        got = deliver(alert, "open", notifiers, store)
    # The endpoints were called on the secret paths and echoed them: the test can fail.
    assert receiver.to(SLACK_PATH) and receiver.to(TEAMS_PATH)
    assert [(d.channel, d.status) for d in got] == [("slack_webhook", "failed"), ("teams", "failed")]
    for d in got:
        assert "HTTP 404" in d.error and MASK in d.error and not leaks_in(d.error), d.error
    for record in caplog.records:
        assert not leaks_in(record.getMessage()), record.getMessage()
    assert any("HTTP 404" in r.getMessage() for r in caplog.records)
    assert not leaks_in(caplog.text)
    store.close()
    assert "HTTP 404" in stored_text(tmp_path / "notify.db") and not leaks_in(stored_text(tmp_path / "notify.db"))


def test_slack_sdk_own_error_lines_quoting_raw_responses_are_scrubbed(receiver, monkeypatch, caplog):
    install_log_filter()
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    # A proxy's HTML error page, served 200, quoting the request's Authorization header.
    receiver.script("/api/chat.postMessage", Reply(200, lambda got: f"<html>denied: {got.headers.get('authorization')}</html>",
                                                   headers={"Content-Type": "text/html"}))
    retry, _ = fast_retry(1)
    with caplog.at_level(logging.DEBUG):
        [bot] = build_notifiers([ChannelConfig(type="slack_bot", channel="#crisis", url=receiver.url + "/api/")], retry=retry)
        delivery = bot.send(make_alert(), "open")
    sdk_lines = [r for r in caplog.records if "Failed to decode Slack API response" in r.getMessage()]
    assert sdk_lines, [r.getMessage() for r in caplog.records]  # slack_sdk did log the raw response...
    assert all(MASK in r.getMessage() for r in sdk_lines)  # ...with the token masked
    assert not leaks_in(caplog.text) and not leaks_in(delivery.error or "")


def test_the_filter_covers_third_party_loggers_arguments_and_tracebacks(caplog):
    install_log_filter()
    url = "https://hooks.slack.com" + SLACK_PATH
    register(url)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("urllib3.connectionpool").debug('%s "POST %s HTTP/1.1" 404 -', "hooks.slack.com:443", SLACK_PATH)
        try:
            raise RuntimeError(f"cannot reach {url}")
        except RuntimeError:
            logging.getLogger("some.library").exception("failed")
    assert len(caplog.records) == 2 and not leaks_in(caplog.text)
    assert "RuntimeError: cannot reach ***" in caplog.text


def test_fragments_of_a_url_secret():
    frags = fragments("https://prod-07.westeurope.logic.azure.com:443" + TEAMS_PATH + "?" + TEAMS_QUERY)
    text = scrub(f"404 for {TEAMS_PATH}?{TEAMS_QUERY} sig=T3amsS1gnatur3Xyz0123456789abcdef",
                 ["https://prod-07.westeurope.logic.azure.com:443" + TEAMS_PATH + "?" + TEAMS_QUERY])
    assert not leaks_in(text) and "404 for" in text
    assert "api-version=2016-06-01" not in frags and "/triggers/manual" not in frags  # public parts stay readable
    # Short values would mask ordinary words everywhere: not registered.
    assert fragments("test") == set() and scrub("a test message", ["test"]) == "a test message"


def test_vigie_run_with_a_pager_answering_404_exits_partial_and_leaks_nothing(tmp_path, receiver, monkeypatch, caplog):
    """Through the real CLI (its start-up installs the filter): a surge raises an alert, Slack and Teams
    answer 404 quoting their secret paths; the run says "partial failure" and nothing leaks anywhere."""
    from click.testing import CliRunner
    from test_es_e2e import END, _replay

    from vigie.app.cli.main import cli
    from vigie.app.cli.run import EXIT_PARTIAL

    monkeypatch.setenv("SLACK_WEBHOOK_URL", receiver.url + SLACK_PATH)
    monkeypatch.setenv("TEAMS_WEBHOOK_URL", f"{receiver.url}{TEAMS_PATH}?{TEAMS_QUERY}")
    for prefix in ("/services", "/teams"):
        receiver.script(prefix, *[Reply(404, echo_path)] * 4)
    _replay(tmp_path / "posts.jsonl")
    config = tmp_path / "vigie.yml"
    config.write_text(
        "topics:\n  - id: acme\n    name: Acme\n    query: acme\n"
        f"sources:\n  replay: {{type: replay, path: {tmp_path / 'posts.jsonl'}}}\n"
        f"store: {{type: sqlite, path: {tmp_path / 'vigie.db'}}}\n"
        "channels:\n  - {type: slack_webhook, min_level: watch}\n  - {type: teams, min_level: watch}\n",
        encoding="utf-8",
    )
    with caplog.at_level(logging.DEBUG):
        result = CliRunner().invoke(cli, ["run", "--config", str(config), "--now", END.isoformat()])
    assert result.exit_code == EXIT_PARTIAL, result.output
    assert "replay: ok" in result.output and "1 alert event(s)" in result.output
    assert result.output.count("failed: ") == 2 and "HTTP 404" in result.output  # both channels, reported
    assert receiver.to(SLACK_PATH) and receiver.to(TEAMS_PATH)
    assert not leaks_in(result.output) and not leaks_in(caplog.text)
    assert not leaks_in(stored_text(tmp_path / "vigie.db")) and "HTTP 404" in stored_text(tmp_path / "vigie.db")


def test_the_airflow_glue_installs_the_filter_with_every_configured_secret(tmp_path, monkeypatch, caplog):
    """Airflow tasks load their config through `vigie.pipeline.airflow.load`: from then on a task log line can
    carry no configured secret, even one no code has read yet (here: the Teams URL of a channel)."""
    from vigie.pipeline import airflow as af

    monkeypatch.setenv("VIGIE_T_TEAMS", f"https://prod-07.westeurope.logic.azure.com:443{TEAMS_PATH}?{TEAMS_QUERY}")
    config = tmp_path / "vigie.yml"
    config.write_text("topics:\n  - {id: acme, name: Acme, query: acme}\n"
                      "channels:\n  - {type: teams, webhook_env: VIGIE_T_TEAMS}\n", encoding="utf-8")
    monkeypatch.setenv("VIGIE_CONFIG", str(config))
    af.load(None)
    with caplog.at_level(logging.INFO):
        logging.getLogger("vigie.tests.task_log").info("a gateway said: 404 for %s?%s", TEAMS_PATH, TEAMS_QUERY)
    assert "404 for" in caplog.text and not leaks_in(caplog.text)
