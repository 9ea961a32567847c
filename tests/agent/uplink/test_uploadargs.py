"""`medic-agent upload` lines read without argparse (agent/uploadargs.py): whatever that reader accepts, argparse
reads the same way; whatever argparse refuses, it does not accept; and a restarted upload never imports argparse."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medic.agent.cli import build_parser
from medic.agent.uploadargs import upload_args

ATTRIBUTES = ("command", "bundle", "keep", "json", "chunk_size", "retries")
WORDS = st.sampled_from(["--keep", "--json", "--chunk-size", "--retries", "--chunk-size=4096", "--retries=3", "7",
                         "0", "-3", "+5", "1_0", "b.tar.gz", "--", "-h", "--ke", "--chunk", "--chunk-size=", "x y",
                         "--note", "upload", "--keep=1", "٣", ""])


def by_argparse(argv: list[str]) -> dict[str, object] | None:
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            parsed = build_parser().parse_args(argv)
    except SystemExit:
        return None
    return {name: getattr(parsed, name, None) for name in ATTRIBUTES}


@settings(max_examples=400, deadline=None)
@given(st.lists(WORDS, max_size=6))
def test_what_it_reads_argparse_reads_the_same(words: list[str]) -> None:
    argv = ["upload", *words]
    quick = upload_args(argv)
    if quick is not None:
        assert {name: getattr(quick, name) for name in ATTRIBUTES} == by_argparse(argv)


@pytest.mark.parametrize("argv", [
    ["upload", "b.tar.gz"],
    ["upload", "--json", "b.tar.gz", "--keep", "--chunk-size", "1048576"],
    ["upload", "--retries=30", "dir/b.tar.gz", "--chunk-size=16384", "--json"],
])
def test_the_lines_agents_and_benches_run_are_read_without_argparse(argv: list[str]) -> None:
    quick = upload_args(argv)
    assert quick is not None
    assert {name: getattr(quick, name) for name in ATTRIBUTES} == by_argparse(argv)


@pytest.mark.parametrize("argv", [
    ["upload"], ["upload", "-h"], ["upload", "a", "b"], ["upload", "--chunk", "5", "a"], ["upload", "--", "-a"],
    ["upload", "a", "--keep", "--keep"], ["upload", "a", "--chunk-size", "-3"], ["collect"], [],
])
def test_anything_else_is_left_to_argparse(argv: list[str]) -> None:
    assert upload_args(argv) is None


def test_a_restarted_upload_never_imports_argparse(tmp_path: Path) -> None:
    """The whole `medic-agent upload` run (here: not enrolled, exit 6) with argparse never in sys.modules."""
    code = ("import sys\nsys.argv = ['medic-agent', 'upload', sys.argv[1], '--json']\n"
            "from medic.agent.cli import main\ncode = main()\nprint(code, 'argparse' in sys.modules)\n")
    bundle = tmp_path / "b.tar.gz"
    bundle.write_bytes(b"not sent")
    env = {**os.environ, "MEDIC_AGENT_STATE_DIR": str(tmp_path / "state")}
    out = subprocess.run([sys.executable, "-c", code, str(bundle)], capture_output=True, text=True, timeout=60,
                         env=env)
    assert out.stdout.splitlines()[-1] == "6 False", out.stdout + out.stderr[-2000:]
