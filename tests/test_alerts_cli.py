"""`vigie alerts list|ack` against a real SQLite store named by a config file."""

from __future__ import annotations

from datetime import datetime, timezone

from click.testing import CliRunner

from vigie.app.cli.alerts import alerts
from alerts.policy import acknowledge
from vigie.core.models import Alert, AlertState, HistoryEntry, Level
from vigie.store.sqlite import SqliteStore

T = datetime(2026, 3, 4, 12, 0, tzinfo=timezone.utc)


def setup(tmp_path):
    db = tmp_path / "v.db"
    cfg = tmp_path / "vigie.yml"
    cfg.write_text(f"topics:\n  - id: acme\n    name: Acme\n    query: acme\nstore:\n  type: sqlite\n  path: {db}\n")
    key = Alert.make_dedup_key("acme", T)
    alert = Alert(id=Alert.make_id(key), dedup_key=key, topic_id="acme", level=Level.CRISIS, risk=88.0,
                  opened_at=T, updated_at=T, state=AlertState.ESCALATED, peak_level=Level.CRISIS, peak_risk=88.0,
                  history=[HistoryEntry.from_dict({"at": "2026-03-04T12:00:00Z", "event": "open", "level": "warning",
                                                    "risk": 60.0})])
    store = SqliteStore(db)
    store.save_alert(alert)
    store.close()
    return cfg, db, alert


def test_ack_records_who_and_when_once(tmp_path):
    cfg, db, alert = setup(tmp_path)
    runner = CliRunner()
    res = runner.invoke(alerts, ["ack", alert.id, "--by", "alice", "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    assert f"alert {alert.id} (acme, crisis) acknowledged by alice" in res.output
    store = SqliteStore(db)
    acked = store.get_alert(alert.id)
    store.close()
    assert acked.acknowledged_by == "alice" and acked.acknowledged_at is not None
    assert acked.history[-1].event == "ack" and acked.history[-1].by == "alice"
    assert acked.state == AlertState.ESCALATED and acked.level == Level.CRISIS  # the lifecycle is untouched
    res = runner.invoke(alerts, ["ack", alert.id, "--by", "bob", "--config", str(cfg)])
    assert res.exit_code == 0 and "already acknowledged by alice" in res.output
    store = SqliteStore(db)
    assert store.get_alert(alert.id).acknowledged_by == "alice"
    store.close()
    res = runner.invoke(alerts, ["list", "--config", str(cfg)])
    assert res.exit_code == 0 and alert.id in res.output and "ack by alice" in res.output


def test_ack_unknown_id_or_blank_name_is_a_clear_error(tmp_path):
    cfg, _, alert = setup(tmp_path)
    runner = CliRunner()
    res = runner.invoke(alerts, ["ack", "deadbeef0000", "--by", "alice", "--config", str(cfg)])
    assert res.exit_code == 1 and "no alert with id 'deadbeef0000'" in res.output
    res = runner.invoke(alerts, ["ack", alert.id, "--by", "  ", "--config", str(cfg)])
    assert res.exit_code == 1 and "needs a name" in res.output
    res = runner.invoke(alerts, ["ack", alert.id, "--by", "alice", "--config", str(tmp_path / "missing.yml")])
    assert res.exit_code == 1 and "file not found" in res.output


def test_ack_waits_for_the_detection_lease_and_never_writes_without_it(tmp_path):
    # A detector holding the lease may be rewriting this very alert: `vigie alerts ack` must not commit a copy
    # it read outside the lease (the detector's update, or the acknowledgement, would be lost).
    from vigie.pipeline.steps import DETECT_LEASE, new_owner

    cfg, db, alert = setup(tmp_path)
    cfg.write_text(cfg.read_text() + "delivery:\n  lease_wait_s: 0.3\n")
    detector = SqliteStore(db)
    owner = new_owner()
    assert detector.acquire_lease(DETECT_LEASE, owner, 60)
    runner = CliRunner()
    res = runner.invoke(alerts, ["ack", alert.id, "--by", "alice", "--config", str(cfg)])
    assert res.exit_code == 1 and "busy" in res.output, res.output
    assert SqliteStore(db).get_alert(alert.id).acknowledged_by is None  # nothing written behind the detector's back
    detector.release_lease(DETECT_LEASE, owner)
    detector.close()
    res = runner.invoke(alerts, ["ack", alert.id, "--by", "alice", "--config", str(cfg)])
    assert res.exit_code == 0 and "acknowledged by alice" in res.output, res.output


def test_acknowledge_is_pure():
    key = Alert.make_dedup_key("acme", T)
    alert = Alert(id=Alert.make_id(key), dedup_key=key, topic_id="acme", level=Level.WARNING, risk=60.0,
                  opened_at=T, updated_at=T)
    out = acknowledge(alert, " carol ", T)
    assert alert.acknowledged_by is None and out.acknowledged_by == "carol" and out.acknowledged_at == T


def test_risk_shows_the_stored_trend_latest_level_and_drivers(tmp_path):
    from datetime import timedelta

    from vigie.core.models import RiskPoint

    cfg, db, _ = setup(tmp_path)
    store = SqliteStore(db)
    risks = [5.0] * 60 + [20.0, 45.0, 62.0, 81.0]  # calm, then a climb to crisis in the last 20 minutes
    store.save_risk([
        RiskPoint("acme", T + timedelta(minutes=5 * i), r, Level.CRISIS if r >= 75 else Level.WARNING if r >= 55 else None,
                  {"negative_volume": min(r, 40.0), "crisis_terms": max(0.0, r - 40.0)})
        for i, r in enumerate(risks)
    ])
    store.close()
    end = T + timedelta(minutes=5 * (len(risks) - 1))
    result = CliRunner().invoke(alerts, ["risk", "--config", str(cfg), "--until", end.isoformat()])
    assert result.exit_code == 0, result.output
    first, *drivers = result.output.splitlines()
    assert first.startswith(f"acme  Acme: risk 81 (crisis) at {end.isoformat().replace('+00:00', 'Z')}")
    assert first.endswith("max 81 over 6 h") and "▁" in first and "█" not in first and "▇" in first
    assert drivers == ["    + 41.0 crisis_terms", "    + 40.0 negative_volume"]
    # A period without detection says so; a bad time or topic is a clear error.
    quiet = CliRunner().invoke(alerts, ["risk", "--config", str(cfg), "--until", "2020-01-01T00:00:00Z"])
    assert quiet.exit_code == 0 and "no risk point from 2019-12-31T18:00:00Z to 2020-01-01T00:00:00Z" in quiet.output
    bad = CliRunner().invoke(alerts, ["risk", "--config", str(cfg), "--until", "yesterday"])
    assert bad.exit_code != 0 and "not an ISO-8601 time" in bad.output
    unknown = CliRunner().invoke(alerts, ["risk", "--config", str(cfg), "--topic", "nope"])
    assert unknown.exit_code != 0 and "no topic 'nope'" in unknown.output
