"""JSON written inside a string (a log field, a Kubernetes annotation, `docker inspect` output): its quotes are
escaped, `{\"password\": \"x\"}`. Its secrets are removed whole and the line keeps its shape; the leak scan
flags them on its own. Values are made up."""

from __future__ import annotations

import time

import pytest

from medic.agent.redact import Scrubber, scan_text

PW, TOKEN, AUTH = "Zq8-xT4vLm2!pR", "Zq8xT4vLm2pRwq77Ab", "Y29uZXhwOkZUQUBDTkNGMG5AenVyZTM="


@pytest.mark.parametrize(("line", "secret", "rule"), [
    (r'config: "{\"auths\": {\"registry.example\": {\"auth\":\"' + AUTH + r'\"}}}"', AUTH, "auth"),
    (r'{\n\"password\": \"' + PW + r'\",\n\"email\": \"u@example.com\"}', PW, "password"),
    (r'msg="{\"password\":\"' + PW + r'\"}" status=200', PW, "password"),
    ('{"log": "{\\"token\\": \\"' + TOKEN + '\\"}", "stream": "stdout"}', TOKEN, "token"),  # inside a plain pair
    (r"data='{\'secret\': \'" + PW + r"\'}'", PW, "secret"),
])
def test_a_secret_in_escaped_json_is_removed_whole(line: str, secret: str, rule: str) -> None:
    out = Scrubber().scrub_text(line + "\n", path="/var/log/app/app.log")
    assert secret not in out and not any(secret[i:i + 6] in out for i in range(len(secret) - 5)), out
    assert f"[REDACTED:{rule}#1]" in out
    assert out.count("\\") == line.count("\\"), out  # every escape kept: the string is still what it was
    assert '"[REDACTED' not in out.replace('\\"[REDACTED', ""), out  # no quote put in where none was


def test_look_alikes_in_escaped_json_are_kept() -> None:
    line = r'{"log": "{\"user\": \"alice\", \"password_changed\": \"2026-12-08\", \"key\": \"${API_KEY}\"}"}'
    assert Scrubber().scrub_text(line + "\n", path="/var/log/app/app.log") == line + "\n"


def test_the_leak_scan_flags_escaped_json_on_its_own() -> None:
    line = r'msg="{\"password\":\"' + PW + r'\"}"'
    assert any(hit.rule == "secret_assignment" for hit in scan_text(line + "\n", "/var/log/app/app.log"))


@pytest.mark.parametrize("text", [
    '\\"password\\": \\"' + "\\\\" * 50_000,
    '"a": "' + '\\"' * 50_000,
    ('\\"k\\": \\"' + "x\\n" * 20_000 + '"') * 2,
])
def test_pathological_escaped_input_stays_fast(text: str) -> None:
    started = time.perf_counter()
    Scrubber().scrub_text(text + "\n", path="/var/log/app/app.log")
    assert time.perf_counter() - started < 30  # bounds a hang (catastrophic backtracking), not a speed
