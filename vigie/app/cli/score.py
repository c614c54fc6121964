"""`vigie score`: score posts (JSONL or plain lines) from a file or stdin, to JSONL on stdout."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

import click

from vigie.app.cli import COMMANDS, load_config_checked
from vigie.core.config import NlpConfig


@COMMANDS.decorator("score")
@click.command()
@click.argument("input_file", type=click.File("r", encoding="utf-8", errors="surrogateescape"), default="-")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="Use this config's NLP settings and topics (adds matched topic ids).")
@click.option("--batch-size", type=int, default=512, show_default=True)
def score(input_file: TextIO, config_path: str | None, batch_size: int) -> None:
    """Score posts: JSONL (with a "text" field) or plain lines, from a file or stdin, to JSONL on stdout.

    Each output line has: lang, sentiment (label neg/neu/pos, score in [-1, 1]), crisis (risk in [0, 1],
    categories, terms), topics (when --config is given), and the input's "id" when it had one. A JSONL
    line that cannot be read is reported as {"line": N, "error": ...} and the rest goes on.

    \b
    Example:
      echo "Franchement le SAV est nul, remboursez-moi !" | vigie score
      vigie score posts.jsonl > scored.jsonl
    """
    from nlp.pipeline import Analyzer

    config = load_config_checked(config_path) if config_path else None
    analyzer = Analyzer(config.nlp if config else NlpConfig(), config.topics if config else [])
    out = sys.stdout
    errors = 0

    def flush(batch: list[tuple[int, Any, str]]) -> None:
        for (_, ident, _text), analysis in zip(batch, analyzer.analyze_texts([b[2] for b in batch])):
            record: dict[str, Any] = {} if ident is None else {"id": ident}
            record.update({
                "lang": analysis.lang,
                "sentiment": {"label": analysis.sentiment.label, "score": round(analysis.sentiment.score, 4),
                              "model": analysis.sentiment.model},
                "crisis": {"risk": round(analysis.crisis.risk, 4), "categories": analysis.crisis.categories,
                           "terms": analysis.crisis.terms},
            })
            if config:
                record["topics"] = analysis.topic_ids
            if analysis.entities:
                record["entities"] = analysis.entities  # brand aliases (+ spaCy entities when nlp.spacy_model)
            if analysis.notes:
                record["notes"] = analysis.notes  # why a field is und/neutral (empty text, cut, failure)
            out.write(json.dumps(record, ensure_ascii=False) + "\n")

    batch: list[tuple[int, Any, str]] = []
    for n, line in enumerate(input_file, start=1):
        line = line.rstrip("\n").encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        if not line.strip():
            continue
        ident, text = None, line
        if line.lstrip().startswith("{"):
            try:
                obj = json.loads(line)
                text, ident = obj["text"], obj.get("id")
                if not isinstance(text, str):
                    raise TypeError(f'"text" must be a string, found {type(text).__name__}')
            except (ValueError, KeyError, TypeError) as exc:
                errors += 1
                reason = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
                out.write(json.dumps({"line": n, "error": reason}) + "\n")
                continue
        batch.append((n, ident, text))
        if len(batch) >= batch_size:
            flush(batch)
            batch = []
    if batch:
        flush(batch)
    if errors:
        click.echo(f"{errors} line(s) could not be read (reported inline)", err=True)
