"""Config errors name the file, the key path, what was expected and what was found."""

from pathlib import Path

import pytest

from vigie.core.config import ConfigError, SecretMissing, env_secret, load_config

GOOD = """
topics:
  - id: lumen
    name: Maison Lumen
    query: lumen OR "maison lumen"
    sources: [replay]
sources:
  replay: {type: replay, path: posts.jsonl}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "vigie.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_config_loads_with_defaults_and_resolves_replay_path(tmp_path):
    config = load_config(write(tmp_path, GOOD))
    assert config.topics[0].id == "lumen"
    assert config.topics[0].thresholds.crisis == 75
    assert config.store.type == "sqlite"
    assert config.sources["replay"].path == (tmp_path / "posts.jsonl").resolve()
    assert config.channels[0].type == "console"


def test_missing_key_names_file_path_and_fix(tmp_path):
    path = write(tmp_path, GOOD.replace("    name: Maison Lumen\n", ""))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    msg = str(err.value)
    assert str(path) in msg
    assert "topics[0].name: required key is missing" in msg
    assert "Fix: add `name:`" in msg


def test_wrong_type_says_expected_and_found(tmp_path):
    path = write(tmp_path, GOOD + "detection:\n  bucket_minutes: often\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    msg = str(err.value)
    assert "detection.bucket_minutes" in msg
    assert "valid integer" in msg
    assert "found 'often'" in msg


def test_unknown_source_in_topic_lists_known_sources(tmp_path):
    path = write(tmp_path, GOOD.replace("sources: [replay]", "sources: [replay, tiktok]"))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    msg = str(err.value)
    assert "topics[0].sources[1]" in msg
    assert "found 'tiktok'" in msg
    assert "(replay)" in msg


def test_unknown_source_type_lists_expected_types(tmp_path):
    path = write(tmp_path, GOOD.replace("replay: {type: replay, path: posts.jsonl}", "tk: {type: tiktok}"))
    path.write_text(path.read_text().replace("sources: [replay]", "sources: [tk]"))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    msg = str(err.value)
    assert "sources.tk.type" in msg
    assert "found 'tiktok'" in msg
    assert "'replay'" in msg and "'x'" in msg


def test_misspelled_key_is_rejected(tmp_path):
    path = write(tmp_path, GOOD.replace("    query:", "    querry: x\n    query:"))
    with pytest.raises(ConfigError, match=r"topics\[0\]\.querry: unknown key"):
        load_config(path)


@pytest.mark.parametrize("name", ["reddit", "feeds", "my_forum"])
def test_misspelled_key_of_a_source_names_the_source_even_when_named_like_a_platform(tmp_path, name):
    # A source named after its platform (`sources.reddit: {type: reddit}`) is the common case: the path in
    # the error must still read sources.<name>.<key>, not lose the name with the union's member tag.
    body = GOOD.replace("sources: [replay]", f"sources: [{name}]") + (
        f"  {name}: {{type: reddit, subreddits: [france], subredits: [france]}}\n")
    path = write(tmp_path, body)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert f"sources.{name}.subredits: unknown key" in str(err.value)


def test_inline_secret_is_refused_and_not_echoed(tmp_path):
    secret = "https://hooks.example.invalid/T000/B000/notarealsecret"
    path = write(tmp_path, GOOD + f"channels:\n  - type: slack_webhook\n    webhook_env: {secret}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    msg = str(err.value)
    assert "channels[0].webhook_env" in msg
    assert "NAME of an environment variable" in msg
    assert "notarealsecret" not in msg and "hooks.example" not in msg


@pytest.mark.parametrize("snippet", [
    # a token pasted into a *_env key of a source (the error is about its shape)
    # (an X bearer token's shape, assembled here so that no token-shaped literal sits in the repository)
    "sources:\n  x: {type: x, token_env: " + "A" * 21 + "MLheAAAAAAA0%2BuSeid%2BULvsea4JtiGRiSDSJSI}\n",
    # ...into a misspelt *_env key (an unknown key: its value is not shown either)
    "channels:\n  - {type: pagerduty, routing_keyenv: x, routing_key_envv: R0UT1NGK3YV4LU3S3CR3T}\n",
    # ...as a value whose type is wrong (the whole mapping would be echoed)
    "channels:\n  - {type: teams, min_level: loud, webhook_env: {url: R0UT1NGK3YV4LU3S3CR3T}}\n",
    # ...upper-case, it would pass for a variable name
    "channels:\n  - {type: pagerduty, routing_key_env: R0UT1NGK3YV4LU3S3CR3T}\n",
])
def test_a_secret_pasted_into_an_env_key_is_never_echoed(tmp_path, snippet):
    path = write(tmp_path, GOOD.replace("sources:\n  replay: {type: replay, path: posts.jsonl}\n", "") .replace("    sources: [replay]\n", "") + snippet)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    msg = str(err.value)
    assert "invalid configuration" in msg
    for secret in ("A" * 21 + "MLhe", "R0UT1NGK3YV4LU3S3CR3T"):
        assert secret not in msg, msg


def test_duplicate_keys_are_errors_naming_file_line_and_key(tmp_path):
    path = write(tmp_path, GOOD + "channels:\n  - {type: pagerduty, optional: true}\nchannels:\n  - {type: console}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == (f"{path}: duplicate key 'channels' at line 11 (first at line 9); YAML would silently "
                              "keep only the last one. Fix: merge the two into one.")
    nested = write(tmp_path, GOOD.replace("    sources: [replay]", "    sources: [replay]\n    query: other"))
    with pytest.raises(ConfigError, match=r"duplicate key 'query' at line 7 \(first at line 5\)"):
        load_config(nested)


def test_merge_keys_may_override_what_they_merge(tmp_path):
    path = write(tmp_path, GOOD + "channels:\n  - &ch {type: console, min_level: watch}\n  - {<<: *ch, min_level: crisis, options: {name: loud}}\n")
    config = load_config(path)
    assert [(c.type, c.min_level) for c in config.channels] == [("console", "watch"), ("console", "crisis")]


def test_an_alias_bomb_fails_fast(tmp_path):
    import time

    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    path = write(tmp_path, "\n".join(lines) + "\ntopics: *i\n")
    began = time.perf_counter()
    with pytest.raises(ConfigError, match="expands to more than 200,000 values"):
        load_config(path)
    assert time.perf_counter() - began < 0.5
    many = write(tmp_path, GOOD + "x: &x 1\ny: [" + ", ".join(["*x"] * 250) + "]\n")
    with pytest.raises(ConfigError, match="more than 200 YAML aliases"):
        load_config(many)


def test_a_file_that_is_not_utf8_gets_a_clear_message(tmp_path):
    path = tmp_path / "vigie.yml"
    path.write_bytes(GOOD.replace("Maison Lumen", "Maison Lumière").encode("latin-1"))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == (f"{path}: not UTF-8 text (byte 0xe8 at line 4, column 22). Fix: save the file as UTF-8 "
                              "(most editors: \"Save with encoding\" → UTF-8).")
    bom = tmp_path / "bom.yml"
    bom.write_bytes(b"\xef\xbb\xbf" + GOOD.encode("utf-8"))
    assert load_config(bom).topics[0].name == "Maison Lumen"


def test_yaml_syntax_error_gives_line(tmp_path):
    path = write(tmp_path, "topics: [\n  - id: a\n")
    with pytest.raises(ConfigError, match=r"not valid YAML at line \d+"):
        load_config(path)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yml")


def test_threshold_order_is_checked(tmp_path):
    path = write(tmp_path, GOOD.replace("    sources: [replay]", "    sources: [replay]\n    thresholds: {watch: 80, warning: 50, crisis: 90}"))
    with pytest.raises(ConfigError, match=r"topics\[0\]\.thresholds"):
        load_config(path)


def test_env_secret_names_variable_never_value(monkeypatch):
    monkeypatch.delenv("VIGIE_TEST_TOKEN", raising=False)
    with pytest.raises(SecretMissing, match="VIGIE_TEST_TOKEN is not set"):
        env_secret("VIGIE_TEST_TOKEN", "slack")
    monkeypatch.setenv("VIGIE_TEST_TOKEN", "s3cr3t")
    assert env_secret("VIGIE_TEST_TOKEN", "slack") == "s3cr3t"
