"""Generated documents: setting a key in JSON or YAML text gives exactly the document with that key set (every
other value, and the order of keys, as before), whatever the layout the text had."""

from __future__ import annotations

import json
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from medic.plugins.change import jsonedit, yamledit
from medic.plugins.change.fileedit import set_key

keys = st.text("abcxyz_", min_size=1, max_size=4)
texts = st.text("ab: #'\"-,{}[]&*!%@`|>\\é\t", max_size=8)
# floats as configuration files hold them (ruamel.yaml's round trip may change the last digit of 7.9e-268)
decimals = st.integers(-10**6, 10**6).map(lambda n: n / 100)
scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | decimals | texts
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
                      max_leaves=8)
documents = st.dictionaries(keys, values, max_size=5)


def _with(doc: dict[str, Any], parts: list[str], value: Any) -> dict[str, Any]:
    out = json.loads(json.dumps(doc))
    node = out
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return out


def _path(doc: dict[str, Any], choice: list[int], extra: str) -> list[str] | None:
    """A dotted path through the document's mappings (following ``choice``), maybe one new key deeper."""
    node, parts = doc, []
    for i in choice:
        if not isinstance(node, dict) or not node:
            break
        part = list(node)[i % len(node)]
        parts.append(part)
        node = node[part]
    if extra and (isinstance(node, dict) or not parts):
        parts.append(extra)
    if not parts:
        return None
    holder: Any = doc
    for part in parts[:-1]:
        holder = holder.get(part) if isinstance(holder, dict) else None
    return parts if isinstance(holder, dict) or len(parts) == 1 else None


@settings(max_examples=150, deadline=None)
@given(documents, st.lists(st.integers(0, 5), max_size=3), st.sampled_from(["", "new", "b"]),
       st.sampled_from([None, 2, 4, "\t"]), texts | st.integers(-99, 99).map(str))
def test_json_set_key_sets_exactly_that_key(doc: dict[str, Any], choice: list[int], extra: str,
                                             indent: Any, value: str) -> None:
    parts = _path(doc, choice, extra)
    if parts is None:
        return
    text = json.dumps(doc, indent=indent, ensure_ascii=False) + "\n"
    after = jsonedit.set_key(text, ".".join(parts), value, "string", "doc.json")
    assert json.dumps(json.loads(after)) == json.dumps(_with(doc, parts, value)), (text, parts, after)


@settings(max_examples=150, deadline=None)
@given(documents.filter(bool), st.lists(st.integers(0, 5), max_size=3), st.sampled_from(["", "new", "b"]),
       st.sampled_from([None, False, True]), texts | st.integers(-99, 99).map(str))
def test_yaml_set_key_sets_exactly_that_key(doc: dict[str, Any], choice: list[int], extra: str,
                                             flow: Any, value: str) -> None:
    parts = _path(doc, choice, extra)
    if parts is None:
        return
    text = yaml.safe_dump(doc, default_flow_style=flow, allow_unicode=True, sort_keys=False)
    after = set_key(text, "yaml", ".".join(parts), value, path="doc.yaml", type_="string")
    def read(source: str) -> Any:  # as ruamel.yaml reads it (its floats may differ from Python's in the last digit)
        return json.loads(json.dumps(yamledit.load(source, "doc.yaml")))

    assert json.dumps(read(after)) == json.dumps(_with(read(text), parts, value)), (text, parts, after)
