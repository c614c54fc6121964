"""`vigie notify test` and the receiver's description of what it got."""

from __future__ import annotations

import textwrap

from click.testing import CliRunner

from vigie.app.cli.notify import describe, notify
from alerts.notify.receiver import LocalReceiver, Reply


def write_config(tmp_path, server_url: str) -> str:
    path = tmp_path / "vigie.yml"
    path.write_text(textwrap.dedent(f"""
        topics:
          - id: acme
            name: Acme
            query: acme
        channels:
          - type: slack_webhook
            min_level: warning
          - type: pagerduty
            min_level: crisis
            url: {server_url}
    """))
    return str(path)


def test_notify_test_sends_a_marked_test_alert_to_each_channel(tmp_path, monkeypatch):
    with LocalReceiver() as server:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", server.url + "/services/T/B/s3cr3t")
        monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", "R0UT1NG-k3y-000")
        result = CliRunner().invoke(notify, ["test", "--config", write_config(tmp_path, server.url)])
        assert result.exit_code == 0, result.output
        assert "slack_webhook: sent after 1 attempt(s)" in result.output
        assert "pagerduty: sent after 1 attempt(s)" in result.output
        lines = [describe(r) for r in server.requests]
    assert lines[0] == "[slack webhook] 🔴 CRISIS · vigie-test — opened — 6 blocks, 1 evidence posts"
    assert lines[1].startswith("[pagerduty] trigger vigie:vigie-test:") and lines[2].startswith("[pagerduty] resolve")
    assert "s3cr3t" not in result.output and "R0UT1NG" not in result.output


def test_notify_test_fails_loudly_on_a_missing_secret_or_a_refused_channel(tmp_path, monkeypatch):
    with LocalReceiver() as server:
        config = write_config(tmp_path, server.url)
        monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
        result = CliRunner().invoke(notify, ["test", "--config", config])
        assert result.exit_code != 0 and "SLACK_WEBHOOK_URL is not set" in result.output
        monkeypatch.setenv("SLACK_WEBHOOK_URL", server.url + "/services/T/B/s3cr3t")
        monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", "R0UT1NG-k3y-000")
        server.script("/services", Reply(404, "no_service"))
        result = CliRunner().invoke(notify, ["test", "--config", config, "--channel", "slack_webhook"])
        assert result.exit_code != 0
        assert "slack_webhook: failed after 1 attempt(s) — HTTP 404 refused" in result.output
        assert "1 channel(s) failed" in result.output
