"""Separators of code and build files: Makefile's ?= += ::= :::=, PHP's .=, and comparisons with a literal.

Before, `if (api_key == "x")` became `if (api_key =[REDACTED] "x")`: the second `=` was taken for the value and
the secret kept; `?=`, `+=`, `.=`, `!=` were no separators at all. Values here are invented.
"""

from __future__ import annotations

import pytest

from medic.agent.redact import Scrubber

pytestmark = pytest.mark.usefixtures("redact_engine")  # the compiled first pass and the pure-Python one alike
SECRET = "Vb7qL2xR9mT4kW8pZ3nH6sJ1"


@pytest.mark.parametrize("line", [
    'if (api_key == "{s}") {{',
    'if (api_key === "{s}") {{',
    'if (password != "{s}")',
    'if (password !== "{s}") return',
    'api_key === "{s}"',
    'DEPLOY_TOKEN ?= "{s}"',
    'DEPLOY_TOKEN ::= {s}',
    'DEPLOY_TOKEN :::= {s}',
    'DEPLOY_TOKEN += {s}',
    '$token .= "{s}";',
    'assert session_secret == "{s}"',
])
def test_the_value_after_the_separator_is_removed_whole(line: str) -> None:
    text = line.format(s=SECRET)
    out = Scrubber().scrub_text(text + "\n", path="/srv/app/build/Makefile")
    assert SECRET not in out and SECRET[:8] not in out and "[REDACTED:" in out
    head = text.split(SECRET)[0].rstrip('"')
    assert out.startswith(head), out  # the separator and what comes before it are kept as they were


@pytest.mark.parametrize("line", ["a ?= b", "x == y", "count += 1", "if (mode !== 'fast')", "CFLAGS ?= -O2 -g",
                                  "$out .= $line;"])
def test_lines_without_a_secret_key_are_kept(line: str) -> None:
    assert Scrubber().scrub_text(line + "\n", path="/srv/app/x.php") == line + "\n"
