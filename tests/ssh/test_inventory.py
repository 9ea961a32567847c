"""Inventory parsing, selection and --limit (pure), and a jump host over a real sshd."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medic.kernel.errors import UsageError, ValidationError
from medic.plugins.ssh import inventory as inv

GOOD = """\
known_hosts: keys/known_hosts
defaults: {user: ops, port: 2200, key_file: keys/id, vars: {site: lab, tier: none}}
hosts:
  web01: {address: 10.0.0.11, vars: {role: web}}
  web02: {address: 10.0.0.12, jump: bastion}
  db01: {address: 10.0.0.21, user: postgres, port: 22, become: sudo}
  bastion: {address: 192.0.2.1}
groups:
  web: {hosts: [web01, web02], vars: {tier: front}}
  db: {hosts: [db01]}
  prod: {groups: [web, db]}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "inventory.yaml"
    path.write_text(text)
    return path


def test_hosts_groups_defaults_and_vars(tmp_path):
    i = inv.load(write(tmp_path, GOOD))
    assert [h.name for h in i.select(["prod"])] == ["web01", "web02", "db01"]
    web01 = i.hosts["web01"]
    assert (web01.user, web01.port, web01.key_file) == ("ops", 2200, str(tmp_path / "keys/id"))
    assert dict(web01.vars) == {"site": "lab", "tier": "front", "role": "web"}
    assert web01.known_hosts == str(tmp_path / "keys/known_hosts") and web01.groups == ("web", "prod")
    assert i.hosts["web02"].jump is not None and i.hosts["web02"].jump.address == "192.0.2.1"
    assert (i.hosts["db01"].user, i.hosts["db01"].port, i.hosts["db01"].become) == ("postgres", 22, "sudo")
    assert [h.name for h in i.select(["all"])] == ["web01", "web02", "db01", "bastion"]


@pytest.mark.parametrize(("limit", "expected"), [
    ("web*", ["web01", "web02"]), ("prod,!db", ["web01", "web02"]), ("db", ["db01"]),
    ("!web", ["db01", "bastion"]), ("nothing", []),
])
def test_limit_patterns(tmp_path, limit, expected):
    assert [h.name for h in inv.load(write(tmp_path, GOOD)).select(["all"], limit)] == expected


def test_unknown_name_is_a_usage_error_listing_what_exists(tmp_path):
    with pytest.raises(UsageError, match=r"no host or group named 'web03'.*hosts: bastion, db01.*groups: db"):
        inv.load(write(tmp_path, GOOD)).select(["web", "web03"])


@pytest.mark.parametrize(("text", "message"), [
    ("hosts: {a: {port: 'x'}}", r"inventory.yaml:1:.*hosts.a.port.*expected an integer"),
    ("hosts: {a: {prot: 22}}", r"hosts.a.prot.*unknown setting"),
    ("hosts: {a: {}}\ngroups: {g: {hosts: [a, b]}}", r":2:.*groups.g.hosts\[1\].*unknown host 'b'"),
    ("hosts: {a: {}}\ngroups: {g: {groups: [h]}, h: {groups: [g]}}", r"group cycle: g -> h -> g"),
    ("hosts: {a: {jump: b}, b: {jump: a}}", r"jump cycle"),
    ("hosts: {a: {become: su}}", r"expected one of sudo"),
    ("hosts: {a: {port: 70000}}", r"between 1 and 65535"),
    ("hostz: {}", r"unknown key; expected one of known_hosts, defaults, hosts, groups"),
    ("hosts: {a: {address: !!python/object:os.system x}}", r"unsupported YAML tag"),
])
def test_bad_inventories_name_file_line_and_what_was_expected(tmp_path, text, message):
    with pytest.raises(ValidationError, match=message):
        inv.load(write(tmp_path, text))


def test_ssh_specs():
    base = inv.HostConfig(name="", address="", user="ops", port=2200)
    h = inv.parse_ssh_spec("ssh://root@10.1.2.3:2222", base)
    assert (h.name, h.user, h.address, h.port) == ("root@10.1.2.3:2222", "root", "10.1.2.3", 2222)
    h = inv.parse_ssh_spec("ssh://[::1]:2022", base)
    assert (h.user, h.address, h.port) == ("ops", "::1", 2022)
    assert inv.parse_ssh_spec("ssh://box", base).port == 2200
    for bad in ("ssh://", "ssh://host:http", "ssh://host:0", "ssh://a b", "ssh://host/path"):
        with pytest.raises(UsageError, match="ssh://"):
            inv.parse_ssh_spec(bad, base)


def test_hosts_list_cli(tmp_path, run_cli):
    path = write(tmp_path, GOOD)
    code, out, _ = run_cli("hosts", "list", "--inventory", str(path), "--limit", "web*")
    assert code == 0 and "web02  ops@10.0.0.12:2200  [web, prod]  via bastion" in out
    code, out, _ = run_cli("hosts", "list", "db", "--inventory", str(path), "--json")
    assert code == 0 and json.loads(out)[0]["become"] == "sudo"
    code, _, err = run_cli("hosts", "list", "nope", "--inventory", str(path))
    assert code == 2 and "no host or group named 'nope'" in err


def test_jump_host_proxies_the_connection(lab, netlab, runner, statuses):
    # inner (B) is reachable only through bastion (direct-tcpip): its own network namespace, no route from here;
    # what it reports comes from its own mount namespace
    hosts = {"bastion": {"address": netlab.jump}, "inner": {"address": netlab.inner["b"], "jump": "bastion"}}
    inv_path = lab.inventory(hosts, known_hosts=netlab.known_hosts)
    result, targets = runner(["inner"], inventory=str(inv_path))
    assert [t.name for t in targets] == ["inner"] and targets[0].round_trips == 1
    assert statuses(result, "inner")[("system.os_info", None)] == "pass"
    direct = lab.inventory({"inner": {"address": netlab.inner["b"]}}, known_hosts=netlab.known_hosts,
                           filename="direct.yaml")
    result, _ = runner(["inner"], inventory=str(direct))
    (finding,) = result.findings()  # a bypass of the jump channel cannot reach it
    assert finding.check == "target.reachable" and netlab.inner["b"] in finding.summary
    broken = lab.inventory({"down": {"lab": "down"}, "inner": {"address": netlab.inner["b"], "jump": "down"}},
                           filename="broken-jump.yaml", known_hosts=netlab.known_hosts)
    result, _ = runner(["inner"], inventory=str(broken))
    (finding,) = result.findings()
    assert finding.check == "target.reachable" and "127.0.0.9" in finding.summary


def test_json_schema_describes_exactly_what_the_loader_accepts(tmp_path):
    import jsonschema
    import yaml

    schema = json.loads((Path(inv.__file__).with_name("inventory.schema.json")).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert set(schema["$defs"]["settings"]["properties"]) == set(inv.HOST_KEYS)
    assert set(schema["properties"]) == set(inv.TOP_KEYS)
    jsonschema.validate(yaml.safe_load(GOOD), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"hosts": {"a": {"prot": 22}}}, schema)
