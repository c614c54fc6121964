"""`vigie es setup/check/template` driven from a config file, as a deploy would run them. The cluster is
osmem behind the header-rewriting proxy of es_fixtures (the CLI builds its own client from the config)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from vigie.app.cli.es import es
from vigie.store.elasticsearch.schema import export


def _config(tmp_path, url: str, prefix: str, extra: str = "") -> str:
    path = tmp_path / "vigie.yml"
    path.write_text(
        "topics:\n  - id: acme\n    name: Acme\n    query: acme\n"
        f"store:\n  type: elasticsearch\n  url: {url}\n  prefix: {prefix}\n  retention_days: 30\n{extra}",
        encoding="utf-8",
    )
    return str(path)


def test_setup_then_check(tmp_path, es_proxy, es_prefix):
    cfg = _config(tmp_path, es_proxy.url, es_prefix)
    first = CliRunner().invoke(es, ["setup", "--config", cfg])
    assert first.exit_code == 0, first.output
    assert f"ok  index {es_prefix}-posts-000001 with write alias {es_prefix}-posts" in first.output
    again = CliRunner().invoke(es, ["setup", "--config", cfg])  # every deploy runs it
    assert again.exit_code == 0, again.output
    assert f"ok  write alias {es_prefix}-posts: exists, mapping updated" in again.output
    check = CliRunner().invoke(es, ["check", "--config", cfg])
    assert check.exit_code == 0, check.output
    assert f"write alias {es_prefix}-posts: present" in check.output
    assert "posts stored: 0" in check.output


def test_check_before_setup_says_what_to_do(tmp_path, es_proxy, es_prefix):
    result = CliRunner().invoke(es, ["check", "--config", _config(tmp_path, es_proxy.url, es_prefix)])
    assert result.exit_code == 0, result.output
    assert "missing (run vigie es setup)" in result.output


def test_setup_against_nothing_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(es, ["setup", "--config", _config(tmp_path, "http://127.0.0.1:9", "vigie")])
    assert result.exit_code == 1
    assert "is unreachable" in result.output and "Traceback" not in result.output


def test_setup_needs_an_elasticsearch_store(tmp_path):
    path = tmp_path / "vigie.yml"
    path.write_text("topics:\n  - id: acme\n    name: Acme\n    query: acme\n", encoding="utf-8")
    result = CliRunner().invoke(es, ["setup", "--config", str(path)])
    assert result.exit_code == 1 and "needs `store: {type: elasticsearch}`" in result.output


def test_missing_secret_env_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv("VIGIE_TEST_NO_KEY", raising=False)
    cfg = _config(tmp_path, "http://127.0.0.1:9", "vigie", "  api_key_env: VIGIE_TEST_NO_KEY\n")
    result = CliRunner().invoke(es, ["setup", "--config", cfg])
    assert result.exit_code == 1 and "VIGIE_TEST_NO_KEY" in result.output


def test_template_prints_what_setup_installs(tmp_path):
    result = CliRunner().invoke(es, ["template"])
    assert result.exit_code == 0
    assert json.loads(result.output) == json.loads(json.dumps(export()))
    out = tmp_path / "t.json"
    assert CliRunner().invoke(es, ["template", "--prefix", "prod", "--out", str(out)]).exit_code == 0
    assert "prod-posts" in json.loads(out.read_text())["index_templates"]


def test_compose_runs_the_tested_commands_with_a_valid_config():
    from pathlib import Path

    import yaml

    from vigie.core.config import load_config

    root = Path(__file__).resolve().parents[1]
    compose = yaml.safe_load((root / "docker-compose.yml").read_text(encoding="utf-8"))
    assert {"elasticsearch", "kibana", "vigie-setup"} <= set(compose["services"])
    command = " ".join(compose["services"]["vigie-setup"]["command"])
    assert "vigie es setup --config /config/vigie.yml" in command
    assert "vigie kibana import --url http://kibana:5601" in command
    config = load_config(root / "deploy" / "vigie.docker.yml")
    assert config.store.type == "elasticsearch" and config.store.password_env == "ES_PASSWORD"
