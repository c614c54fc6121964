"""Labelled sentiment files for `vigie nlp train` / `vigie nlp eval`: read, check, and say where they are wrong.

Three formats, recognised by name:
- `*.csv`: a header with `text` and `label` columns (other columns ignored), RFC 4180 quoting;
- `*.jsonl` / `*.ndjson`: one object per line with `text` and `label`;
- the text/labels pair of the public training data: `X_text.txt` (one post per line) with `X_labels.txt`
  beside it (one label per line); pass either file or the common prefix `X`. Its English source writes
  non-ASCII characters as literal `\\uXXXX` escapes, which are decoded.

Labels: `neg`/`neu`/`pos`, `negative`/`neutral`/`positive` or `0`/`1`/`2` (the public data's order). Any other
label, an empty text, a line that is not JSON or a pair of files of different lengths raises
`LabelledFileError` naming the file and the line; nothing is silently dropped.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

LABELS = ("neg", "neu", "pos")
_ALIASES = {"0": "neg", "1": "neu", "2": "pos", "neg": "neg", "neu": "neu", "pos": "pos",
            "negative": "neg", "neutral": "neu", "positive": "pos"}
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


class LabelledFileError(ValueError):
    """A labelled file that cannot be used; the message starts with `file:line:`."""


@dataclass
class LabelledSet:
    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # "neg" | "neu" | "pos"
    sources: list[str] = field(default_factory=list)  # the files read, in order

    def __len__(self) -> int:
        return len(self.texts)

    def extend(self, other: "LabelledSet") -> "LabelledSet":
        return LabelledSet(self.texts + other.texts, self.labels + other.labels, self.sources + other.sources)

    def counts(self) -> dict[str, int]:
        return {label: self.labels.count(label) for label in LABELS}


def label_of(value: object, where: str) -> str:
    key = str(value).strip().lower()
    if key not in _ALIASES:
        raise LabelledFileError(f"{where}: label {value!r} is not one of neg/neu/pos, negative/neutral/positive, 0/1/2")
    return _ALIASES[key]


def _text_of(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise LabelledFileError(f"{where}: text must be a string, found {type(value).__name__}")
    if not value.strip():
        raise LabelledFileError(f"{where}: empty text")
    return value


def pair_paths(path: Path) -> tuple[Path, Path] | None:
    """(texts, labels) when `path` names a text/labels pair (either file or their prefix), else None."""
    name = path.name
    for suffix in ("_text.txt", "_labels.txt"):
        if name.endswith(suffix):
            prefix = name[: -len(suffix)]
            return path.with_name(prefix + "_text.txt"), path.with_name(prefix + "_labels.txt")
    texts, labels = path.with_name(name + "_text.txt"), path.with_name(name + "_labels.txt")
    return (texts, labels) if texts.exists() or labels.exists() else None


def read_labelled(path: Path | str) -> LabelledSet:
    path = Path(path)
    pair = pair_paths(path)
    if pair is not None:
        return _read_pair(*pair)
    if not path.is_file():
        raise LabelledFileError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path)
    if suffix in (".jsonl", ".ndjson"):
        return _read_jsonl(path)
    raise LabelledFileError(f"{path}: unknown format; expected .csv (text,label), .jsonl, or a X_text.txt/X_labels.txt pair")


def _read_csv(path: Path) -> LabelledSet:
    out = LabelledSet(sources=[str(path)])
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        try:
            header = [h.strip().lower() for h in next(reader)]
        except StopIteration:
            raise LabelledFileError(f"{path}:1: empty file; expected a header line with text,label") from None
        if "text" not in header or "label" not in header:
            raise LabelledFileError(f"{path}:1: header {header!r} must name a `text` and a `label` column")
        ti, li = header.index("text"), header.index("label")
        try:
            for row in reader:
                where = f"{path}:{reader.line_num}"
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    raise LabelledFileError(f"{where}: {len(row)} field(s), the header has {len(header)}")
                out.texts.append(_text_of(row[ti], where))
                out.labels.append(label_of(row[li], where))
        except csv.Error as exc:
            raise LabelledFileError(f"{path}:{reader.line_num}: malformed CSV ({exc})") from None
    return _non_empty(out, path)


def _read_jsonl(path: Path) -> LabelledSet:
    out = LabelledSet(sources=[str(path)])
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            where = f"{path}:{n}"
            try:
                obj = json.loads(line)
            except ValueError as exc:
                raise LabelledFileError(f"{where}: invalid JSON ({exc})") from None
            if not isinstance(obj, dict) or "text" not in obj or "label" not in obj:
                raise LabelledFileError(f"{where}: expected an object with `text` and `label`")
            out.texts.append(_text_of(obj["text"], where))
            out.labels.append(label_of(obj["label"], where))
    return _non_empty(out, path)


def _read_pair(text_path: Path, label_path: Path) -> LabelledSet:
    for p in (text_path, label_path):
        if not p.is_file():
            raise LabelledFileError(f"{p}: no such file (a text/labels pair needs both {text_path.name} and {label_path.name})")
    texts = text_path.read_text(encoding="utf-8").split("\n")
    labels = label_path.read_text(encoding="utf-8").split("\n")
    for lines in (texts, labels):
        if lines and lines[-1] == "":
            lines.pop()
    if len(texts) != len(labels):
        raise LabelledFileError(f"{label_path}:{min(len(texts), len(labels)) + 1}: {len(texts)} texts in "
                                f"{text_path.name} but {len(labels)} labels")
    out = LabelledSet(sources=[str(text_path), str(label_path)])
    for n, (text, label) in enumerate(zip(texts, labels), start=1):
        out.texts.append(_text_of(_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text), f"{text_path}:{n}"))
        out.labels.append(label_of(label, f"{label_path}:{n}"))
    return _non_empty(out, text_path)


def _non_empty(data: LabelledSet, path: Path) -> LabelledSet:
    if not data.texts:
        raise LabelledFileError(f"{path}: no labelled post")
    return data
