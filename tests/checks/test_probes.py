"""Probe parsers and collectors on real files in tmp and on this machine."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from unprivileged import run_unprivileged

from medic.kernel.errors import ProbeUnavailable
from medic.probes import config, kernel, security, services, software
from medic.probes.network import _mask, proxy_env


def test_sshd_config_include_first_value_wins_and_match_ignored(tmp_path: Path) -> None:
    (tmp_path / "sshd_config.d").mkdir()
    (tmp_path / "sshd_config.d" / "10-hardening.conf").write_text(
        "PasswordAuthentication no\nPermitRootLogin no\n"
    )
    main = tmp_path / "sshd_config"
    main.write_text(
        "# comment\nInclude sshd_config.d/*.conf\nPermitRootLogin yes\nPort 2222\n"
        "Match User backup\n  PasswordAuthentication yes\n"
    )
    out = security.sshd_config(str(main))
    assert out["settings"] == {"passwordauthentication": "no", "permitrootlogin": "no", "port": "2222"}
    assert len(out["files"]) == 2
    with pytest.raises(ProbeUnavailable):
        security.sshd_config(str(tmp_path / "none"))


def test_firewall_summaries() -> None:
    nft = (
        "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n"
        "\t\tct state established,related accept\n\t\ttcp dport 22 accept\n\t}\n"
        "\tchain output {\n\t\ttype filter hook output priority filter; policy accept;\n\t}\n}\n"
    )
    assert security.summarise_nft(nft) == {
        "tool": "nft",
        "chains": 2,
        "rules": 2,
        "policies": {"input": "drop", "output": "accept"},
    }
    ipt = (
        "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:DOCKER - [0:0]\n"
        "-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n"
    )
    assert security.summarise_iptables(ipt) == {
        "tool": "iptables",
        "chains": 4,
        "rules": 1,
        "policies": {"INPUT": "accept", "FORWARD": "drop", "OUTPUT": "accept"},
    }


def test_proc_net_and_list_units_parsers() -> None:
    tcp = (
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1234 1\n"
        "   1: 0100007F:1F90 0100007F:A000 01 00000000:00000000 00:00000000 00000000     0        0 1235 1\n"
    )
    assert services.parse_proc_net(tcp, "tcp") == [
        {"proto": "tcp", "address": "127.0.0.1", "port": 8080, "inode": 1234}
    ]
    tcp6 = (
        "  sl  local_address                         remote_address                        st ...\n"
        "   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 0:0 0:0 0 0 "
        "0 77\n"
    )
    assert services.parse_proc_net(tcp6, "tcp6")[0]["address"] == "::"
    units = (
        "nginx.service  loaded active running A high performance web server\n"
        "● pg.service   loaded failed failed  PostgreSQL\n"
    )
    parsed = services.parse_list_units(units)
    assert parsed[1] == {
        "unit": "pg.service",
        "load": "loaded",
        "active": "failed",
        "sub": "failed",
        "description": "PostgreSQL",
    }


def test_systemd_units_unavailable_without_systemd() -> None:
    if os.path.isdir("/run/systemd/system"):
        pytest.skip("systemd runs here")
    with pytest.raises(ProbeUnavailable, match="systemd"):
        services.systemd_units()


@pytest.mark.parametrize(
    ("name", "text", "key", "value"),
    [
        ("app.ini", "[server]\nworkers = 4\n[db]\nhost=db1\n", "server.workers", "4"),
        ("app.json", '{"server": {"workers": 4, "tags": ["a", "b"]}}', "server.tags.1", "b"),
        ("app.yaml", "server:\n  workers: 8\n  debug: true\n", "server.debug", True),
        (
            "app.conf",
            "# c\nmax_connections = 100   # comment\nlisten_addresses 'localhost'\n",
            "listen_addresses",
            "localhost",
        ),
        ("app.env", "export TOKEN_TTL=3600\n", "TOKEN_TTL", "3600"),
    ],
)
def test_config_value_formats(tmp_path: Path, name: str, text: str, key: str, value: object) -> None:
    path = tmp_path / name
    path.write_text(text)
    out = config.config_value(str(path), key)
    assert out["found"] and out["value"] == value
    assert config.config_value(str(path), "no.such.key")["found"] is False


def test_config_value_parse_error_and_missing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert "parse_error" in config.config_value(str(bad), "a")
    assert config.config_value(str(tmp_path / "none.ini"), "a")["exists"] is False


def test_checksums_locks_dir_size_modes(tmp_path: Path) -> None:
    f = tmp_path / "a.conf"
    f.write_text("x = 1\n")
    sums = config.file_checksum([str(f), str(tmp_path / "gone.conf")])
    assert sums["files"] == {
        str(f): hashlib.sha256(b"x = 1\n").hexdigest(),
        str(tmp_path / "gone.conf"): None,
    }
    (tmp_path / "live.pid").write_text(f"{os.getpid()}\n")
    (tmp_path / "dead.pid").write_text("999999999\n")
    (tmp_path / "plain.lock").write_text("")
    locks = {
        Path(x["path"]).name: x
        for x in config.lock_files([str(tmp_path / "*.pid"), str(tmp_path / "*.lock")])["files"]
    }
    assert locks["live.pid"]["pid_alive"] is True and locks["dead.pid"]["pid_alive"] is False
    assert locks["plain.lock"]["pid"] is None
    (tmp_path / "cache" / "big").mkdir(parents=True)
    (tmp_path / "cache" / "big" / "blob").write_bytes(os.urandom(256 * 1024))
    [d] = config.dir_size([str(tmp_path / "cache")])["directories"]
    assert d["bytes"] >= 256 * 1024 and d["largest"][0]["name"] == "big" and d["files"] == 1
    os.chmod(f, 0o666)
    modes = security.path_modes([str(tmp_path / "*.conf")])["entries"]
    assert modes == [{"path": str(f), "type": "file", "mode": "0666", "uid": os.getuid(), "gid": os.getgid()}]


def test_proxy_env_masks_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("https_proxy", "http://alice:s3cret@proxy.corp:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,.corp")
    out = proxy_env()["variables"]
    assert out["https_proxy"] == "http://***@proxy.corp:3128" and "s3cret" not in json.dumps(out)
    assert out["NO_PROXY"] == "localhost,.corp"
    assert _mask("proxy:8080") == "proxy:8080"


def test_packages_dpkg_on_this_machine() -> None:
    out = software.packages(["bash", "no-such-package-xyz"])
    assert (
        out["manager"] == "dpkg"
        and out["packages"]["bash"]
        and out["packages"]["no-such-package-xyz"] is None
    )


def test_kernel_log_and_process_cpu_on_this_machine() -> None:
    try:
        klog = kernel.kernel_log(lines=50)
    except ProbeUnavailable:
        pytest.skip("no readable kernel log")
    assert len(klog["lines"]) <= 50 and all(len(line) <= 300 for line in klog["lines"])
    cpu = kernel.process_cpu(interval_s=0.2, top=3)
    assert len(cpu["top"]) <= 3 and cpu["cpus"] >= 1
    json.dumps(cpu)


def test_packages_pip_of_this_interpreter() -> None:
    import sys

    out = software.packages(["pluggy", "no-such-dist-xyz"], manager="pip", python=sys.executable)
    assert out["manager"] == "pip" and out["packages"]["pluggy"]
    assert out["packages"]["no-such-dist-xyz"] is None


def test_config_value_never_returns_a_secret(tmp_path: Path) -> None:
    path = tmp_path / "app.ini"
    path.write_text("[db]\npassword = hunter2\nhost = db1\n")
    out = config.config_value(str(path), "db.password")
    assert out["value"] == "***" and out["masked"] and "hunter2" not in json.dumps(out)
    assert out["value_sha256"] == hashlib.sha256(b"hunter2").hexdigest()
    assert config.config_value(str(path), "db.host")["value"] == "db1"


def test_log_samples_and_examples_scrub_credentials(tmp_path: Path) -> None:
    from medic.probes.logs import log_scan

    path = tmp_path / "app.log"
    path.write_text(
        "ERROR login failed password=hunter2 user=bob\nERROR call failed Authorization: Bearer abc.def\n"
    )
    out = log_scan(str(path), lines=0)
    text = json.dumps(out)
    assert "hunter2" not in text and "abc.def" not in text
    assert "password=***" in text and "Authorization: ***" in text


def test_package_list_parsers() -> None:
    dpkg = "bash\t5.2.15-2+b8\tii \nlibfoo:amd64\t1.0\tii \nold\t0.9\trc \n"
    assert software.parse_dpkg(dpkg, ["bash", "libfoo", "old", "gone"]) == {
        "bash": "5.2.15-2+b8",
        "libfoo": "1.0",
        "old": None,
        "gone": None,
    }
    rpm = "nginx\t1.20.1-14.el9\npackage postgresql is not installed\n"
    assert software.parse_rpm(rpm, ["nginx", "postgresql"]) == {"nginx": "1.20.1-14.el9", "postgresql": None}


def _stat_names_owner_and_group(directory: Path) -> None:
    import grp
    import pwd

    from medic.probes.files import file_stat

    (directory / "f").write_text("x")
    out = file_stat(str(directory / "f"))
    assert out["owner"] == pwd.getpwuid(os.getuid()).pw_name
    assert out["group"] == grp.getgrgid(os.getgid()).gr_name


def test_file_stat_names_owner_and_group(tmp_path: Path, user_dir: Path) -> None:
    _stat_names_owner_and_group(tmp_path)  # as whoever runs the tests (root on CI)
    run_unprivileged(lambda: _stat_names_owner_and_group(user_dir))  # and as a normal user


def test_probe_modules_import_only_stdlib_kernel_and_sibling_probe_modules() -> None:
    """Shippable: what a remote Python or the agent gets (the registry's modules and what they import, found by
    medic.kernel.closure) is the light kernel and probe code, needing only the stdlib, psutil and PyYAML."""
    import ast
    import sys

    from medic.kernel.closure import closure
    from medic.kernel.probes import discover

    shipped = closure(["medic.kernel.probe", *discover().modules()])
    assert {"medic.probes.logscan", "medic.probes.logengines"} <= set(shipped)
    for name in shipped:
        assert name.startswith(("medic.kernel.", "medic.probes.")), name
        module = sys.modules[name]
        tree = ast.parse(Path(module.__file__ or "").read_text())
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for imported in names:
                top = imported.split(".")[0]
                assert top == "medic" or top in sys.stdlib_module_names or top in ("psutil", "yaml", "__future__"), (
                    f"{name} imports {imported}"
                )
