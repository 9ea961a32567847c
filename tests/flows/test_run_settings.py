"""A warm run keeps the forkserver's Prefect settings only when a cold run would read the same (flows.run_settings).

Each case runs in a fresh interpreter that imports the module (as the forkserver does), then forks a child that
changes its environment or directory as a run does and says whether it got the forkserver's settings object.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent("""
    import json, os, sys
    from medic.flows import run_settings
    from prefect.context import get_settings_context

    def in_child(env, cwd):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.environ.update(env)
            os.chdir(cwd)
            ctx = run_settings.for_run()
            kept = ctx.settings is get_settings_context().settings
            os.write(write, json.dumps([kept, str(ctx.settings.api.url)]).encode())
            os._exit(0)
        os.close(write)
        answer = os.read(read, 4096)
        os.waitpid(pid, 0)
        return json.loads(answer)

    case = json.loads(sys.argv[1])
    if case.get("same_process"):
        os.chdir(case["cwd"])
        print(json.dumps([run_settings.for_run().settings is get_settings_context().settings, ""]))
    else:
        print(json.dumps(in_child(case["env"], case["cwd"])))
""")


def child(tmp_path: Path, env: dict[str, str] | None = None, **case: object) -> list[object]:
    base = {k: v for k, v in os.environ.items() if not k.upper().startswith("PREFECT_")}
    base.update({"PREFECT_API_URL": "http://127.0.0.1:9/api", "PREFECT_LOGGING_LOG_PRINTS": "false",
                 "PREFECT_HOME": str(tmp_path / "home")})
    (tmp_path / "run").mkdir(exist_ok=True)
    case = {"env": env or {}, "cwd": str(tmp_path / "run"), **case}
    done = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(case)], env=base, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_run_with_the_same_environment_and_no_configuration_files_keeps_the_settings(tmp_path: Path) -> None:
    assert child(tmp_path) == [True, "http://127.0.0.1:9/api"]
    # as a worker writes them into the run's environment: the same values, spelled by Prefect
    assert child(tmp_path, {"PREFECT_LOGGING_LOG_PRINTS": "False"})[0] is True


def test_another_server_or_value_is_read_anew(tmp_path: Path) -> None:
    assert child(tmp_path, {"PREFECT_API_URL": "http://127.0.0.1:10/api"}) == [False, "http://127.0.0.1:10/api"]
    assert child(tmp_path, {"PREFECT_LOGGING_LOG_PRINTS": "true"})[0] is False
    assert child(tmp_path, {"PREFECT_LOGGING_LEVEL": "DEBUG"})[0] is False


def test_a_configuration_file_in_the_run_directory_is_read_anew(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "prefect.toml").write_text('[logging]\nlevel = "DEBUG"\n')
    assert child(tmp_path)[0] is False
    (run / "prefect.toml").unlink()
    (run / "pyproject.toml").write_text('[project]\nname = "x"\n')  # no [tool.prefect]: nothing Prefect reads
    assert child(tmp_path)[0] is True
    (run / "pyproject.toml").write_text('[tool.prefect.logging]\nlevel = "DEBUG"\n')
    assert child(tmp_path)[0] is False


def test_only_a_forked_process_trusts_what_its_parent_read(tmp_path: Path) -> None:
    assert child(tmp_path, same_process=True)[0] is False
