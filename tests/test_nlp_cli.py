"""`vigie score`: scores JSONL or plain lines with the configured NLP and prints the analysis fields."""

import json
from pathlib import Path

from click.testing import CliRunner

from vigie.cli import cli

CONFIG = """
topics:
  - id: brivolle
    name: Brivolle
    query: 'brivolle OR "#brivolle" AND NOT promo'
    aliases: [Kettla]
nlp:
  sentiment: lexicon
"""


def test_score_prints_fields_topics_entities_and_notes(tmp_path: Path) -> None:
    config = tmp_path / "vigie.yml"
    config.write_text(CONFIG, encoding="utf-8")
    lines = "\n".join([
        json.dumps({"id": "a", "text": "Brivolle m'a arnaqué avec sa Kettla, je porte plainte"}),
        "Franchement génial, merci Brivolle !",
        json.dumps({"id": "b", "text": ""}),
        '{"id": "c", "text": 5}',
    ])
    result = CliRunner().invoke(cli, ["score", "--config", str(config)], input=lines + "\n")
    assert result.exit_code in (0, 1), result.output
    rows = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    errors = [r for r in rows if "error" in r]  # written at once; scored lines come out per batch
    a, plain, b = [r for r in rows if "error" not in r]
    assert a["id"] == "a" and a["lang"] == "fr" and a["sentiment"]["label"] == "neg"
    assert {"fraud", "legal"} <= set(a["crisis"]["categories"]) and a["topics"] == ["brivolle"]
    assert a["entities"] == ["Brivolle", "Kettla"]
    assert plain["sentiment"]["label"] == "pos" and plain["topics"] == ["brivolle"]
    assert b["lang"] == "und" and b["notes"] == ["empty text"]
    assert errors == [{"line": 4, "error": '"text" must be a string, found int'}]
