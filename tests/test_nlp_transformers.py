"""transformers backend, through the same loading code as production, on a tiny model built here."""

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from nlp import sentiment as S
from nlp.pipeline import Analyzer
from nlp.sentiment_transformers import ModelLoadError, TransformersSentiment, map_labels
from vigie.config import NlpConfig

from nlp_fixtures import build_tiny_model


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-sentiment"))


def test_scores_a_batch_with_labels_from_the_model_config(tiny_model: Path) -> None:
    backend = TransformersSentiment(str(tiny_model), batch_size=2, max_length=16, device="cpu")
    assert backend.labels == ["neg", "neu", "pos"]
    assert backend.name == f"transformers:{tiny_model}@local"
    texts = ["c'est nul", "", "génial " * 2000, "love it", "pas terrible du tout"]
    assert TransformersSentiment(str(tiny_model)).max_length == 62  # capped by the model's 64 positions
    assert len(TransformersSentiment(str(tiny_model)).score(["génial " * 2000], ["fr"])) == 1
    results = backend.score(texts, ["fr", "und", "fr", "en", "fr"])
    assert len(results) == len(texts)
    for r in results:
        assert r.label in {"neg", "neu", "pos"} and -1 <= r.score <= 1 and r.model == backend.name


def test_batching_and_order_do_not_change_results(tiny_model: Path) -> None:
    texts = ["colis jamais reçu", "works great", "arnaque totale chez eux", "ok"]
    one = TransformersSentiment(str(tiny_model), batch_size=1).score(texts, ["fr"] * 4)
    many = TransformersSentiment(str(tiny_model), batch_size=64).score(texts, ["fr"] * 4)
    assert [r.label for r in one] == [r.label for r in many]
    assert [round(r.score, 4) for r in one] == [round(r.score, 4) for r in many]
    assert len({round(r.score, 6) for r in many}) > 1  # the model really looks at the text


def test_analyzer_uses_the_configured_backend(tiny_model: Path) -> None:
    analyzer = Analyzer(NlpConfig(sentiment="transformers", model=str(tiny_model)), [])
    [a] = analyzer.analyze_texts(["Le SAV est nul, remboursez-moi"])
    assert a.sentiment.model.startswith("transformers:") and a.model_versions["sentiment"] == a.sentiment.model
    assert a.lang == "fr" and "service" in a.crisis.categories  # the other components still run


def test_unloadable_model_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-cache"))  # an empty Hugging Face cache
    with pytest.raises(ModelLoadError, match=r"could not load the sentiment model 'cardiffnlp/.*Fix: .*hf download"):
        TransformersSentiment("cardiffnlp/twitter-xlm-roberta-base-sentiment")
    (tmp_path / "not-a-model").mkdir()
    with pytest.raises(ModelLoadError, match="has no config.json"):
        TransformersSentiment(str(tmp_path / "not-a-model"))
    with pytest.raises(ModelLoadError):
        S.create_backend(NlpConfig(sentiment="transformers", model=str(tmp_path / "missing")))


def test_auto_falls_back_to_the_lexicon_and_logs_once(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(S, "_fallback_logged", False)  # module state: reset so this test sees the first log
    config = NlpConfig(sentiment="auto", model=str(tmp_path / "missing"))
    with caplog.at_level(logging.WARNING, logger="nlp.sentiment"):
        first, second = S.create_backend(config), S.create_backend(config)
    assert first.name == second.name == "lexicon-fr-en/1"
    assert [r.getMessage() for r in caplog.records].count(caplog.records[0].getMessage()) == 1
    assert "using the lexicon backend" in caplog.records[0].getMessage()


def test_auto_uses_the_model_when_it_loads(tiny_model: Path) -> None:
    assert S.create_backend(NlpConfig(sentiment="auto", model=str(tiny_model))).name.startswith("transformers:")


@pytest.mark.parametrize(
    "id2label, expected",
    [
        ({0: "negative", 1: "neutral", 2: "positive"}, ["neg", "neu", "pos"]),
        ({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, ["neg", "neu", "pos"]),
        ({0: "NEG", 1: "POS"}, ["neg", "pos"]),
        ({0: "1 star", 1: "2 stars", 2: "3 stars", 3: "4 stars", 4: "5 stars"}, ["neg", "neg", "neu", "pos", "pos"]),
    ],
)
def test_label_mapping(id2label: dict[int, str], expected: list[str]) -> None:
    assert map_labels(id2label) == expected


def test_unknown_labels_are_refused() -> None:
    with pytest.raises(ModelLoadError, match="cannot map the model's label 'SPAM'"):
        map_labels({0: "SPAM", 1: "HAM"})


def test_star_model_end_to_end(tmp_path: Path) -> None:
    path = build_tiny_model(tmp_path / "stars", {i: f"{i + 1} stars" for i in range(5)})
    [r] = TransformersSentiment(str(path)).score(["love it"], ["en"])
    assert r.label in {"neg", "neu", "pos"}


def test_the_lexicon_path_never_imports_torch_or_spacy() -> None:
    code = (
        "import sys\n"
        "from nlp.pipeline import Analyzer\n"
        "from vigie.config import NlpConfig\n"
        "Analyzer(NlpConfig(sentiment='lexicon'), []).analyze_texts(['c est nul'])\n"
        "print('torch' in sys.modules, 'transformers' in sys.modules, 'spacy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "False False False"
