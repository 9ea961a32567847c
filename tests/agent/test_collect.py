"""Collection under budgets and profiles: what is collected, what is skipped and why."""

from __future__ import annotations

import gzip
import textwrap
import threading
from pathlib import Path

import pytest
from unprivileged import run_unprivileged

from medic.agent.collect import Collector, tail_text
from medic.agent.profile import load_profile, packaged_names, parse_profile
from medic.kernel import yamlload
from medic.kernel.errors import UsageError, ValidationError
from medic.kernel.models import ProbeCall
from medic.kernel.probe import ProbeSpec
from medic.kernel.probes import by_name


def profile_from(text: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "p.yaml"
    path.write_text(textwrap.dedent(text))
    return parse_profile(yamlload.load_file(path), str(path))


def test_packaged_profiles_load_and_name_existing_probes() -> None:
    assert {"default", "network", "performance", "application"} <= set(packaged_names())
    probes = by_name()
    for name in packaged_names():
        profile = load_profile(name)
        assert profile.probes, name
        assert all(c.probe in probes for c in profile.probes), name


def test_default_profile_holds_what_triage_needs() -> None:
    keys = {c.key for c in load_profile("default").probes}
    assert {"disk_usage", "memory", "cpu_load", "routes", "os_release", "clock", "uptime"} <= keys
    assert ProbeCall.make("command_output", argv=["python3", "--version"]).key in keys


def test_bad_profile_lists_every_problem(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as info:
        profile_from("""
            name: x
            probes: [memory, 7]
            logs: [{lines: 3}]
            commands: ["uname -a"]
            budgets: {total_seconds: -1, bogus: 2}
            colour: red
        """, tmp_path)
    text = str(info.value)
    for expected in ("probes[1]", "logs[0]", "commands[0]: expected an argv list", "budgets.total_seconds",
                     "unknown budget", "unknown key 'colour'"):
        assert expected in text
    with pytest.raises(UsageError, match="no profile named 'nope'"):
        load_profile("nope")


def test_collects_probes_commands_env_and_logs_with_rotation(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "app.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    with gzip.open(tmp_path / "app.log.1.gz", "wt") as fh:
        fh.write("".join(f"old {i}\n" for i in range(50)))
    monkeypatch.setenv("MEDIC_TEST_ALLOWED", "yes")
    monkeypatch.setenv("MEDIC_TEST_SECRET_ENV", "no")
    profile = profile_from(f"""
        name: t
        probes: [memory, uptime]
        logs: [{{path: {log}, lines: 10}}]
        commands: [[echo, hello], [no-such-command-xyz]]
        env_allow: [MEDIC_TEST_ALLOWED]
    """, tmp_path)
    got = Collector(profile, by_name()).run()
    assert {r.probe for r in got.results} == {"memory", "uptime"} and all(r.ok for r in got.results)
    assert got.commands[0]["stdout"] == "hello\n" and got.commands[1]["error"] == "command not found"
    assert got.environment == {"MEDIC_TEST_ALLOWED": "yes"}
    files = {f.arcname: f for f in got.files}
    current = files[f"logs{log}"]
    assert current.text.splitlines() == [f"line {i}" for i in range(90, 100)] and current.truncated
    rotated = files[f"logs{log}.1.gz"]  # the suffix stays: member names say where the text came from
    assert rotated.text.splitlines()[-1] == "old 49"


def test_unreadable_and_oversized_items_are_noted_not_fatal(user_dir: Path) -> None:
    big = user_dir / "big.log"
    big.write_text("x" * 100 + "\n" + "y" * 5000 + "\n")
    secret = user_dir / "secret.log"
    secret.write_text("top secret\n")
    secret.chmod(0)
    profile = profile_from(f"""
        name: t
        logs: [{{path: {big}, lines: 1000}}, {{path: {secret}}}, {{path: {user_dir}/missing.log}}]
        budgets: {{file_bytes: 1000, total_bytes: 1500}}
    """, user_dir)
    probes = by_name()  # read as root: the child cannot import from root's Python installation

    def collect_as_a_normal_user() -> None:  # root reads every file: the permission case needs a normal user
        got = Collector(profile, probes).run()
        (big_file,) = [f for f in got.files if f.source == str(big)]
        assert len(big_file.text.encode()) <= 1000 and big_file.truncated
        denied = [s for s in got.skipped if "permission denied" in s["reason"]]
        assert [s["item"] for s in denied] == [f"log:{secret}"], got.skipped
        assert not any("missing.log" in f.source for f in got.files)

    run_unprivileged(collect_as_a_normal_user)


def test_time_budget_skips_the_rest_with_the_reason(tmp_path: Path) -> None:
    release, slow_done = threading.Event(), threading.Event()

    def slow() -> dict[str, int]:
        release.wait(60)
        slow_done.set()
        return {"never": 1}

    probes = {**by_name(), "slow": ProbeSpec("slow", slow, cost=0)}
    profile = profile_from("""
        name: t
        probes: [slow, memory, uptime]
        commands: [[echo, hi]]
        budgets: {total_seconds: 0.3, probe_seconds: 1}
    """, tmp_path)
    try:
        got = Collector(profile, probes).run()
        assert not slow_done.is_set()  # the collection ended while the slow probe was still stuck
    finally:
        release.set()
    reasons = {s["item"]: s["reason"] for s in got.skipped}
    assert reasons["probe:slow"] == "timed out after 0.3 s"
    assert reasons["probe:memory"] == "time budget of 0.3 s used up"


def test_tail_text_reads_only_the_end_of_a_large_file(tmp_path: Path) -> None:
    path = tmp_path / "large.log"
    with path.open("w") as fh:
        for i in range(200_000):
            fh.write(f"2026-11-25 message number {i}\n")
    text, truncated = tail_text(path, 5, 64 * 1024)
    assert text.splitlines()[-1] == "2026-11-25 message number 199999" and len(text.splitlines()) == 5
    assert truncated


def test_collection_runs_at_low_cpu_and_io_priority() -> None:
    import subprocess
    import sys

    code = ("import os, psutil\nfrom medic.agent.collect import lower_priority\nlower_priority()\n"
            "print(os.nice(0), psutil.Process().ionice().ioclass)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    nice, ioclass = out.stdout.split()
    assert int(nice) >= 10 and int(ioclass) == 3  # IOPRIO_CLASS_IDLE


def _tree(root: Path) -> set[str]:
    """47 files: plain, dotfiles, dot-directories and nested directories, three levels deep."""
    made = set()
    for d in ("", "a", "a/b", "a/b/c", ".hidden", ".hidden/deep", "z"):
        for name in ("one.log", "two.txt", ".dot", ".dot.log", "x.1", "x.2.gz"):
            if len(made) < 47:
                path = root / d / name
                path.parent.mkdir(parents=True, exist_ok=True)
                if name.endswith(".gz"):
                    with gzip.open(path, "wt") as fh:
                        fh.write(f"{d}/{name}\n")
                else:
                    path.write_text(f"{d}/{name}\n")
                made.add(str(path))
    for extra in ("a/b/c/d/e/f.log", "z/.git/HEAD", "z/.git/refs/heads/main", "z/empty/.keep", "a/b/c/g h.log"):
        path = root / extra
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(extra + "\n")
        made.add(str(path))
    return made


def test_recursive_glob_and_directories_collect_every_file_including_dotfiles(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    made = _tree(tree)
    assert len(made) == 47
    profile = profile_from(f"""
        name: t
        logs: [{{glob: "{tree}/**", lines: 10}}]
    """, tmp_path)
    got = Collector(profile, by_name()).run()
    assert {f.source for f in got.files} == made and not got.skipped
    by_source = {f.source: f for f in got.files}
    assert by_source[f"{tree}/a/b/x.2.gz"].text == "a/b/x.2.gz\n"  # decompressed, member keeps its name
    assert by_source[f"{tree}/a/b/x.2.gz"].arcname == f"logs{tree}/a/b/x.2.gz"
    # a directory given to --app-logs is walked; a one-level glob matching directories walks them too
    for request in (str(tree), f"{tree}/*"):
        got = Collector(profile_from("name: t", tmp_path), by_name()).run(app_logs=[request])
        assert {f.source for f in got.files} == made, request
    got = Collector(profile_from("name: t", tmp_path), by_name()).run(app_logs=[f"{tree}/**/*.log"])
    assert {f.source for f in got.files} == {p for p in made if p.endswith(".log")}


def test_a_glob_stops_at_the_file_cap_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made = _tree(tmp_path / "tree")
    monkeypatch.setattr("medic.agent.collect.MAX_FILES_PER_ENTRY", 10)
    got = Collector(profile_from("name: t", tmp_path), by_name()).run(app_logs=[f"{tmp_path}/tree/**"])
    assert len(got.files) == 10 and {f.source for f in got.files} <= made
    assert any("stopped after 10 files" in s["reason"] for s in got.skipped)


def test_requested_logs_that_match_nothing_are_listed(tmp_path: Path) -> None:
    profile = profile_from(f"""
        name: t
        logs: [{{glob: "{tmp_path}/none-*.log"}}, {{path: {tmp_path}/absent.log}}]
    """, tmp_path)
    got = Collector(profile, by_name()).run(app_logs=["/nonexistent/*.log", f"{tmp_path}/gone.log"])
    assert got.skipped == [
        {"item": f"log:{tmp_path}/none-*.log", "reason": "matched nothing"},
        {"item": "log:/nonexistent/*.log", "reason": "matched nothing"},
        {"item": f"log:{tmp_path}/gone.log", "reason": "no such file or directory"},
    ]  # a profile's plain path that is absent is normal (profiles name several distributions' logs)
    assert got.unmatched == [f"{tmp_path}/none-*.log", "/nonexistent/*.log", f"{tmp_path}/gone.log"]


def test_collect_command_lists_unmatched_app_logs_in_manifest_and_summary(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys
    import tarfile

    profile = tmp_path / "p.yaml"
    profile.write_text("name: t\nprobes: [uptime]\n")
    out = subprocess.run([sys.executable, "-m", "medic.agent.cli", "collect", "--profile", str(profile), "-q",
                          "--output", str(tmp_path), "--app-logs", "/nonexistent/*.log"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "no file matched '/nonexistent/*.log'" in out.stderr
    assert "1 item(s) skipped" in out.stderr
    with tarfile.open(out.stdout.strip().split(" (")[0]) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert manifest["skipped"] == [{"item": "log:/nonexistent/*.log", "reason": "matched nothing"}]


def test_a_file_and_its_gz_twin_both_reach_the_bundle(tmp_path: Path) -> None:
    from medic.agent.pipeline import collect_bundle
    from medic.kernel.bundle import open_bundle

    (tmp_path / "logs").mkdir()
    (tmp_path / "logs/x").write_text("plain x\n")
    with gzip.open(tmp_path / "logs/x.gz", "wt") as fh:
        fh.write("zipped x\n")
    profile = profile_from(f"""
        name: t
        logs: [{{path: {tmp_path}/logs/x}}, {{path: {tmp_path}/logs/x.gz}}]
    """, tmp_path)
    outcome = collect_bundle(profile, tmp_path, low_priority=False)
    with open_bundle(outcome.path) as bundle:
        assert bundle.read_text(f"logs{tmp_path}/logs/x") == "plain x\n"
        assert bundle.read_text(f"logs{tmp_path}/logs/x.gz") == "zipped x\n"
