"""``medic run --engine prefect`` on a server: the run's state, parameters, tags and artifacts say what was found,
while medic's own output and exit code stay what they were."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import httpx
from prefectsvc import PrefectService

BOOK = """\
    name: svc-run
    inputs:
      path: {type: string, description: the file to look in}
      pattern: {type: string, default: ok}
      api_token: {type: string, default: ""}
    targets: [local]
    steps:
      - id: holds
        title: The file holds the pattern
        verify: change.file_contains
        with: {path: "{{ inputs.path }}", pattern: "{{ inputs.pattern }}"}
"""


def run(service: PrefectService, tmp_path: Path, pattern: str) -> tuple[int, dict[str, Any], dict[str, Any]]:
    book = tmp_path / "svc-run.yaml"
    book.write_text(textwrap.dedent(BOOK))
    data = tmp_path / "data.txt"
    data.write_text("all ok\n")
    out = subprocess.run([sys.executable, "-m", "medic.cli.main", "run", str(book), "-i", f"path={data}",
                          "-i", f"pattern={pattern}", "-i", "api_token=hunter2", "--json"],
                         capture_output=True, text=True, env=service.subprocess_env(), timeout=120)
    document = json.loads(out.stdout)
    with httpx.Client(base_url=service.api_url, headers=service.headers, timeout=30) as http:
        [flow_run] = http.post("/flow_runs/filter",
                               json={"flow_runs": {"name": {"any_": [document["run_id"]]}}}).json()
        artifacts = http.post("/artifacts/filter",
                              json={"artifacts": {"flow_run_id": {"any_": [flow_run["id"]]}}}).json()
    flow_run["artifacts"] = {a["key"]: a for a in artifacts}
    return out.returncode, document, flow_run


def test_a_failed_check_fails_the_run_with_its_cause(prefect_service: PrefectService, tmp_path: Path) -> None:
    code, document, flow_run = run(prefect_service, tmp_path, "nowhere")
    assert code == 1 and document["summary"]["counts"]["fail"] == 1
    assert flow_run["state_type"] == "FAILED"
    assert flow_run["state"]["message"].startswith("change.file_contains on local:")
    assert flow_run["parameters"] == {"playbook": "svc-run", "targets": ["local"],
                                      "inputs": {"path": str(tmp_path / "data.txt"), "pattern": "nowhere",
                                                 "api_token": "***"}}
    assert {"medic", "playbook:svc-run", "target:local"} <= set(flow_run["tags"])
    rows = json.loads(flow_run["artifacts"]["medic-findings"]["data"])
    assert [(r["check"], r["status"], r["target"]) for r in rows] == [("change.file_contains", "fail", "local")]
    report = flow_run["artifacts"]["medic-report"]["data"]
    assert "## Probable cause" in report and "hunter2" not in report


def test_a_clean_run_completes(prefect_service: PrefectService, tmp_path: Path) -> None:
    code, _document, flow_run = run(prefect_service, tmp_path, "ok")
    assert code == 0 and flow_run["state_type"] == "COMPLETED"
    assert flow_run["state"]["message"].startswith("1 pass, 0 warn")
