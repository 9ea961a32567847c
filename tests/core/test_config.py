"""medic's configuration file: known keys work, an unknown key or a wrong value is refused before the run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from medic.core.config import KEYS, load_config
from medic.kernel.bundle import BundleWriter
from medic.kernel.errors import EXIT_USAGE, ValidationError

MEDIC = str(Path(sys.executable).with_name("medic"))


def test_every_known_key_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"playbook_paths: [{tmp_path}]\nstate_dir: {tmp_path}/state\nnotify: [console]\n"
                      f"inventory: {tmp_path}/hosts.yaml\nbundle: {{max_members: 3, max_member_bytes: 100}}\n"
                      "channels: {team: {type: file, path: /tmp/x.jsonl}}\n"
                      "schedules: {nightly: {playbook: triage, cron: '0 2 * * *'}}\ndeploy: {concurrency: 2}\n"
                      "server: {database: sqlite}\n")
    monkeypatch.setenv("MEDIC_CONFIG", str(config))
    assert set(load_config()) == set(KEYS)


@pytest.mark.parametrize("text, where, message", [
    ("state_dir: /tmp\ncolour: red\n", ":2:1:", "unknown setting 'colour'; expected one of playbook_paths, "
                                                 "state_dir, notify, channels, inventory, bundle, schedules, deploy, "
                                                 "server"),
    ("channels: [a]\n", ":1:1:", "channels: expected a mapping of names to settings"),
    ("channels:\n  team: {url: x}\n", ":2:3:", "channels.team: expected a mapping with a 'type' (a string)"),
    ("schedules:\n  nightly: {cron: x}\n", ":2:3:", "schedules.nightly: expected a mapping with a 'playbook'"),
    ("prefect: {api: x}\n", ":1:1:", "unknown setting 'prefect'"),
    ('notify: "file:x"\n', ":1:1:", "notify: expected a list of strings"),
    ("state_dir: [a]\n", ":1:1:", "state_dir: expected a string, got a list"),
    ("bundle:\n  max_members: many\n", ":2:3:", "bundle.max_members: expected a positive whole number, got 'many'"),
    ("bundle: {max_files: 3}\n", ":1:10:", "unknown setting bundle.max_files; expected one of max_member_bytes"),
])
def test_bad_configuration_is_refused_naming_file_line_and_the_known_keys(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, where: str, message: str) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(text)
    monkeypatch.setenv("MEDIC_CONFIG", str(config))
    with pytest.raises(ValidationError) as info:
        load_config()
    assert f"{config}{where} {message}" in str(info.value)


def test_a_bad_key_stops_medic_run_before_it_starts(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("colour: red\n")
    env = {"MEDIC_CONFIG": str(config), "MEDIC_STATE_DIR": str(tmp_path / "state"), "PATH": "/usr/bin:/bin",
           "HOME": str(tmp_path)}
    out = subprocess.run([MEDIC, "run", "triage", "--engine", "inline"], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == EXIT_USAGE and f"{config}:1:1: unknown setting 'colour'" in out.stderr
    assert "Traceback" not in out.stderr and not (tmp_path / "state").exists()  # nothing ran, nothing recorded


def test_the_bundle_caps_in_the_configuration_apply(tmp_path: Path) -> None:
    bundle = tmp_path / "b.tar.gz"
    with BundleWriter(bundle, host="h") as writer:
        writer.add_text("logs/a", "a\n")
        writer.add_text("logs/b", "b\n")
    config = tmp_path / "config.yaml"
    config.write_text("bundle: {max_members: 2}\n")
    env = {"MEDIC_CONFIG": str(config), "MEDIC_STATE_DIR": str(tmp_path / "state"), "PATH": "/usr/bin:/bin",
           "HOME": str(tmp_path)}
    out = subprocess.run([MEDIC, "run", "triage", "--engine", "inline", "--target", f"bundle:{bundle}"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 3 and "refused: 2 members is over the 2 cap" in out.stderr, out.stderr
