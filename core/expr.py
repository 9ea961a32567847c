"""A small, safe expression language for ``when:`` conditions and ``{{ }}`` templates.

Python's ``ast`` parses the text; only a whitelist of nodes is accepted and we evaluate them ourselves (never
``eval``). Names resolve in a context of plain data (``inputs``, ``steps``, ``target``); ``a.b`` reads key ``b`` of
mapping ``a``; no Python attribute, call or import is reachable. Allowed: literals, lists, ``and or not``,
comparisons (``== != < <= > >= in not in``), unary minus, ``a.b`` / ``a["b"]`` / ``a[0]``, and the functions
``len``, ``lower``, ``upper``, ``int``, ``float``, ``str``, ``bool``, ``default(x, fallback)``.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from medic.kernel.errors import EXIT_USAGE, MedicError


class ExprError(MedicError, ValueError):
    """A malformed expression or an undefined name; the message names it.

    Still a ValueError: step kinds catch it with parameter values that do not fit."""

    exit_code = EXIT_USAGE


_CONSTANT_NAMES = {"true": True, "false": False, "null": None, "none": None, "True": True, "False": False,
                   "None": None}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}
_FUNCS: dict[str, Callable[..., Any]] = {
    "len": len, "lower": lambda s: str(s).lower(), "upper": lambda s: str(s).upper(),
    "int": int, "float": float, "str": str, "bool": bool,
}


MAX_LENGTH = 10_000  # characters of one expression
MAX_DEPTH = 100  # levels of nesting (operators, calls, subscripts, lists)


def _depth(tree: ast.AST) -> int:
    """How deep the tree goes, walked without recursion."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in ast.iter_child_nodes(node))
    return deepest


@lru_cache(maxsize=2048)
def parse(text: str) -> ast.Expression:
    """Parse and whitelist-check ``text``; raise ExprError saying what is not allowed."""
    if len(text) > MAX_LENGTH:
        raise ExprError(f"invalid expression {text[:40]!r}...: longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExprError(f"invalid expression {text!r}: {exc.msg}") from None
    except (MemoryError, RecursionError):  # CPython's own parser gives up on deep nesting
        raise ExprError(f"invalid expression {text[:40]!r}...: nested too deeply") from None
    if _depth(tree) > MAX_DEPTH:  # the evaluator recurses: refuse before Python's recursion limit does
        raise ExprError(f"invalid expression {text[:40]!r}...: nested deeper than {MAX_DEPTH} levels")
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Name) and (node.func.id in _FUNCS or node.func.id == "default")):
                raise ExprError(f"invalid expression {text!r}: only the functions "
                                f"{', '.join(sorted([*_FUNCS, 'default']))} may be called")
            if node.keywords:
                raise ExprError(f"invalid expression {text!r}: keyword arguments are not allowed")
        elif not isinstance(node, _ALLOWED):
            raise ExprError(f"invalid expression {text!r}: {type(node).__name__} is not allowed")
    return tree


_ALLOWED = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.Compare, ast.Name,
    ast.Load, ast.Attribute, ast.Subscript, ast.Constant, ast.List, ast.Tuple, ast.Call,
    *_COMPARE,
)


def references(text: str) -> list[tuple[str, ...]]:
    """The dotted names an expression reads, e.g. ``("inputs", "host")``, for load-time checks."""
    refs: list[tuple[str, ...]] = []

    def dotted(node: ast.AST) -> tuple[str, ...] | None:
        if isinstance(node, ast.Name):
            return (node.id,)
        if isinstance(node, ast.Attribute):
            head = dotted(node.value)
            return None if head is None else (*head, node.attr)
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            head = dotted(node.value)
            return None if head is None else (*head, str(node.slice.value))
        return None

    for node in ast.walk(parse(text)):
        if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)):
            path = dotted(node)
            if path and path[0] not in _CONSTANT_NAMES and not _is_func_name(node):
                refs.append(path)
    # keep the longest path of each chain only
    return [r for r in refs if not any(len(o) > len(r) and o[: len(r)] == r for o in refs)]


def _is_func_name(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and (node.id in _FUNCS or node.id == "default")


def evaluate(text: str, context: Mapping[str, Any]) -> Any:
    return _Evaluator(context, text).visit(parse(text).body)


class _Evaluator:
    def __init__(self, context: Mapping[str, Any], text: str) -> None:
        self.context = context
        self.text = text

    def visit(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in self.context:
                return self.context[node.id]
            if node.id in _CONSTANT_NAMES:
                return _CONSTANT_NAMES[node.id]
            raise ExprError(f"undefined name {node.id!r} in {self.text!r}")
        if isinstance(node, ast.Attribute):
            return self._item(self.visit(node.value), node.attr, node)
        if isinstance(node, ast.Subscript):
            return self._item(self.visit(node.value), self.visit(node.slice), node)
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self.visit(e) for e in node.elts]
        if isinstance(node, ast.BoolOp):
            if isinstance(node.op, ast.And):
                value: Any = True
                for v in node.values:
                    value = self.visit(v)
                    if not value:
                        return value
                return value
            for v in node.values:
                value = self.visit(v)
                if value:
                    return value
            return value
        if isinstance(node, ast.UnaryOp):
            return self._unary(node)
        if isinstance(node, ast.Compare):
            left = self.visit(node.left)
            for op, comp in zip(node.ops, node.comparators, strict=True):
                right = self.visit(comp)
                try:
                    if not _COMPARE[type(op)](left, right):
                        return False
                except TypeError as exc:
                    raise ExprError(f"cannot compare {left!r} and {right!r} in {self.text!r}: {exc}") from None
                left = right
            return True
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name)
            if node.func.id == "default":
                if len(node.args) != 2:
                    raise ExprError(f"default() takes 2 arguments in {self.text!r}")
                try:
                    found = self.visit(node.args[0])
                except ExprError:
                    found = None
                return self.visit(node.args[1]) if found is None else found
            args = [self.visit(a) for a in node.args]
            try:
                return _FUNCS[node.func.id](*args)
            except (TypeError, ValueError, OverflowError) as exc:
                raise ExprError(f"{node.func.id}() failed in {self.text!r}: {exc}") from None
        raise ExprError(f"{type(node).__name__} is not allowed in {self.text!r}")

    def _unary(self, node: ast.UnaryOp) -> Any:
        operand = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            return not operand
        if not isinstance(operand, int | float):
            raise ExprError(f"cannot negate {operand!r} in {self.text!r}: not a number")
        return -operand

    def _item(self, container: Any, key: Any, node: ast.AST) -> Any:
        try:
            if isinstance(container, Mapping) and key in container:
                return container[key]
        except TypeError:  # an unhashable key, e.g. inputs[[1]]
            raise ExprError(f"cannot use {key!r} as a key in {self.text!r}") from None
        if isinstance(container, (list, tuple)) and isinstance(key, int) and -len(container) <= key < len(container):
            return container[key]
        raise ExprError(f"undefined name {ast.unparse(node)!r} in {self.text!r}")
