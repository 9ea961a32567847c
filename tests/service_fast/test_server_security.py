"""The rules of PREFECT_API_URL and the auth string, against a real Prefect server with an auth string."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from prefectsvc import PrefectService


def medic(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "medic.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def client_env(service: PrefectService, **extra: str) -> dict[str, str]:
    env = service.subprocess_env(**extra)
    env.pop("PREFECT_API_AUTH_STRING", None)
    return env


def auth_file(path: Path, text: str, mode: int) -> str:
    path.write_text(text + "\n")
    path.chmod(mode)
    return str(path)


def test_doctor_passes_with_the_auth_string_from_a_0600_file(prefect_service: PrefectService,
                                                            tmp_path: Path) -> None:
    secret = auth_file(tmp_path / "auth", prefect_service.auth_string, 0o600)
    done = medic(client_env(prefect_service, MEDIC_PREFECT_AUTH_FILE=secret), "doctor", "server")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok    auth: the server accepts the auth string from MEDIC_PREFECT_AUTH_FILE" in done.stdout
    assert "ok    database: sqlite (Prefect's default" in done.stdout  # the session server has no --database
    assert prefect_service.auth_string not in done.stdout + done.stderr


@pytest.mark.parametrize("command", [["doctor", "server"], ["runs", "list"], ["run", "triage", "--submit", "server"],
                                     ["deploy", "--playbook", "triage"], ["worker", "--pool", "medic"],
                                     ["serve", "--playbook", "triage"]])
def test_a_group_readable_auth_file_is_refused(prefect_service: PrefectService, tmp_path: Path,
                                               command: list[str]) -> None:
    secret = auth_file(tmp_path / "auth", prefect_service.auth_string, 0o644)
    done = medic(client_env(prefect_service, MEDIC_PREFECT_AUTH_FILE=secret), *command)
    assert done.returncode == 2
    assert f"MEDIC_PREFECT_AUTH_FILE={secret}: mode 0644 lets other users read the auth string" in \
        done.stdout + done.stderr
    assert "Traceback" not in done.stderr and prefect_service.auth_string not in done.stdout + done.stderr


def test_deploy_uses_the_auth_string_from_a_0600_file(prefect_service: PrefectService, tmp_path: Path) -> None:
    secret = auth_file(tmp_path / "auth", prefect_service.auth_string, 0o600)
    env = client_env(prefect_service, MEDIC_PREFECT_AUTH_FILE=secret)
    done = medic(env, "deploy", "--playbook", "triage", "--pool", "medic-auth-file")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "deployed 1 playbook(s)" in done.stderr and prefect_service.auth_string not in done.stdout + done.stderr


def test_a_wrong_auth_string_is_one_401_line(prefect_service: PrefectService, tmp_path: Path) -> None:
    secret = auth_file(tmp_path / "auth", "medic-test:wrong", 0o600)
    env = client_env(prefect_service, MEDIC_PREFECT_AUTH_FILE=secret)
    for command in (["runs", "list"], ["run", "triage", "--submit", "server"]):
        done = medic(env, *command)
        assert done.returncode == 3, done.stderr
        assert done.stderr.strip().splitlines()[-1].startswith(
            f"medic: error: the Prefect server at {prefect_service.api_url} refused the auth string (401")
        assert "medic-test:wrong" not in done.stderr
    doctor = medic(env, "doctor", "server")
    assert doctor.returncode == 3 and "FAIL  auth: " in doctor.stdout and "401 Unauthorized" in doctor.stdout


@pytest.mark.parametrize("url", ["http://192.0.2.10:4200/api", "https://192.0.2.10/api"])
def test_a_remote_url_needs_https_and_an_auth_string(url: str) -> None:
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith(("PREFECT_API", "MEDIC_PREFECT"))}
    env["PREFECT_API_URL"] = url
    for command in (["run", "triage"], ["runs", "list"], ["doctor", "server"], ["deploy"], ["worker"]):
        done = medic(env, *command)
        assert done.returncode == 2, done.stdout + done.stderr
        assert f"PREFECT_API_URL={url} is not on this machine" in done.stdout + done.stderr
        assert "refused" in done.stdout + done.stderr and "Traceback" not in done.stderr


def test_an_unreachable_server_is_one_line_exit_3(tmp_path: Path) -> None:
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith(("PREFECT_API", "MEDIC_PREFECT"))}
    env["PREFECT_API_URL"] = "http://127.0.0.1:9/api"
    done = medic(env, "runs", "list")
    assert done.returncode == 3
    assert done.stderr.strip() == ("medic: error: the Prefect server at PREFECT_API_URL=http://127.0.0.1:9/api "
                                   "cannot be reached ([Errno 111] Connection refused): start it (medic server "
                                   "start) or unset PREFECT_API_URL")
