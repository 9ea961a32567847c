"""Key forms of code and config that the key=value patterns missed (issue 17, README-redaction-misses classes 3, 5):
typed declarations (Go's `var name TYPE = "v"`, C's `char secret[25] = "v"`), tuple assignments, and values on the
lines after their key (an XML element's text on its own line, YAML list items, a JSON array, an INI continuation,
Travis CI's `secure:`). Values here are invented.
"""

from __future__ import annotations

import time

import pytest

from medic.agent.redact import Scrubber

pytestmark = pytest.mark.usefixtures("redact_engine")  # the compiled first pass and the pure-Python one alike
SECRET = "Hq4vN8zK2pW6tR9mX3bL7cJ5"
OTHER = "tR5wQ9kN3zV7mB2xL8pH4dJ6"


def _scrub(text: str, path: str = "/srv/app/main.go") -> str:
    return Scrubber().scrub_text(text, path=path)


@pytest.mark.parametrize("line", [
    'var deployToken string = "{s}"',
    'const apiKey string = "{s}"',
    '\tvar dbPassword *string = "{s}"',
    'var clientSecret = "{s}"',
    'char secret[25] = "{s}";',
    'static const char api_key[] = "{s}";',
    "char db_password[64] = '{s}';",
    'var deploy-token string = "{s}"',
])
def test_a_declaration_s_literal_is_removed_whole(line: str) -> None:
    out = _scrub(line.format(s=SECRET) + "\n")
    assert SECRET not in out and SECRET[:6] not in out and "[REDACTED:" in out
    assert out.startswith(line.split("{s}")[0]), out  # the declaration itself is kept


@pytest.mark.parametrize("line", [
    'a_password, b_password := "{s}", "{o}"',
    "api_key, api_secret = '{s}', '{o}'",
    'const db_password, cache_password string = "{s}", "{o}"',
])
def test_each_name_of_a_tuple_assignment_takes_its_value(line: str) -> None:
    out = _scrub(line.format(s=SECRET, o=OTHER) + "\n")
    assert SECRET not in out and OTHER not in out and out.count("[REDACTED:") == 2


@pytest.mark.parametrize("line", [
    'var userName string = "{s}"',
    'const apiVersion string = "v1"',
    'var dbPassword string = "${{DB_PASSWORD}}"',
    'char buffer[25] = "{s}";',
    'user, host := "{s}", "example.org"',
    'var token string = ""',
])
def test_declarations_that_hold_no_secret_are_kept(line: str) -> None:
    text = line.format(s=SECRET) + "\n"
    assert _scrub(text) == text


@pytest.mark.parametrize("text", [
    "<config>\n  <apiToken>\n      {s}\n  </apiToken>\n</config>\n",
    "<password>\n{s}\n</password>\n",
    "deploy:\n    password:\n        secure: {s}\n    on: main\n",
    "passwords:\n  - {s}\n  - {o}\nnext: 1\n",
    "passwords:\n- {s}\n- {o}\n",
    '{{\n  "db_passwords": [\n    "{s}",\n    "{o}"\n  ]\n}}\n',
    "[section]\nsecrets_for_the_job =\n    {s}\n    {o}\n",
])
def test_a_value_on_the_lines_after_its_key_is_removed(text: str) -> None:
    out = _scrub(text.format(s=SECRET, o=OTHER), path="/srv/app/settings.conf")
    assert SECRET not in out and OTHER not in out and "[REDACTED:" in out


@pytest.mark.parametrize("text", [
    "services:\n  web:\n    secrets:\n      - db_password\n      - api_key\n",
    "imagePullSecrets:\n  - name: regcred\n",
    "password:\n  min_length: 8\n  history: 5\n",
    "<apiToken>\n   ${API_TOKEN}\n</apiToken>\n",
    "<description>\n   a token is sent\n</description>\n",
    "tokens:\n  - {{ vault_token }}\n",
    "[section]\nsecret_file =\n",
    "users:\n  - alice\n  - bob\n",
])
def test_blocks_that_hold_no_secret_are_kept(text: str) -> None:
    assert _scrub(text, path="/srv/app/settings.conf") == text


@pytest.mark.parametrize("line", [
    "nethunt token - '{s}'",
    "api key - {s}",
    "[DEBUG] Using aeroworkflow KEY={s}",
    "[DEBUG] Using Key={s}",
    "Using API key: {s}",
    "INFO  Secret token = {s}",
    'url := "https://api.example.org/v1/list?key={s}&page=2"',
    "GET /maps/api/geocode/json?address=x&key={s} HTTP/1.1",
])
def test_prose_and_log_forms_of_a_key_are_removed(line: str) -> None:
    out = _scrub(line.format(s=SECRET) + "\n", path="/var/log/app/app.log")
    assert SECRET not in out and SECRET[:6] not in out and "[REDACTED:" in out


@pytest.mark.parametrize("line", [
    "password - see the wiki",
    "token - expired",
    "Using API key: ${{API_KEY}}",
    "sort key: created_at_desc",
    "primary key = id",
    "Using key=default",
    "GET /search?key=cats&page=2",
    "host key: SHA256:{s}",
    "public key: {s}",
    '<add key="ConnectionString_Billing2" value="x" />',
])
def test_prose_that_holds_no_secret_is_kept(line: str) -> None:
    text = line.format(s=SECRET) + "\n"
    assert _scrub(text, path="/var/log/app/app.log") == text


@pytest.mark.parametrize("line", [
    'var deployToken string = "{s}"',
    'char secret[25] = "{s}";',
    '\tconst apiKey *string = "{s}"',
])
def test_the_leak_scan_reads_past_a_declared_type(line: str) -> None:
    from medic.agent.redact import scan_text

    hits = scan_text(line.format(s="q7w3e9r1t5y2") + "\n", "main.go")  # (not random enough for high_entropy)
    assert any(hit.rule == "secret_assignment" for hit in hits), hits


@pytest.mark.parametrize("line", [
    "curl -u 'deploy:{s}' https://ci.example.org/api",
    'curl -u"deploy:{s}" https://ci.example.org/api',
    "curl --user=deploy:{s} https://ci.example.org/api",
    'curl -u ":{s}" https://es.example.org:9200',
    "curl --user deploy:'{s}' -X PATCH https://ci.example.org/api",
    "curl --proxy-user deploy:{s} https://ci.example.org/api",
])
def test_curl_credentials_in_every_quoting_are_removed(line: str) -> None:
    out = _scrub(line.format(s=SECRET) + "\n", path="/home/u/.bash_history")
    assert SECRET not in out and SECRET[:6] not in out and "[REDACTED:" in out
    assert "deploy:" in out or ":[REDACTED" in out  # the user name is kept


@pytest.mark.parametrize("line", ["docker run -u 1000:1000 nginx", "sudo -u www-data:www-data ls",
                                  "curl -u $CI_USER:$CI_PASSWORD https://ci.example.org"])
def test_ids_and_variables_after_dash_u_are_kept(line: str) -> None:
    assert _scrub(line + "\n", path="/home/u/.bash_history") == line + "\n"


@pytest.mark.parametrize("line", ["BUNDLE_GEMS__EXAMPLE__COM=deploy:{s}", 'BUNDLE_GEMS__EXAMPLE__COM: "deploy:{s}"',
                                  "export BUNDLE_PKGS__EXAMPLE__IO={s}:x-oauth-basic"])
def test_bundler_host_credentials_are_removed_whole(line: str) -> None:
    out = _scrub(line.format(s=SECRET) + "\n", path="/srv/app/.bundle/config")
    assert SECRET not in out and "deploy" not in out and "[REDACTED:" in out


def test_every_value_of_a_kubernetes_secret_is_removed() -> None:
    text = (f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: web\ntype: Opaque\ndata:\n  extra: {SECRET}\n"
            f"  ca.pem: |\n    {OTHER}\n    {OTHER[::-1]}\nstringData:\n  \"conf\": \"{SECRET[::-1]}\"\n---\n"
            "apiVersion: v1\nkind: ConfigMap\ndata:\n  mode: fast\n")
    out = _scrub(text, path="/srv/k8s/web.yaml")
    for value in (SECRET, OTHER, OTHER[::-1], SECRET[::-1]):
        assert value not in out
    assert "name: web" in out and "mode: fast" in out and "  ca.pem: |\n" in out


def test_a_kubernetes_secret_with_its_kind_after_the_data_is_removed() -> None:
    out = _scrub(f"apiVersion: v1\ndata:\n  token.txt: {SECRET}\nkind: Secret\n", path="/srv/k8s/s.yaml")
    assert SECRET not in out and "[REDACTED:" in out


def test_a_long_list_of_names_is_read_in_linear_time() -> None:
    line = "password=x, " + ", ".join(f"field{i}" for i in range(20000)) + ' "q"\n'  # (a CSV header, say)
    start = time.process_time()
    _scrub(line, path="/srv/app/export.csv")
    assert time.process_time() - start < 5  # (a tuple tried from every name: minutes)
