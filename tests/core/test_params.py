"""Typed parameters: the exact coercions and messages of every type (what a playbook author and a check see)."""

from __future__ import annotations

from typing import Any

import pytest

from medic.kernel.params import REQUIRED, TYPES, Param, ParamError, bind, coerce_value


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("string", "x", "x"),
        ("string", "", ""),
        ("string", 3, "3"),
        ("string", 1.10, "1.1"),  # YAML read `1.10` as a number; text is what the author meant
        ("int", 7, 7),
        ("int", 7.0, 7),
        ("int", " 42 ", 42),
        ("int", "-3", -3),
        ("float", 2, 2.0),
        ("float", 2.5, 2.5),
        ("float", " 0.25 ", 0.25),
        ("bool", True, True),
        ("bool", False, False),
        ("bool", "true", True),
        ("bool", "YES", True),
        ("bool", "On", True),
        ("bool", "1", True),
        ("bool", "false", False),
        ("bool", "No", False),
        ("bool", "off", False),
        ("bool", "0", False),
        ("list", [1, 2], [1, 2]),
        ("list", (1, 2), [1, 2]),
        ("list", "22, 80,,443 ", ["22", "80", "443"]),
        ("list", "", []),
        ("mapping", {"a": 1}, {"a": 1}),
        ("mapping", '{"cpu": 2}', {"cpu": 2}),
        ("version", "1.2.3", "1.2.3"),
        ("version", " 2.0rc1 ", "2.0rc1"),
        ("version", "1:2.30-1ubuntu2", "1:2.30-1ubuntu2"),
        ("version", "v1.0", "v1.0"),
        ("version", "1!2.0", "1!2.0"),
        ("version", 3, "3"),
        ("any", object, object),
    ],
)
def test_accepted_values_convert_exactly(kind: str, value: Any, expected: Any) -> None:
    out = coerce_value(kind, value, "p")
    assert out == expected
    assert type(out) is type(expected)


def test_int_keeps_an_int_and_a_float_keeps_float_type() -> None:
    assert type(coerce_value("int", 5, "p")) is int
    assert type(coerce_value("float", 5, "p")) is float
    assert type(coerce_value("float", "5", "p")) is float


def test_a_list_is_a_copy() -> None:
    given = [1, 2]
    out = coerce_value("list", given, "p")
    assert out == given and out is not given
    mapping = {"a": 1}
    copied = coerce_value("mapping", mapping, "p")
    assert copied == mapping and copied is not mapping


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("string", None, "p: got NoneType None, expected a string"),
        ("string", True, "p: got bool True, expected a string"),
        ("string", [1], "p: got list [1], expected a string"),
        ("int", True, "p: got bool True, expected an integer"),
        ("int", 1.5, "p: got float 1.5, expected an integer"),
        ("int", "1.5", "p: got str '1.5', expected an integer"),
        ("int", "x", "p: got str 'x', expected an integer"),
        ("int", None, "p: got NoneType None, expected an integer"),
        ("int", [1], "p: got list [1], expected an integer"),
        ("float", False, "p: got bool False, expected a number"),
        ("float", "abc", "p: got str 'abc', expected a number"),
        ("float", None, "p: got NoneType None, expected a number"),
        ("bool", "maybe", "p: got str 'maybe', expected true or false"),
        ("bool", 1, "p: got int 1, expected true or false"),
        ("bool", None, "p: got NoneType None, expected true or false"),
        ("list", 5, "p: got int 5, expected a list"),
        ("list", {"a": 1}, "p: got dict {'a': 1}, expected a list"),
        ("mapping", "[1, 2]", "p: got str '[1, 2]', expected a mapping"),
        ("mapping", "{not json", "p: got str '{not json', expected a mapping"),
        ("mapping", [("a", 1)], "p: got list [('a', 1)], expected a mapping"),
        ("mapping", "[" * 100_000 + "]" * 100_000, None),  # deeper than json's decoder: still a ParamError
        ("version", "latest", "p: got str 'latest', expected a version such as 1.2.3, 2.0rc1 or 1:2.30-1ubuntu2 "
                              "(starting with a digit)"),
        ("version", "1.0-", None),
        ("version", "", None),
        ("version", None, None),
        ("version", True, None),
    ],
)
def test_refused_values_name_the_parameter_and_what_was_expected(kind: str, value: Any, message: str | None) -> None:
    with pytest.raises(ParamError) as err:
        coerce_value(kind, value, "p")
    if message is not None:
        assert str(err.value) == message
    assert str(err.value).startswith("p: got ")


def test_unknown_kind_is_refused_as_a_parameter_error() -> None:
    with pytest.raises(KeyError):
        coerce_value("colour", "red", "p")  # a Param with such a type cannot even be declared (below)
    with pytest.raises(ValueError, match=r"parameter 'p': unknown type 'colour'; expected one of \("):
        Param("p", "colour")


@pytest.mark.parametrize(
    ("param", "text"),
    [
        (Param("p"), "a string"),
        (Param("p", "int"), "an integer"),
        (Param("p", "float"), "a number"),
        (Param("p", "bool"), "true or false"),
        (Param("p", "mapping"), "a mapping"),
        (Param("p", "any"), "any value"),
        (Param("p", "list"), "a list"),
        (Param("p", "list", items="int"), "a list of integers"),
        (Param("p", "list", items="string"), "a list of strings"),
        (Param("p", "list", items="mapping"), "a list of mappings"),
        (Param("p", "string", choices=("a", "b")), "a string (one of a, b)"),
        (Param("p", "int", choices=(1, 2, 3)), "an integer (one of 1, 2, 3)"),
    ],
)
def test_expected_text(param: Param, text: str) -> None:
    assert param.expected() == text


def test_list_items_are_coerced_and_named_by_index() -> None:
    ports = Param("ports", "list", items="int")
    assert ports.coerce(["22", 80]) == [22, 80]
    assert ports.coerce("22,80") == [22, 80]
    with pytest.raises(ParamError) as err:
        ports.coerce([22, "http"])
    assert str(err.value) == "ports[1]: got str 'http', expected an integer"
    assert Param("anything", "list").coerce([1, "a", None]) == [1, "a", None]


def test_choices_are_checked_after_conversion() -> None:
    level = Param("level", "int", choices=(1, 2))
    assert level.coerce("2") == 2
    with pytest.raises(ParamError) as err:
        level.coerce("3")
    assert str(err.value) == "level: got '3', expected an integer (one of 1, 2)"


def test_required_and_to_dict() -> None:
    needed = Param("host", description="a name")
    assert needed.required is True
    assert needed.default is REQUIRED
    assert needed.to_dict() == {"name": "host", "type": "string", "description": "a name", "required": True}
    optional = Param("port", "int", 22, "the port", choices=(22, 2222))
    assert optional.required is False
    assert optional.to_dict() == {"name": "port", "type": "int", "description": "the port", "required": False,
                                  "default": 22, "choices": [22, 2222]}
    falsy_default = Param("flag", "bool", False)
    assert falsy_default.required is False
    assert falsy_default.to_dict()["default"] is False
    assert "choices" not in falsy_default.to_dict()


def test_types_listed() -> None:
    assert TYPES == ("string", "int", "float", "bool", "list", "mapping", "version", "any")


def test_bind_fills_defaults_and_converts() -> None:
    params = [Param("host"), Param("port", "int", 22), Param("tags", "list", [])]
    assert bind(params, {"host": "web1", "port": "2222"}, owner="check x") == {"host": "web1", "port": 2222,
                                                                                "tags": []}


def test_bind_lists_every_problem_at_once_in_order() -> None:
    params = [Param("host"), Param("port", "int", 22), Param("level", "string", "a", choices=("a", "b"))]
    with pytest.raises(ParamError) as err:
        bind(params, {"prot": 1, "port": "x", "level": "c", "zz": 2}, owner="check network.tcp")
    assert str(err.value) == (
        "check network.tcp: unknown parameter 'prot' (known: host, level, port); "
        "unknown parameter 'zz' (known: host, level, port); "
        "missing required parameter 'host' (a string); "
        "port: got str 'x', expected an integer; "
        "level: got 'c', expected a string (one of a, b)"
    )


def test_bind_with_nothing_declared_says_none() -> None:
    with pytest.raises(ParamError) as err:
        bind([], {"a": 1}, owner="step s")
    assert str(err.value) == "step s: unknown parameter 'a' (known: none)"
    assert bind([], {}, owner="step s") == {}


def test_a_param_error_is_a_usage_error_and_a_value_error() -> None:
    err = ParamError("x")
    assert isinstance(err, ValueError)
    assert err.exit_code == 2
