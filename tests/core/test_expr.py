from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from medic.core import expr, template

CTX = {"inputs": {"host": "db1", "port": 5432, "names": ["a", "b"], "flag": False},
       "steps": {"dns": {"status": "fail", "outputs": {"n": 3}}}, "target": {"name": "local"}}


@pytest.mark.parametrize(("text", "expected"), [
    ("inputs.host == 'db1'", True),
    ("inputs.port > 1000 and not inputs.flag", True),
    ("steps.dns.status in ['fail', 'error']", True),
    ("steps['dns'].outputs.n >= 3", True),
    ("len(inputs.names) == 2", True),
    ("inputs.names[1]", "b"),
    ("default(inputs.missing, 7)", 7),
    ("lower('ABC') == 'abc'", True),
    ("-inputs.port", -5432),
    ("true or null", True),
])
def test_evaluates(text: str, expected: object) -> None:
    assert expr.evaluate(text, CTX) == expected


@pytest.mark.parametrize("text", [
    "__import__('os').system('id')",
    "inputs.__class__",
    "(lambda: 1)()",
    "[x for x in inputs.names]",
    "open('/etc/passwd')",
    "inputs.host.upper()",
    "1 + 2",
    "a := 1",
])
def test_rejects_anything_outside_the_whitelist(text: str) -> None:
    with pytest.raises(expr.ExprError):
        expr.evaluate(text, CTX)


def test_attribute_access_never_reaches_python_attributes() -> None:
    with pytest.raises(expr.ExprError, match="undefined name"):
        expr.evaluate("inputs.host.__class__", CTX)


def test_undefined_name_is_named() -> None:
    with pytest.raises(expr.ExprError, match="'nothere'"):
        expr.evaluate("nothere == 1", CTX)


def test_references_lists_dotted_names() -> None:
    assert sorted(expr.references("inputs.host == steps.dns.status and len(inputs.names) > 0")) == [
        ("inputs", "host"), ("inputs", "names"), ("steps", "dns", "status")]


def test_references_follow_subscripts_with_a_constant_key() -> None:
    # steps['dns'] is the same reference as steps.dns: load-time checks must see through the brackets
    assert expr.references("steps['dns'].outputs.n >= 3 and inputs[\"host\"] == 'x'") == [
        ("steps", "dns", "outputs", "n"), ("inputs", "host")]
    assert expr.references("steps['a']['b']") == [("steps", "a", "b")]
    assert expr.references("steps[inputs.n]") == [("steps",), ("inputs", "n")]  # a computed key: no step named


def test_template_keeps_native_type_for_a_whole_template() -> None:
    assert template.render("{{ inputs.port }}", CTX) == 5432
    assert template.render("port {{ inputs.port }} on {{ inputs.host }}", CTX) == "port 5432 on db1"
    assert template.render({"a": ["{{ inputs.names }}"]}, CTX) == {"a": [["a", "b"]]}


def test_template_output_is_never_rendered_again() -> None:
    # data that came from a machine can contain template syntax: it stays data
    ctx = {"inputs": {"motd": "{{ inputs.secret }}", "secret": "s3cr3t"}}
    assert template.render("{{ inputs.motd }}", ctx) == "{{ inputs.secret }}"
    assert template.render("x {{ inputs.motd }} y", ctx) == "x {{ inputs.secret }} y"


def test_a_too_deeply_nested_condition_is_refused_at_validation_with_exit_2(tmp_path: Path) -> None:
    """Issue 16: `not not ... true` 2,000 deep used to pass validation and end the run in an internal error."""
    book = tmp_path / "deep.yaml"
    book.write_text("name: deep\nsteps:\n  - id: up\n    check: system.uptime\n"
                    f"    when: \"{'not ' * 2000}true\"\n")
    for args in (["playbooks", "validate", str(book)], ["run", str(book), "--engine", "inline"]):
        out = subprocess.run([sys.executable, "-m", "medic.cli.main", *args], capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 2, out.stderr
        assert "nested deeper than 100 levels" in out.stderr
        assert "Traceback" not in out.stderr


@pytest.mark.parametrize(("value", "found"), [
    ("plain", False), ("a {{ x }}", True), ({"k": "v"}, False), ({"k": ["{{ x }}"]}, True),
    (["a", "b"], False), (("a", "{{ x }}"), True), (42, False), (None, False), ([], False),
])
def test_has_template_looks_inside_lists_and_mappings(value: object, found: bool) -> None:
    assert template.has_template(value) is found


def test_expressions_are_found_at_any_depth() -> None:
    value = {"a": "{{ inputs.host }} and {{ steps.dns.status }}", "b": [{"c": "{{ inputs.port }}"}, 3],
             "d": ("{{ target.name }}",), "e": None}
    assert template.expressions(value) == ["inputs.host", "steps.dns.status", "inputs.port", "target.name"]
    assert template.expressions(42) == [] and template.expressions("no template") == []


def test_values_inside_text_are_written_the_playbook_way() -> None:
    ctx = {"inputs": {"on": True, "off": False, "nothing": None, "n": 3}}
    text = "on={{ inputs.on }} off={{ inputs.off }} nothing=[{{ inputs.nothing }}] n={{ inputs.n }}"
    assert template.render(text, ctx) == "on=true off=false nothing=[] n=3"


def test_nesting_limit_is_exact() -> None:
    # Expression > 98 UnaryOps > Constant: exactly MAX_DEPTH (100) levels are allowed, one more is refused
    expr.parse("-" * 98 + "1")
    with pytest.raises(expr.ExprError, match="nested deeper than 100 levels"):
        expr.parse("-" * 99 + "1")


def test_references_skip_what_is_not_a_name_path() -> None:
    assert expr.references("lower(inputs.a).b == lower(inputs.c)['k']") == [("inputs", "a"), ("inputs", "c")]
    assert expr.references("default(inputs.missing, 1) and len(inputs.names)") == [
        ("inputs", "missing"), ("inputs", "names")]


@pytest.mark.parametrize(("text", "expected"), [
    ("inputs.port and inputs.flag", False),
    ("0 and 1", 0),
    ("1 and 2", 2),
    ("0 or '' or 3", 3),
    ("1 < 2 < 3", True),
    ("1 < 2 < 1", False),
    ("2 > 3", False),
    ("default(inputs.port, 7)", 5432),
    ("default(inputs.nothing, 7)", 7),
    ("default(null, 'x')", "x"),
    ("inputs.names[-2]", "a"),
    ("inputs.names[-1]", "b"),
])
def test_evaluates_boolean_chains_comparisons_and_defaults(text: str, expected: object) -> None:
    assert expr.evaluate(text, CTX) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("nothere == 1", "undefined name 'nothere' in 'nothere == 1'"),
    ("inputs['zz']", "undefined name \"inputs['zz']\" in \"inputs['zz']\""),
    ("inputs.names[2]", "undefined name 'inputs.names[2]' in 'inputs.names[2]'"),
    ("inputs.names[-3]", "undefined name 'inputs.names[-3]'"),
    ("inputs.names.x", "undefined name 'inputs.names.x'"),
    ("steps[0]", "undefined name 'steps[0]'"),
    ("inputs[[1]]", "cannot use [1] as a key in 'inputs[[1]]'"),
    ("1 < 'a'", "cannot compare 1 and 'a' in \"1 < 'a'\""),
    ("default(1)", "default() takes 2 arguments in 'default(1)'"),
    ("int('x')", "int() failed in \"int('x')\""),
    ("-'a'", "cannot negate 'a' in \"-'a'\": not a number"),
])
def test_errors_name_the_expression(text: str, message: str) -> None:
    with pytest.raises(expr.ExprError) as info:
        expr.evaluate(text, CTX)
    assert message in str(info.value)


def test_the_evaluator_refuses_a_node_the_parser_would_have_refused() -> None:
    import ast

    with pytest.raises(expr.ExprError, match="BinOp is not allowed in 'one plus one'"):
        expr._Evaluator(CTX, "one plus one").visit(ast.parse("1 + 1", mode="eval").body)
