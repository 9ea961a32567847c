"""Load YAML safely while keeping where every key and item came from.

Only PyYAML's safe constructor is used. Events come from libyaml (PyYAML's C parser, which keeps marks) where PyYAML
was built with it (a large playbook loads 3-4x faster, bench/README.md), else from PyYAML's pure-Python reader,
scanner and parser. Composition and construction are PyYAML's Python code in both cases, so the limits below and the
errors they raise are the same; only the wording of a syntax error differs (libyaml's or PyYAML's). Tags it does not
know (``!!python/object``, ``!foo``) are errors, duplicate keys are reported rather than silently overwritten, and
every mapping and list remembers the line and column of itself and of its entries so validation can say
``file:line:column``.

Hostile or broken input is refused while loading, as a ValidationError (exit 2) located at ``file:line:column``:

- a file larger than ``MAX_BYTES`` (2 MiB);
- a document of more than ``MAX_NODES`` (100,000) nodes or ``MAX_TEXT`` (16 Mi characters of scalars), counted
  after alias expansion: an alias counts as the whole subtree it repeats, so a "billion laughs" document (or one
  long string repeated by many aliases) is refused at the alias that crosses the limit;
- an alias inside the node it names (a recursive document);
- nesting deeper than ``MAX_DEPTH`` (100 levels), refused before Python's recursion limit is reached;
- anything PyYAML's reader, scanner, parser, composer or constructor rejects (control characters, invalid UTF-8,
  undefined aliases, dates such as ``2024-13-45``, integers too long to convert).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer, ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.reader import Reader
from yaml.resolver import Resolver

from medic.kernel.errors import Issue, ValidationError
from medic.kernel.marks import Mark, MarkedDict, MarkedList, mark_of, schema_issues  # noqa: F401 (re-exported)
from medic.kernel.yamlcache import MAX_BYTES, read_text

MAX_NODES = 100_000
MAX_DEPTH = 100
MAX_TEXT = 16 * 1024 * 1024  # characters of scalars after alias expansion

def _composer_error(problem: str, event: yaml.Event) -> ComposerError:
    mark: Any = event.start_mark  # the stubs type it as a union of the pure-Python and libyaml marks
    return ComposerError(None, None, problem, mark)


def _kind(node: yaml.Node) -> str:
    return str(node.tag).rsplit(":", 1)[-1]


def _mark(node: yaml.Node) -> Mark:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _Checks(Composer, SafeConstructor, Resolver):
    """The limits, marks and located errors, on top of whichever parser supplies the events."""

    peek_event: Any  # these two come from the parser the loader below is made with (pure Python or libyaml)
    dispose: Any

    def _start(self, filename: str) -> None:
        self.filename = filename
        self.issues: list[Issue] = []
        self.depth = 0
        self.nodes = 0  # nodes composed so far, an alias counting as every node it repeats
        self.text = 0  # characters of scalars composed so far, counted the same way
        self.anchor_sizes: dict[str, tuple[int, int]] = {}  # anchor: (nodes, characters) it repeats

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        """Compose as PyYAML does, refusing too deep nesting and too many nodes before they cost memory."""
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self._count_alias(event)
            return super().compose_node(parent, index)
        if self.depth >= MAX_DEPTH:
            raise _composer_error(f"nested more than {MAX_DEPTH} levels deep", event)
        self.depth += 1
        before = (self.nodes, self.text)
        self._grow((1, len(event.value) if isinstance(event, yaml.ScalarEvent) else 0), event)
        node = super().compose_node(parent, index)
        self.depth -= 1
        if event.anchor is not None:
            self.anchor_sizes[event.anchor] = (self.nodes - before[0], self.text - before[1])
        return node

    def _count_alias(self, event: yaml.AliasEvent) -> None:
        if event.anchor is None or event.anchor not in self.anchors:
            return  # PyYAML reports the undefined alias
        size = self.anchor_sizes.get(event.anchor)
        if size is None:
            raise _composer_error(f"alias *{event.anchor} refers to a node that contains it (recursive data is "
                                  "not accepted)", event)
        self._grow(size, event)

    def _grow(self, size: tuple[int, int], event: yaml.Event) -> None:
        self.nodes += size[0]
        self.text += size[1]
        if self.nodes <= MAX_NODES and self.text <= MAX_TEXT:
            return
        what = f"{MAX_NODES} nodes" if self.nodes > MAX_NODES else f"{MAX_TEXT:,} characters"
        alias = ""
        if isinstance(event, yaml.AliasEvent):
            alias = f" (alias *{event.anchor} repeats {size[0]} node(s) and {size[1]} characters)"
        raise _composer_error(f"document too large: more than {what} after alias expansion{alias}", event)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:  # e.g. `2024-13-45`, an integer of 5,000 digits
            problem = f"cannot read this {_kind(node)} value: {exc}"
        except (TypeError, KeyError, AttributeError, IndexError):  # an explicit tag on the wrong data: `!!bool x`
            problem = f"cannot read this value as {_kind(node)}"
        raise ConstructorError(None, None, problem, node.start_mark)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> MarkedDict:  # type: ignore[override]
        if not isinstance(node, yaml.MappingNode):  # `!!set 0`: PyYAML would fail with a bare ValueError
            raise ConstructorError(None, None, f"cannot read this value as {_kind(node)}", node.start_mark)
        own = {id(key_node) for key_node, _ in node.value}
        self.flatten_mapping(node)  # resolves `<<` merge keys: merged entries first, so the mapping's own win
        out = MarkedDict()
        out.mark = _mark(node)
        out.key_marks = {}
        written_here: set[str] = set()
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                key = str(key)
            line, col = _mark(key_node)
            here = id(key_node) in own
            if key in written_here and here:
                first = out.key_marks[key]
                self.issues.append(Issue(f"duplicate key {key!r} (first defined at line {first[0]})",
                                         self.filename, line, col))
                continue
            out[key] = self.construct_object(value_node, deep=True)
            out.key_marks[key] = (line, col)
            if here:
                written_here.add(key)
        return out

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> MarkedList:
        if not isinstance(node, yaml.SequenceNode):
            raise ConstructorError(None, None, f"cannot read this value as {_kind(node)}", node.start_mark)
        out = MarkedList(self.construct_object(child, deep=True) for child in node.value)
        out.mark = _mark(node)
        out.item_marks = [_mark(child) for child in node.value]
        return out


_Checks.yaml_constructors = {**SafeConstructor.yaml_constructors,  # what add_constructor does, typed
                             "tag:yaml.org,2002:map": _Checks.construct_mapping,
                             "tag:yaml.org,2002:seq": _Checks.construct_sequence}


class PurePythonLoader(_Checks, yaml.SafeLoader):
    def __init__(self, stream: str, filename: str) -> None:
        yaml.SafeLoader.__init__(self, stream)
        self._start(filename)


LOADERS: dict[str, Callable[[str, str], _Checks]] = {"python": PurePythonLoader}
try:
    from yaml._yaml import CParser
except ImportError:  # PyYAML built without libyaml
    pass
else:
    class LibyamlLoader(_Checks, CParser):
        """libyaml's scanner and parser (events with marks), PyYAML's composer and constructor (the checks)."""

        def __init__(self, stream: str, filename: str) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self._start(filename)

    LOADERS["libyaml"] = LibyamlLoader
LOADER: Callable[[str, str], _Checks] = LOADERS.get("libyaml", PurePythonLoader)  # the fastest one installed


def loads(text: str, filename: str = "<string>") -> Any:
    """Parse one YAML document; raise ValidationError with every problem found, located."""
    if len(text) > MAX_BYTES:
        raise _refused(f"too large: {len(text)} characters, more than {MAX_BYTES // (1024 * 1024)} MiB", filename)
    bad = Reader.NON_PRINTABLE.search(text)  # what PyYAML's reader refuses, checked the same for both parsers
    if bad is not None:
        line, column = _line_column(text, bad.start())
        raise _refused(f"character #x{ord(bad.group()):04x} is not allowed in YAML (special characters are not "
                       "allowed)", filename, line, column)
    loader = LOADER(text, filename)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "malformed YAML"
        if problem.startswith("exceeded maximum nesting depth"):  # libyaml's own limit (1000) in a flow's look-ahead
            problem = f"nested more than {MAX_DEPTH} levels deep"
        if "could not determine a constructor" in str(exc):
            problem = f"unsupported YAML tag{problem.split('tag', 1)[-1]}; only plain YAML data is accepted"
        raise _refused(f"{problem} ({exc.context})" if exc.context else problem, filename,
                       mark.line + 1 if mark else None, mark.column + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise _refused(f"malformed YAML: {exc}", filename) from None
    except RecursionError:  # last line: MAX_DEPTH should have refused the document first
        line, column = _line_column(text, getattr(loader, "pointer", 0))
        raise _refused("nested too deeply", filename, line, column) from None
    finally:
        loader.dispose()
    if loader.issues:
        raise ValidationError(loader.issues, subject=filename)
    return data


def load_file(path: str | Path) -> Any:
    """Parse a YAML file (no cache: :func:`medic.kernel.yamlcache.load_file` is the cached one)."""
    return loads(read_text(path)[0], str(path))


def _refused(message: str, filename: str, line: int | None = None, column: int | None = None) -> ValidationError:
    return ValidationError([Issue(message, filename, line, column)], subject=filename)


def _line_column(text: str, position: int) -> tuple[int, int]:
    """1-based line and column of character ``position`` of ``text``."""
    return text.count("\n", 0, position) + 1, position - (text.rfind("\n", 0, position) + 1) + 1
