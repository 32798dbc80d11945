"""Files the user writes or the agent keeps, and the one error that says one cannot be used.

Every loader raises ``UnusableFile`` (or a subclass) naming the file, what is wrong with it and
what to do; the CLI renders it once, at its top level, and exits 2. Reading YAML goes through
``load_yaml`` so a key written twice is an error instead of the later one silently winning.
"""

from __future__ import annotations

from typing import Any

import yaml

from tools.errors import UnusableFile

__all__ = ["DuplicateKey", "UnreadableValue", "UnusableFile", "load_yaml"]


class DuplicateKey(yaml.constructor.ConstructorError):
    """A mapping names the same key twice (YAML would otherwise keep the later value)."""


class UnreadableValue(yaml.constructor.ConstructorError):
    """A scalar YAML reads as a type it cannot build, e.g. a timestamp at second 60 or past the
    year 9999 (PyYAML's constructors raise a bare ValueError or OverflowError there)."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping with a repeated key and reports a value its
    constructor cannot build as a YAML error at that value's line."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as exc:
            shown = f"{node.value!r} " if isinstance(node, yaml.ScalarNode) else ""
            raise UnreadableValue(
                None, None, f"the value {shown}cannot be read: {exc}", node.start_mark
            ) from exc


def _mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":  # `<<:` merges; an explicit key overrides
            continue
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            first = seen.get(key)
            seen.setdefault(key, line)
        except TypeError:  # an unhashable key: construct_mapping reports it
            continue
        if first is not None:
            raise DuplicateKey(
                None,
                None,
                f"key {key!r} appears twice (lines {first} and {line}); keep one",
                key_node.start_mark,
            )
    loader.flatten_mapping(node)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_yaml(text: str) -> Any:
    """Parse YAML safely; DuplicateKey (a yaml.YAMLError) when a mapping repeats a key,
    UnreadableValue (also one) when a value cannot be built, each with its line."""
    return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
