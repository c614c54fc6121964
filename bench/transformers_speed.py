"""Speed estimate of the transformers sentiment backend with the production model's *architecture*.

    .venv/bin/python bench/transformers_speed.py                      # XLM-R base size, batches 8 32 64
    .venv/bin/python bench/transformers_speed.py --posts 256 --batch-size 16 64 --max-length 64

No model can be downloaded here, so this builds a randomly initialised XLM-RoBERTa with the size of
`cardiffnlp/twitter-xlm-roberta-base-sentiment` (12 layers, hidden 768, 250k vocabulary, ≈278 M
parameters), saves it to a temporary directory and loads it through `nlp.sentiment_transformers`, the
production code path. The tokenizer is a small WordPiece trained here on the benchmark sentences (the
real one is SentencePiece): token counts per post are of the same order, so posts/s is a fair estimate
of the real model's speed on this CPU; the labels it prints are meaningless.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from score import generate  # noqa: E402  (the same generated posts as bench/score.py)


def build(path: Path, texts: list[str], layers: int) -> None:
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast, XLMRobertaConfig, XLMRobertaForSequenceClassification

    tok = Tokenizer(models.WordPiece(unk_token="<unk>"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    specials = ["<pad>", "<unk>", "<s>", "</s>", "<mask>"]
    tok.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=8000, special_tokens=specials))
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", tok.token_to_id("<s>")), ("</s>", tok.token_to_id("</s>"))])
    PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", cls_token="<s>",
                            sep_token="</s>", mask_token="<mask>").save_pretrained(path)
    config = XLMRobertaConfig(  # defaults are XLM-R base: hidden 768, 12 heads, intermediate 3072
        vocab_size=250002, num_hidden_layers=layers, max_position_embeddings=514, type_vocab_size=1,
        pad_token_id=0, bos_token_id=2, eos_token_id=3, num_labels=3,
        id2label={0: "negative", 1: "neutral", 2: "positive"},
    )
    torch.manual_seed(0)
    XLMRobertaForSequenceClassification(config).save_pretrained(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=512)
    parser.add_argument("--batch-size", type=int, nargs="+", default=[8, 32, 64])
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--layers", type=int, default=12)
    args = parser.parse_args()

    import torch

    from nlp.sentiment_transformers import TransformersSentiment

    texts = [p.text for p in generate(args.posts)]
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        build(Path(tmp), texts, args.layers)
        print(f"random XLM-R ({args.layers} layers) built and saved in {time.perf_counter() - t0:.1f} s; "
              f"torch {torch.__version__}, {torch.get_num_threads()} threads")
        for batch_size in args.batch_size:
            backend = TransformersSentiment(tmp, batch_size=batch_size, max_length=args.max_length, device="cpu")
            backend.score(texts[:batch_size], ["fr"] * batch_size)  # warm-up
            t0 = time.perf_counter()
            backend.score(texts, ["fr"] * len(texts))
            elapsed = time.perf_counter() - t0
            print(f"transformers xlm-r-base-size batch={batch_size:3d} posts={len(texts)}  "
                  f"{len(texts) / elapsed:7.1f} posts/s")


if __name__ == "__main__":
    main()
