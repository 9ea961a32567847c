"""Issue 16 item 18: a program that writes 10 or 80 MiB of stderr must not make a finding of that size. Every text
in a finding, its evidence or an error is capped once (kernel.models.cap_text), so ``--json``, the run history
and the terminal table stay bounded and the run finishes quickly. A third-party probe and check, installed as a
real distribution, run a real program; the real ``medic`` command runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from medic.kernel.models import TEXT_HEAD, TEXT_TAIL, Category, Finding, Severity, Status, cap_text
from tests.fake_dists import make_dist

MIB = 1 << 20

PROBES = """
    import subprocess, sys
    from medic.kernel.probe import probe
    from medic.kernel.params import Param

    def _shout(size):
        code = "import sys; sys.stderr.write('E' * 64 + 'x' * (%d - 128) + 'Z' * 64); sys.exit(1)" % size
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stderr

    @probe("loud_stderr", params=[Param("size", "int", 1024, "bytes")])
    def loud_stderr(size):
        return {"stderr": _shout(size)}

    @probe("loud_failure", params=[Param("size", "int", 1024, "bytes")])
    def loud_failure(size):
        raise RuntimeError(_shout(size))
"""

PLUGIN = """
    from medic.core.check import check
    from medic.core.hookspecs import hookimpl
    from medic.kernel.models import ProbeCall, failed
    from medic.kernel.params import Param

    @check("loud.stderr", title="Loud program", category="software",
           needs=lambda p: {"out": ProbeCall.make("loud_stderr", size=p["size"])},
           params=[Param("size", "int", 1024, "bytes")])
    def loud(data, p):
        err = data["out"]["stderr"]
        return failed(err, subject=err, stderr=err, lines=[err, err])

    @check("loud.failure", title="Loud failure", category="software",
           needs=lambda p: {"out": ProbeCall.make("loud_failure", size=p["size"])},
           params=[Param("size", "int", 1024, "bytes")])
    def failure(data, p):
        return failed(str(data["out"]))  # reading the data raises the probe's error

    @hookimpl
    def register_checks(register):
        register(loud.spec)
        register(failure.spec)
"""

PLAYBOOK = """
    name: loud
    inputs: {size: {type: int, default: 1024}}
    steps:
      - {id: out, check: loud.stderr, with: {size: "{{ inputs.size }}"}}
      - {id: err, check: loud.failure, with: {size: "{{ inputs.size }}"}}
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site")
    make_dist(root, "medic-loud-probes", "medic_loud_probes", PROBES, group="medic.probes", entry="loud")
    make_dist(root, "medic-loud", "medic_loud_plugin", PLUGIN, group="medic", entry="loud")
    (root / "loud.yaml").write_text(textwrap.dedent(PLAYBOOK))
    return root


def run(site: Path, state: Path, size: int, *extra: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
           "MEDIC_STATE_DIR": str(state), "COLUMNS": "120"}
    return subprocess.run([sys.executable, "-m", "medic.cli.main", "run", str(site / "loud.yaml"), "--engine",
                           "inline", "-i", f"size={size}", *extra], capture_output=True, env=env, timeout=120)


@pytest.mark.parametrize("size", [10 * MIB, 80 * MIB])
def test_huge_stderr_gives_bounded_json_history_and_terminal_output(site: Path, tmp_path: Path, size: int) -> None:
    out = run(site, tmp_path / "state", size, "--json")
    assert out.returncode == 1, out.stderr[-2000:]
    assert len(out.stdout) < 200_000  # two findings, each text at most 8 KiB plus the note
    doc = json.loads(out.stdout)
    by_check = {f["check"]: f for f in doc["findings"]}
    loud = by_check["loud.stderr"]
    assert loud["summary"].startswith("E" * 64) and loud["summary"].endswith("Z" * 64)
    assert f"{size - TEXT_HEAD - TEXT_TAIL} characters omitted" in loud["summary"]
    assert all(len(t) < 9000 for t in (loud["evidence"]["stderr"], *loud["evidence"]["lines"], loud["subject"]))
    assert by_check["loud.failure"]["status"] == "error" and len(by_check["loud.failure"]["summary"]) < 9000
    history = list((tmp_path / "state" / "runs").glob("*.json"))
    assert history and all(p.stat().st_size < 200_000 for p in history)

    shown = run(site, tmp_path / "state2", size)  # the terminal table too
    assert shown.returncode == 1, shown.stderr[-2000:]
    assert len(shown.stdout) < 200_000 and b"characters omitted" in shown.stdout
    assert b"Traceback" not in shown.stderr


def test_cap_text_keeps_head_and_tail_and_says_how_much_it_left_out() -> None:
    assert cap_text("short") == "short"
    text = "a" * TEXT_HEAD + "b" * 10 + "c" * TEXT_TAIL
    assert cap_text(text) == "a" * TEXT_HEAD + "\n… 10 characters omitted …\n" + "c" * TEXT_TAIL
    big = Finding("x", "t", Status.FAIL, Severity.LOW, Category.SOFTWARE, "s" * MIB,
                  evidence={"k": {"deep": ["v" * MIB]}}, remediation="r" * MIB)
    assert max(len(big.summary), len(big.remediation), len(big.evidence["k"]["deep"][0])) < 9000
