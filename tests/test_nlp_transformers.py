"""transformers backend, through the same loading code as production, on a tiny model built here."""

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from nlp import sentiment as S
from nlp.pipeline import Analyzer
from nlp.sentiment_transformers import ModelLoadError, TransformersSentiment, map_labels
from vigie.core.config import NlpConfig

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
        "from vigie.core.config import NlpConfig\n"
        "Analyzer(NlpConfig(sentiment='lexicon'), []).analyze_texts(['c est nul'])\n"
        "print('torch' in sys.modules, 'transformers' in sys.modules, 'spacy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "False False False"


def build_tiny_xlmr(path: Path) -> Path:
    """A tiny XLM-RoBERTa classifier whose config matches cardiffnlp/twitter-xlm-roberta-base-sentiment's
    (architecture XLMRobertaForSequenceClassification, id2label Negative/Neutral/Positive in that order)."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast, XLMRobertaConfig, XLMRobertaForSequenceClassification

    from nlp_fixtures import CORPUS

    tok = Tokenizer(models.WordPiece(unk_token="<unk>"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(CORPUS * 3 + ["@user http"], trainers.WordPieceTrainer(
        vocab_size=200, special_tokens=["<pad>", "<unk>", "<s>", "</s>", "<mask>"]))
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", tok.token_to_id("<s>")), ("</s>", tok.token_to_id("</s>"))])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", cls_token="<s>",
                                   sep_token="</s>", mask_token="<mask>")
    fast.save_pretrained(path)
    config = XLMRobertaConfig(vocab_size=fast.vocab_size, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                              intermediate_size=32, max_position_embeddings=66, type_vocab_size=1, pad_token_id=0,
                              bos_token_id=2, eos_token_id=3, num_labels=3,
                              id2label={0: "Negative", 1: "Neutral", 2: "Positive"},
                              label2id={"Negative": 0, "Neutral": 1, "Positive": 2})
    torch.manual_seed(1)
    XLMRobertaForSequenceClassification(config).save_pretrained(path)
    return path


def test_cardiffnlp_architecture_and_label_order_end_to_end(tmp_path: Path) -> None:
    """The production model's config through the production code: class k of the logits is the label the
    config names, so probs["neg"] is the softmax of logit 0, and mentions/links become @user/http."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    path = build_tiny_xlmr(tmp_path / "xlmr")
    backend = TransformersSentiment(str(path), device="cpu")
    assert backend.labels == ["neg", "neu", "pos"] and backend.max_length == 64
    texts = ["@Brivolle colis jamais reçu https://t.co/x", "love it", "arnaque totale"]
    results = backend.score(texts, ["fr", "en", "fr"])
    model, tok = AutoModelForSequenceClassification.from_pretrained(path), AutoTokenizer.from_pretrained(path)
    with torch.inference_mode():
        direct = torch.softmax(model(**tok(["@user colis jamais reçu http", "love it", "arnaque totale"],
                                          padding=True, return_tensors="pt")).logits, dim=-1)
    for r, row in zip(results, direct.tolist()):
        assert [r.probs["neg"], r.probs["neu"], r.probs["pos"]] == pytest.approx(row, abs=1e-5)
        assert r.label == ("neg", "neu", "pos")[max(range(3), key=row.__getitem__)]
        assert r.score == pytest.approx(row[2] - row[0], abs=1e-5)


def test_vigie_nlp_eval_runs_the_transformers_backend(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from vigie.app.cli.main import cli

    path = build_tiny_xlmr(tmp_path / "xlmr")
    data = tmp_path / "labelled.jsonl"
    data.write_text('{"text": "love it", "label": "pos"}\n{"text": "arnaque totale", "label": "neg"}\n'
                    '{"text": "colis reçu", "label": "neutral"}\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["nlp", "eval", "--data", str(data), "--lang", "fr", "--backend", "transformers",
                                      "--model", str(path), "--json"])
    assert result.exit_code == 0, result.output
    import json

    metrics = json.loads(result.output)
    assert metrics["backend"] == f"transformers:{path}@local" and metrics["n"] == 3
    assert sum(map(sum, metrics["confusion"])) == 3
