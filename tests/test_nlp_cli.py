"""`vigie score`: scores JSONL or plain lines with the configured NLP and prints the analysis fields."""

import json
from pathlib import Path

from click.testing import CliRunner

from vigie.app.cli.main import cli

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


# -- vigie nlp train / eval / build-models ------------------------------------------------------------------

TINY = Path(__file__).parent / "data" / "sentiment_tiny_fr.csv"


def test_nlp_train_writes_model_and_card_then_eval_reads_it(tmp_path: Path) -> None:
    out = tmp_path / "models" / "brand_fr.npz"
    result = CliRunner().invoke(cli, ["nlp", "train", "--data", str(TINY), "--lang", "fr", "--out", str(out),
                                      "--folds", "3", "--bootstrap", "200"])
    assert result.exit_code == 0, result.output
    assert "[fr] 120 posts (neg 40, neu 40, pos 40)" in result.output and "cross-validated macro-F1" in result.output
    card = out.with_suffix(".md").read_text(encoding="utf-8")
    for part in ("# Model card", "## Metrics (3-fold stratified cross-validation", "| trained |", "| lexicon (same posts) |",
                 "## Limits", "sentiment_tiny_fr.csv", "vigie nlp train --data"):
        assert part in card, part

    trained = CliRunner().invoke(cli, ["nlp", "eval", "--data", str(TINY), "--lang", "fr", "--backend", "trained",
                                       "--model", str(out), "--json"])
    assert trained.exit_code == 0, trained.output
    metrics = json.loads(trained.output)
    from nlp.sentiment_trained import LinearModel

    assert metrics["n"] == 120 and f"trained-fr/{LinearModel.load(out).digest}" in metrics["backend"]
    assert metrics["macro_f1"] > 0.9  # its own training data: a check that eval reads what train wrote
    assert [sum(row) for row in metrics["confusion"]] == [40, 40, 40]

    lexicon = CliRunner().invoke(cli, ["nlp", "eval", "--data", str(TINY), "--backend", "lexicon"])
    assert lexicon.exit_code == 0, lexicon.output
    assert "backend lexicon-fr-en/1; 120 posts" in lexicon.output and "language detected per post" in lexicon.output
    assert "macro-F1 " in lexicon.output and "confusion (rows gold, columns predicted)" in lexicon.output
    assert [line.split()[0] for line in lexicon.output.splitlines()[-3:]] == ["neg", "neu", "pos"]


def test_nlp_train_and_eval_name_the_bad_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nsuper,pos\nnul,mauvais\n", encoding="utf-8")
    for args in (["train", "--data", str(bad), "--lang", "fr", "--out", str(tmp_path / "m.npz")],
                 ["eval", "--data", str(bad), "--lang", "fr", "--backend", "lexicon"]):
        result = CliRunner().invoke(cli, ["nlp", *args])
        assert result.exit_code == 1 and f"{bad}:3: label 'mauvais' is not one of" in result.output
    assert not (tmp_path / "m.npz").exists()
    missing = CliRunner().invoke(cli, ["nlp", "eval", "--data", str(TINY), "--lang", "fr", "--backend", "trained",
                                       "--model", str(tmp_path / "none.npz")])
    assert missing.exit_code == 1 and "none.npz: no such model file" in missing.output


def test_nlp_build_models_trains_each_language_from_a_pair_folder(tmp_path: Path) -> None:
    from nlp.labelled import read_labelled

    data = read_labelled(TINY)
    public = tmp_path / "public"
    public.mkdir()
    codes = {"neg": "0", "neu": "1", "pos": "2"}
    (public / "fr_train_text.txt").write_text("\n".join(data.texts), encoding="utf-8")
    (public / "fr_train_labels.txt").write_text("\n".join(codes[x] for x in data.labels), encoding="utf-8")
    result = CliRunner().invoke(cli, ["nlp", "build-models", "--public", str(public), "--lang", "fr",
                                      "--out", str(tmp_path / "out"), "--folds", "3", "--bootstrap", "200"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "sentiment_fr.npz").is_file()
    card = (tmp_path / "out" / "sentiment_fr.md").read_text(encoding="utf-8")
    assert "DEFT-2017" in card and "validation and test splits were never read" in card
