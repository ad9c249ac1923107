"""YAML read strictly, and its errors in one line: the kit's grids and run configs are read through here.

`load_yaml` is YAML's safe loader (plain data only: no Python objects are built) that also refuses a key given
twice in one mapping, which plain YAML silently resolves by keeping the last value, and reads within limits: no
aliases (`*name`: nine levels of ten aliases are a 600-byte text that expands to 10^9 strings), nesting at most
`MAX_DEPTH` deep, and at most `MAX_CHARS` characters. `yaml_problem` turns a `yaml.YAMLError` into one line, `not
valid YAML (line L, column C): what is wrong`, without the quoted source.
"""

from __future__ import annotations

import yaml

MAX_DEPTH = 32  # mappings and lists inside each other: a grid needs 4
MAX_CHARS = 1_000_000  # a grid or a run's config is a few kilobytes


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping, aliases, and deep nesting."""

    _depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.events.AliasEvent):
            raise yaml.composer.ComposerError(
                None,
                None,
                f"aliases (*{event.anchor}) are not allowed here: write the value out",
                event.start_mark,
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested more than {MAX_DEPTH} levels deep", event.start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


def load_yaml(text: str):
    """The plain data of a YAML text (mappings, lists, strings, numbers, booleans, null); a key given twice in
    one mapping, an alias, nesting deeper than `MAX_DEPTH` or a text longer than `MAX_CHARS` is a
    `yaml.YAMLError`."""
    if len(text) > MAX_CHARS:
        raise yaml.YAMLError(
            f"{len(text):,} characters, more than the {MAX_CHARS:,} a file of the kit may hold"
        )
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)


def yaml_problem(error: yaml.YAMLError) -> str:
    """`not valid YAML (line 2, column 6): mapping values are not allowed here`"""
    mark = getattr(error, "problem_mark", None)
    at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    what = getattr(error, "problem", None) or (str(error).strip().splitlines() or ["unreadable"])[0]
    return f"not valid YAML{at}: {what}"
