"""`set_key` edits configuration files in place (only the value changes, types kept) and `config-change` verifies
the parsed value, with backups and rollback working on the edited files."""

from __future__ import annotations

import difflib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from medic.plugins.change import configvalue, jsonedit, yamledit
from medic.plugins.change.checks import config_key
from medic.plugins.change.fileedit import EditError, get_key, set_key

from .conftest import medic

YAML = """\
# service settings
server:
    workers: 8        # one per CPU
    debug: True
    name: 'app'
    hosts: [a, b, c]   # flow style
    ports:
      - 80
      - 443
limits: {cpu: 2, mem: 512}
list:
- x
ratio: 0.5
"""

JSON = """{
    "name": "app",
    "workers": 8,
    "debug": true,
    "hosts": ["a", "b"],
    "db": {"port": 5432, "ssl": false},
    "ratio": 0.5
}
"""

INI = """\
; main settings
[main]
workers = 8   ; per CPU
debug = yes
name = app
motd = first line
  second line

[other]
workers = 2
"""


def changed(before: str, after: str) -> list[str]:
    """The lines a unified diff shows as removed or added."""
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("---", "+++"))]


@pytest.mark.parametrize(
    ("key", "value", "old", "new"),
    [
        ("server.workers", "16", "    workers: 8        # one per CPU", "    workers: 16        # one per CPU"),
        ("server.debug", "false", "    debug: True", "    debug: False"),
        ("server.name", "it's", "    name: 'app'", "    name: 'it''s'"),
        ("limits.cpu", "4", "limits: {cpu: 2, mem: 512}", "limits: {cpu: 4, mem: 512}"),
        ("ratio", "1", "ratio: 0.5", "ratio: 1.0"),
    ],
)
def test_yaml_changes_only_the_value_keeping_comments_flow_style_and_types(
    key: str, value: str, old: str, new: str
) -> None:
    after = set_key(YAML, "yaml", key, value)
    assert changed(YAML, after) == [f"-{old}", f"+{new}"]
    assert get_key(after, "yaml", key)[1] == configvalue.lookup(yamledit.load(after, "x"), key)[1]


def test_yaml_new_keys_are_added_in_place() -> None:
    after = set_key(YAML, "yaml", "server.timeout", "30", type_="int")
    assert changed(YAML, after) == ["+    timeout: 30"]
    assert changed(YAML, set_key(YAML, "yaml", "limits.gpu", "yes")) == [
        "-limits: {cpu: 2, mem: 512}", '+limits: {cpu: 2, mem: 512, gpu: "yes"}'  # text, for YAML 1.1 readers too
    ]
    assert changed(YAML, set_key(YAML, "auto", "top", "on", path="c.yaml", type_="bool")) == ["+top: true"]
    deeper = set_key(YAML, "yaml", "new.deep", 1)  # new parents go through ruamel.yaml's round trip
    assert configvalue.lookup(yamledit.load(deeper, "x"), "new.deep") == (True, 1)
    assert "# one per CPU" in deeper and "hosts: [a, b, c]   # flow style" in deeper


@pytest.mark.parametrize(
    ("key", "value", "old", "new"),
    [
        ("workers", "16", '    "workers": 8,', '    "workers": 16,'),
        ("debug", "false", '    "debug": true,', '    "debug": false,'),
        ("db.port", "6543", '    "db": {"port": 5432, "ssl": false},', '    "db": {"port": 6543, "ssl": false},'),
        ("name", "8", '    "name": "app",', '    "name": "8",'),
        ("ratio", "2", '    "ratio": 0.5', '    "ratio": 2.0'),
    ],
)
def test_json_changes_only_the_value_keeping_order_indent_and_types(
    key: str, value: str, old: str, new: str
) -> None:
    after = set_key(JSON, "json", key, value)
    assert changed(JSON, after) == [f"-{old}", f"+{new}"]
    assert list(json.loads(after)) == list(json.loads(JSON))


def test_json_new_keys_follow_the_layout() -> None:
    after = set_key(JSON, "json", "timeout", 30)
    assert changed(JSON, after) == ['-    "ratio": 0.5', '+    "ratio": 0.5,', '+    "timeout": 30']
    inline = set_key(JSON, "json", "db.user", "me")
    assert changed(JSON, inline)[1] == '+    "db": {"port": 5432, "ssl": false, "user": "me"},'
    nested = json.loads(set_key(JSON, "json", "a.b", "1", type_="int"))
    assert nested["a"] == {"b": 1} and list(nested)[-1] == "a"
    assert set_key("", "auto", "k", "v", path="x.json") == '{\n  "k": "v"\n}\n'


def test_ini_changes_only_the_value_keeping_inline_comments_and_words() -> None:
    after = set_key(INI, "ini", "workers", "16", "main")
    assert changed(INI, after) == ["-workers = 8   ; per CPU", "+workers = 16   ; per CPU"]
    assert changed(INI, set_key(INI, "ini", "debug", "false", "main")) == ["-debug = yes", "+debug = no"]
    assert changed(INI, set_key(INI, "ini", "motd", "one line", "main")) == [
        "-motd = first line", "-  second line", "+motd = one line"
    ]
    assert get_key(after, "ini", "workers", "main") == (True, 16)
    assert get_key(after, "ini", "workers", "other") == (True, 2)


@pytest.mark.parametrize(("fmt", "text"), [("yaml", YAML), ("json", JSON), ("ini", INI)])
def test_values_keep_their_type_unless_told(fmt: str, text: str) -> None:
    key = {"yaml": "server.workers", "json": "workers", "ini": "workers"}[fmt]
    section = "main" if fmt == "ini" else None
    with pytest.raises(EditError, match=r"holds an integer \(8\); 'many' is not an integer .*type: string"):
        set_key(text, fmt, key, "many", section)
    as_text = set_key(text, fmt, key, "many", section, type_="string")
    assert get_key(as_text, fmt, key, section) == (True, "many")
    with pytest.raises(EditError, match="has type: float"):
        set_key(text, fmt, key, "x", section, type_="float")


def test_unparsable_files_are_refused_with_their_place() -> None:
    with pytest.raises(EditError, match=r"app\.yaml:2:\d+: not valid YAML"):
        set_key("a: 1\n b: [\n", "yaml", "a", 2, path="app.yaml")
    with pytest.raises(EditError, match=r"app\.json: not valid JSON"):
        jsonedit.set_key("{'a': 1}", "a", 2, path="app.json")
    with pytest.raises(EditError, match=r"'a' in 'a\.b' is not an object"):
        set_key('{"a": 1}', "json", "a.b", 2)


def _file(lines: str) -> dict[str, object]:
    return {"file": {"lines": lines.splitlines(), "truncated": False, "size_bytes": len(lines)}}


def test_verification_compares_the_parsed_value() -> None:
    params = {"path": "/etc/app.yaml", "key": "server.workers", "value": "8", "section": "", "format": "yaml",
              "type": "auto"}
    assert config_key(_file(YAML), params).status == "pass"
    unchanged = config_key(_file(YAML), {**params, "value": "16"})  # the key is there, the value is not
    assert unchanged.status == "fail" and "server.workers is 8, expected 16" in unchanged.summary
    assert config_key(_file(YAML), {**params, "value": "8", "type": "string"}).status == "fail"  # 8 is no text
    assert config_key(_file(YAML), {**params, "key": "server.nope"}).status == "fail"
    ini = {**params, "path": "/etc/app.ini", "format": "ini", "section": "main", "key": "debug", "value": "true"}
    assert config_key(_file(INI), ini).status == "pass"  # yes is true
    secret = config_key(_file("password = hunter2\n"), {**ini, "section": "", "format": "keyvalue",
                                                         "key": "password", "value": "other"})
    assert secret.status == "fail" and "hunter2" not in json.dumps([secret.summary, secret.evidence])


def _config_change(conf: Path, env: dict[str, str], *inputs: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    args = ["run", "config-change", "--json", "-i", f"config_file={conf}"]
    for item in inputs:
        args += ["-i", item]
    proc = medic(*args, env=env)
    return proc.returncode, json.loads(proc.stdout)


def test_config_change_edits_yaml_in_place_and_rolls_back(tmp_path: Path, env: dict[str, str]) -> None:
    conf = tmp_path / "app.yaml"
    conf.write_text(YAML)
    code, doc = _config_change(conf, env, "key=server.workers", "value=16")
    assert code == 0, [f["summary"] for f in doc["findings"]]
    assert changed(YAML, conf.read_text()) == ["-    workers: 8        # one per CPU",
                                                "+    workers: 16        # one per CPU"]
    verified = next(f for f in doc["findings"] if f["step"] == "verify_key")
    assert verified["status"] == "pass" and verified["evidence"]["value"] == 16
    medic("rollback", doc["run_id"], env=env, check=True)
    assert conf.read_text() == YAML
    code, doc = _config_change(conf, env, "key=server.workers", "value=16", "verify_command=false")
    assert code == 1 and conf.read_text() == YAML  # a failed verification restored the file at once


def test_config_change_json_and_ini_through_the_cli(tmp_path: Path, env: dict[str, str]) -> None:
    conf = tmp_path / "app.json"
    conf.write_text(JSON)
    code, _ = _config_change(conf, env, "key=debug", "value=false")
    assert code == 0 and changed(JSON, conf.read_text()) == ['-    "debug": true,', '+    "debug": false,']
    ini = tmp_path / "app.ini"
    ini.write_text(INI)
    code, _ = _config_change(ini, env, "key=workers", "value=16", "section=main")
    assert code == 0 and changed(INI, ini.read_text()) == ["-workers = 8   ; per CPU", "+workers = 16   ; per CPU"]
    code, doc = _config_change(ini, env, "key=workers", "value=lots", "section=main")
    assert code == 1 and ini.read_text().count("workers = 16") == 1
    assert any("not an integer" in f["summary"] for f in doc["findings"])


def test_a_value_that_did_not_change_fails_verification(tmp_path: Path, env: dict[str, str]) -> None:
    """The old verification looked for the key's name, which the file holds whatever its value."""
    conf = tmp_path / "app.yaml"
    conf.write_text(YAML)
    original = tmp_path / "original.yaml"
    original.write_text(YAML)
    playbook = tmp_path / "pb.yaml"
    playbook.write_text(textwrap.dedent(f"""\
        name: t
        version: 1
        steps:
          - {{id: b, backup: files, with: {{path: {conf}}}}}
          - {{id: set, action: set_key, with: {{path: {conf}, key: server.workers, value: "16"}}}}
          - id: undo_behind_our_back
            action: command
            resources: [file:{conf}]
            with: {{argv: [cp, {original}, {conf}]}}
          - {{id: v, verify: change.config_key, with: {{path: {conf}, key: server.workers, value: "16"}}}}
    """))
    proc = medic("run", str(playbook), "--json", env=env)
    doc = json.loads(proc.stdout)
    verified = next(f for f in doc["findings"] if f["step"] == "v" and f["check"] == "change.config_key")
    assert verified["status"] == "fail" and "server.workers is 8, expected 16" in verified["summary"]
    assert proc.returncode == 1 and conf.read_text() == YAML


BLOCKED = """
import json, sys
for name in sys.argv[1:]:
    sys.modules[name] = None  # this host has not got it
from medic.plugins.change.fileedit import EditError, set_key
text = sys.stdin.read()
out = []
for key, value in (("server.workers", "16"), ("server.timeout", "30"), ("new.deep", "1")):
    try:
        out.append(set_key(text, "yaml", key, value, path="/etc/app.yaml"))
    except EditError as exc:
        out.append(f"EditError: {exc}")
print(json.dumps(out))
"""


def _edits_without(*modules: str) -> list[str]:
    proc = subprocess.run([sys.executable, "-c", BLOCKED, *modules], input=YAML, capture_output=True, text=True,
                          check=True, timeout=60)
    return list(json.loads(proc.stdout))


def test_a_host_with_pyyaml_only_edits_in_place_and_is_told_what_else_needs_ruamel() -> None:
    """YAML edits run on the host that holds the file, which may lack ruamel.yaml (the SSH lab's python3 does)."""
    replaced, added, deeper = _edits_without("ruamel")
    assert changed(YAML, replaced) == ["-    workers: 8        # one per CPU", "+    workers: 16        # one per CPU"]
    assert changed(YAML, added) == ['+    timeout: "30"']  # a new key without `type:` is written as given: text
    assert deeper == ("EditError: /etc/app.yaml: new.deep: this edit (a new mapping, a list or mapping value, an "
                      "anchored value or a block scalar) is written by ruamel.yaml's round trip; it is not on this "
                      "host (pip install ruamel.yaml, or the python3-ruamel.yaml package)")
    assert set(_edits_without("ruamel", "yaml")) == {
        "EditError: /etc/app.yaml: editing YAML needs ruamel.yaml (or PyYAML) on this host (pip install "
        "ruamel.yaml, or the python3-ruamel.yaml package)"}
