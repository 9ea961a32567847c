"""Text scrubbing (agent/redact/text.py), one branch at a time: the exact output of the cases where a helper's
guard decides (a key's strength, where a value ends, where a block's indentation comes from).

Each case was found by mutation testing (tests/MUTATION.md): without it, changing that guard left the suite green.
"""

from __future__ import annotations

import pytest

from medic.agent.redact.pseudo import SecretLabels
from medic.agent.redact.text import TextScrubber

P1 = "[REDACTED:password#1]"


@pytest.mark.parametrize(("text", "expected", "counts"), [
    # -p is a mysql password only after "mysql" on its line, not before it
    ("tool -phunter2 && mysql db", "tool -phunter2 && mysql db", {}),
    ("mysql -phunter2 && tool -pother1", f"mysql -p{P1} && tool -p[REDACTED:password#2]", {"password": 2}),
    # key=value inside a value already redacted is not scanned again
    ("x password=abc:token=xyz", f"x password={P1}", {"password": 1}),
    # key:value without a blank: strong keys only, never a weak one, a ${VAR:-default} or a colon-separated field
    ("x secret:a7Bx9q", "x secret:[REDACTED:secret#1]", {"secret": 1}),
    ("auth:a7Bx9q", "auth:a7Bx9q", {}), ("pass:a7Bx9q", "pass:a7Bx9q", {}),
    ("echo ${TOKEN:-a7Bx9q}", "echo ${TOKEN:-a7Bx9q}", {}), ("urn:secret:a7Bx9q", "urn:secret:a7Bx9q", {}),
    # key value at the end of a line: strong keys only; prose, a working directory and a soft key's word kept
    ("ENV DB_PASSWORD secretX", f"ENV DB_PASSWORD {P1}", {"password": 1}),  # not a plain word once X is kept
    ("x pass a7Bx9q", "x pass a7Bx9q", {}), ("pwd /home/bob", "pwd /home/bob", {}),
    ("ENV APP_KEY hello-world", "ENV APP_KEY hello-world", {}),
    # a block scalar's replacement keeps its first line's indentation, whatever the next lines have
    ("db:\n  password: |\n      line1\n    line2\nport: 5", f"db:\n  password: |\n      {P1}\nport: 5",
     {"password": 1}),
])
def test_scrub_branch(text: str, expected: str, counts: dict[str, int]) -> None:
    scrubber = TextScrubber()
    assert scrubber.scrub(text) == expected
    assert dict(scrubber.counts) == counts


def test_a_block_scalar_is_numbered_as_the_value_yaml_reads() -> None:
    """The block's lines joined by newlines: the number a JSON copy of the same secret gets elsewhere."""
    labels = SecretLabels()
    TextScrubber(labels=labels).scrub("db:\n  password: |\n    line1\n    line2\n")
    assert labels.number("line1\nline2\n") == 1
    assert labels.number("line1 line2") == 2
