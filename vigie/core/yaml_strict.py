"""Strict YAML for configuration files: duplicate keys are errors, aliases are counted, size is capped.

PyYAML's `safe_load` keeps the *last* of two equal keys without a word (a second `channels:` silently
replaces the pagers of the first), and builds an alias bomb ("billion laughs") as a small graph that the
first consumer to walk it expands into gigabytes. Here the document is composed into nodes first, its
aliases counted as they are met and its expanded size measured over the node graph (memoised: linear
in the file, not in the expansion), and only then constructed.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_ALIASES = 200  # far more than a hand-written config uses (shared thresholds, channel options)
MAX_NODES = 200_000  # the document's size once every alias is expanded

_MERGE = "tag:yaml.org,2002:merge"


class YamlProblem(ValueError):
    """A document that is valid YAML but not an acceptable configuration file; the message says where."""


class _StrictLoader(yaml.SafeLoader):
    def __init__(self, stream: str):
        super().__init__(stream)
        self.aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise YamlProblem(
                    f"more than {MAX_ALIASES} YAML aliases (*name), at line {mark.line + 1}; a configuration does "
                    "not need that many. Fix: write the values out, or use fewer anchors."
                )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Any:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
                continue  # `<<: *defaults` then overriding a key is what merge keys are for
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:
                continue  # an unhashable key: the constructor reports it
            line = key_node.start_mark.line + 1
            if first is not None:
                raise YamlProblem(
                    f"duplicate key {key!r} at line {line} (first at line {first}); YAML would silently keep only "
                    "the last one. Fix: merge the two into one."
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _expanded_size(node: yaml.Node, memo: dict[int, int], active: set[int]) -> int:
    ident = id(node)
    if ident in memo:
        return memo[ident]
    if ident in active:  # a recursive alias (`&a [*a]`): infinite once expanded
        return MAX_NODES + 1
    active.add(ident)
    size = 1
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            size += _expanded_size(child, memo, active)
            if size > MAX_NODES:
                break
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            size += _expanded_size(key, memo, active) + _expanded_size(value, memo, active)
            if size > MAX_NODES:
                break
    active.discard(ident)
    memo[ident] = size
    return size


def load_yaml(text: str) -> Any:
    """The document in `text`, or YamlProblem / yaml.YAMLError with the line."""
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}, set()) > MAX_NODES:
            raise YamlProblem(
                f"the document expands to more than {MAX_NODES:,} values once its aliases are resolved (an alias "
                "bomb?). Fix: write the configuration without nested aliases."
            )
        return loader.construct_document(node)
    finally:
        loader.dispose()
