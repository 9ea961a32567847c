"""Inventory files: hosts, groups of hosts and of groups, defaults; name selection and ``--limit``.

Pure logic apart from reading the file. The format is documented in docs/ssh.md and described by
``inventory.schema.json`` next to this module::

    known_hosts: known_hosts          # relative to this file; default ~/.ssh/known_hosts
    defaults: {user: root, port: 22, key_file: ~/.ssh/id_ed25519, vars: {site: lab}}
    hosts:
      web01: {address: 10.0.0.11, port: 2222, jump: bastion, vars: {role: web}}
      bastion: {address: 192.0.2.1}
    groups:
      web: {hosts: [web01], vars: {tier: front}}
      prod: {groups: [web]}

Unknown names, cycles and bad values are an error naming file and line, raised before anything connects.
"""

from __future__ import annotations

import fnmatch
import getpass
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from medic.kernel import yamlload
from medic.kernel.errors import Issue, UsageError, ValidationError

# setting -> (type, description); shared by `defaults:` and each host
HOST_KEYS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "address": (str, "host name or IP address to connect to (default: the host's name)"),
    "port": (int, "SSH port"),
    "user": (str, "login user"),
    "key_file": (str, "private key file (relative to the inventory)"),
    "passphrase_env": (str, "environment variable holding the key's passphrase"),
    "jump": (str, "name of another inventory host to connect through (ProxyJump)"),
    "become": (str, "privilege escalation: sudo"),
    "become_password_env": (str, "environment variable holding the sudo password"),
    "python": (str, "remote Python 3 interpreter"),
    "connect_timeout": ((int, float), "seconds for TCP connect, banner and authentication each"),
    "command_timeout": ((int, float), "seconds a remote collection may take"),
    "vars": (dict, "variables for templates (target.vars.NAME)"),
}
TOP_KEYS = ("known_hosts", "defaults", "hosts", "groups")
GROUP_KEYS = ("hosts", "groups", "vars")
BECOME = ("sudo",)


@dataclass(frozen=True)
class HostConfig:
    """Everything needed to reach one host; ``name`` is what reports show."""

    name: str
    address: str
    port: int = 22
    user: str = field(default_factory=getpass.getuser)
    key_file: str | None = None
    passphrase_env: str = "MEDIC_SSH_PASSPHRASE"  # noqa: S105 - a variable's name, not a secret
    jump: HostConfig | None = None
    become: str | None = None
    become_password_env: str = "MEDIC_BECOME_PASSWORD"  # noqa: S105 - a variable's name
    python: str = "python3"
    connect_timeout: float = 10.0
    command_timeout: float = 120.0
    known_hosts: str | None = None
    vars: Mapping[str, Any] = field(default_factory=dict)
    groups: tuple[str, ...] = ()

    @property
    def endpoint(self) -> str:
        return f"{self.user}@{self.address}:{self.port}"

    def uses_sudo(self, become: bool | None = None) -> bool:
        """Whether a command runs with sudo: a step's ``become`` if it says, else this host's setting."""
        return self.become == "sudo" if become is None else become


@dataclass
class Inventory:
    path: str
    hosts: dict[str, HostConfig]
    groups: dict[str, list[str]]  # group -> host names (expanded, in file order)
    defaults: HostConfig

    def select(self, names: Iterable[str], limit: str | None = None) -> list[HostConfig]:
        """Hosts named directly or through groups (``all`` is every host), filtered by ``limit``."""
        picked: dict[str, HostConfig] = {}
        for name in names:
            if name == "all":
                members = list(self.hosts)
            elif name in self.hosts:
                members = [name]
            elif name in self.groups:
                members = self.groups[name]
            else:
                raise UsageError(f"{self.path}: no host or group named {name!r}; hosts: "
                                 f"{', '.join(sorted(self.hosts)) or 'none'}; groups: "
                                 f"{', '.join(sorted(self.groups)) or 'none'}")
            for member in members:
                picked.setdefault(member, self.hosts[member])
        return [h for h in picked.values() if limit is None or matches_limit(h, limit)]


def matches_limit(host: HostConfig, limit: str) -> bool:
    """``--limit 'web*,db01,!web03'``: shell patterns over host and group names; ``!`` excludes."""
    patterns = [p.strip() for p in limit.split(",") if p.strip()]
    names = (host.name, *host.groups)

    def hit(pattern: str) -> bool:
        return any(fnmatch.fnmatchcase(n, pattern) for n in names)

    include = [p for p in patterns if not p.startswith("!")]
    exclude = [p[1:] for p in patterns if p.startswith("!")]
    return (not include or any(hit(p) for p in include)) and not any(hit(p) for p in exclude)


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = str(path)
        self.issues: list[Issue] = []

    def err(self, container: Any, key: str | int | None, where: str, message: str) -> None:
        line, col = yamlload.mark_of(container, key) or (None, None)
        self.issues.append(Issue(message, self.file, line, col, where))

    def settings(self, raw: Any, where: str) -> dict[str, Any]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.err(raw, None, where, "expected a mapping of host settings")
            return {}
        out: dict[str, Any] = {}
        for key in raw:
            value: Any = raw[key]
            spec = HOST_KEYS.get(key)
            if spec is None:
                known = ", ".join(HOST_KEYS)
                self.err(raw, key, f"{where}.{key}", f"unknown setting; expected one of {known}")
            elif not isinstance(raw[key], spec[0]) or isinstance(value, bool):
                self.err(raw, key, f"{where}.{key}", f"expected {_type_name(spec[0])}: {spec[1]}")
            elif key == "become" and value not in BECOME:
                self.err(raw, key, f"{where}.{key}", f"expected one of {', '.join(BECOME)}")
            elif key == "port" and not 0 < value < 65536:
                self.err(raw, key, f"{where}.{key}", "expected a TCP port between 1 and 65535")
            else:
                out[key] = dict(value) if key == "vars" else value
        if "key_file" in out:
            out["key_file"] = str(_relative(self.path, out["key_file"]))
        return out


def _type_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", float: "a number", dict: "a mapping"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names[k] for k in kinds)


def _relative(base: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else base.parent / p


def load(path: str | Path) -> Inventory:
    p = Path(path).expanduser()
    data = yamlload.load_file(p) or {}
    r = _Reader(p)
    if not isinstance(data, dict):
        raise ValidationError([Issue("expected a mapping with hosts, groups, defaults", str(p), 1, 1)],
                              subject=str(p))
    for key in data:
        if key not in TOP_KEYS:
            r.err(data, key, key, f"unknown key; expected one of {', '.join(TOP_KEYS)}")
    known_hosts = data.get("known_hosts")
    if known_hosts is not None and not isinstance(known_hosts, str):
        r.err(data, "known_hosts", "known_hosts", "expected a file path")
        known_hosts = None
    base = r.settings(data.get("defaults"), "defaults")
    if known_hosts:
        base["known_hosts"] = str(_relative(p, known_hosts))
    raw_hosts = data.get("hosts") or {}
    raw_groups = data.get("groups") or {}
    for key, raw in (("hosts", raw_hosts), ("groups", raw_groups)):
        if not isinstance(raw, dict):
            r.err(data, key, key, "expected a mapping of names")
    if r.issues:
        raise ValidationError(r.issues, subject=str(p))
    groups, host_groups = _groups(r, raw_groups, set(raw_hosts))
    settings = {name: r.settings(raw, f"hosts.{name}") for name, raw in raw_hosts.items()}
    hosts = {name: _host(name, base, settings[name], raw_groups, host_groups.get(name, []))
             for name in raw_hosts}
    hosts = _resolve_jumps(r, hosts, settings, raw_hosts)
    if r.issues:
        raise ValidationError(r.issues, subject=str(p))
    return Inventory(str(p), hosts, groups, _host("defaults", base, {}, {}, []))


def _host(name: str, base: Mapping[str, Any], own: Mapping[str, Any], raw_groups: Mapping[str, Any],
          groups: list[str]) -> HostConfig:
    merged = {**base, **own}
    variables: dict[str, Any] = dict(base.get("vars") or {})
    for g in groups:
        variables.update((raw_groups.get(g) or {}).get("vars") or {})
    variables.update(own.get("vars") or {})
    merged["vars"] = variables
    merged.pop("jump", None)
    merged.setdefault("address", name)
    for key in ("connect_timeout", "command_timeout"):
        if key in merged:
            merged[key] = float(merged[key])
    return HostConfig(name=name, groups=tuple(groups), **merged)


Groups = dict[str, list[str]]


def _groups(r: _Reader, raw: Mapping[str, Any], hosts: set[str]) -> tuple[Groups, Groups]:
    for name, body in raw.items():
        if name in hosts or name == "all":
            r.err(raw, name, f"groups.{name}", "a group cannot have the name of a host or 'all'")
        if not isinstance(body, dict):
            r.err(raw, name, f"groups.{name}", "expected a mapping with hosts, groups, vars")
            continue
        for key in body:
            if key not in GROUP_KEYS:
                r.err(body, key, f"groups.{name}.{key}", f"unknown key; expected {', '.join(GROUP_KEYS)}")
        for key, pool in (("hosts", hosts), ("groups", set(raw))):
            members = body.get(key) or []
            if not isinstance(members, list):
                r.err(body, key, f"groups.{name}.{key}", "expected a list of names")
                continue
            for i, m in enumerate(members):
                if m not in pool:
                    r.err(members, i, f"groups.{name}.{key}[{i}]", f"unknown {key[:-1]} {m!r}")
    if r.issues:
        raise ValidationError(r.issues, subject=r.file)
    expanded: dict[str, list[str]] = {}

    def expand(name: str, trail: tuple[str, ...]) -> list[str]:
        if name in trail:
            r.err(raw, name, f"groups.{name}", f"group cycle: {' -> '.join((*trail, name))}")
            return []
        body = raw[name]
        out = list(body.get("hosts") or [])
        for child in body.get("groups") or []:
            out += expand(child, (*trail, name))
        return list(dict.fromkeys(out))

    for name in raw:
        expanded[name] = expand(name, ())
    membership: dict[str, list[str]] = {}
    for g, members in expanded.items():
        for h in members:
            membership.setdefault(h, []).append(g)
    return expanded, membership


def _resolve_jumps(r: _Reader, hosts: dict[str, HostConfig], settings: Mapping[str, Mapping[str, Any]],
                   raw_hosts: Mapping[str, Any]) -> dict[str, HostConfig]:
    resolved: dict[str, HostConfig] = {}

    def resolve(name: str, trail: tuple[str, ...]) -> HostConfig:
        if name in resolved:
            return resolved[name]
        jump = settings[name].get("jump")
        host = hosts[name]
        if jump is not None:
            if jump not in hosts:
                r.err(raw_hosts[name], "jump", f"hosts.{name}.jump", f"unknown jump host {jump!r}")
            elif jump in trail:
                cycle = " -> ".join((*trail, jump))
                r.err(raw_hosts[name], "jump", f"hosts.{name}.jump", f"jump cycle: {cycle}")
            else:
                host = replace(host, jump=resolve(jump, (*trail, name)))
        resolved[name] = host
        return host

    return {name: resolve(name, (name,)) for name in hosts}  # file order, not resolution order


def parse_ssh_spec(spec: str, defaults: HostConfig | None = None) -> HostConfig:
    """``ssh://[user@]host[:port]`` (IPv6 as ``[addr]:port``) into a HostConfig built on ``defaults``."""
    rest = spec.removeprefix("ssh://") if spec.startswith("ssh://") else spec.removeprefix("ssh:")
    user, _, hostport = rest.rpartition("@")
    if hostport.startswith("["):
        address, _, tail = hostport[1:].partition("]")
        port_text = tail.removeprefix(":")
    else:
        address, _, port_text = hostport.partition(":")
    if not address or "/" in hostport or any(c.isspace() for c in rest):
        raise UsageError(f"target {spec!r}: expected ssh://[user@]host[:port]")
    base = defaults or HostConfig(name="", address="")
    port = base.port
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise UsageError(f"target {spec!r}: port {port_text!r} is not a TCP port (1-65535)")
        port = int(port_text)
    return replace(base, name=rest, address=address, port=port, user=user or base.user, groups=())
