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


@pytest.mark.parametrize(("line", "secret"), [
    ('<div data-config="{&quot;user&quot;: &quot;bob&quot;, &quot;apiKey&quot;: &quot;' + PW + '&quot;}">', PW),
    ("a=&#34;password&#34;:&#34;" + PW + "&#34;", PW),  # JSON in an HTML or XML attribute
    ("GET /login?q=user%3Dbob%26password%3D" + PW.replace("!", "%21") + "%26x%3D1 HTTP/1.1", PW.replace("!", "%21")),
    ("GET /r?next=%2Flogin%3Fpassword%3D" + TOKEN + " 302", TOKEN),  # a query string URL-encoded once more
])
def test_a_secret_escaped_once_more_is_removed(line: str, secret: str) -> None:
    for before in ("", "x" * 600 + "\n"):  # a short text, and a long one (the compiled first pass)
        out = Scrubber().scrub_text(before + line + "\n", path="/var/log/app/app.log")
        assert secret not in out and secret[:8] not in out and "[REDACTED:password#1]" in out, out


@pytest.mark.parametrize("line", [
    "GET /search?q=password%3Dreset+help HTTP/1.1",  # a search for words
    "GET /search?q=password%3Dreset HTTP/1.1",
    "&quot;passwordPolicy&quot;: &quot;strict&quot;",
])
def test_look_alikes_escaped_once_more_are_kept(line: str) -> None:
    assert Scrubber().scrub_text(line + "\n", path="/var/log/app/app.log") == line + "\n"


@pytest.mark.parametrize("text", [
    "&quot;password" * 30_000, "&quot;password&quot;: &quot;" + "a&quot" * 30_000,
    "password%3D" + "%2" * 50_000, "%26password%3D" * 20_000,
    '\\"password\\": \\"' + "\\\\" * 50_000,
    '"a": "' + '\\"' * 50_000,
    ('\\"k\\": \\"' + "x\\n" * 20_000 + '"') * 2,
])
def test_pathological_escaped_input_stays_fast(text: str) -> None:
    started = time.perf_counter()
    Scrubber().scrub_text(text + "\n", path="/var/log/app/app.log")
    assert time.perf_counter() - started < 30  # bounds a hang (catastrophic backtracking), not a speed
