"""Documentation promises: every hook is documented, the README's commands exist."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from medic.core import hookspecs

REPO = Path(__file__).resolve().parents[2]


def hook_names() -> list[str]:
    return [name for name, fn in vars(hookspecs).items()
            if inspect.isfunction(fn) and hasattr(fn, "medic_spec")]


def test_every_hook_has_a_docstring_and_is_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    names = hook_names()
    assert "register_checks" in names and "on_run_end" in names
    for name in names:
        assert (getattr(hookspecs, name).__doc__ or "").strip(), f"hook {name} has no docstring"
        assert f"`{name}`" in readme, f"hook {name} is not documented in README.md"


def test_readme_names_the_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (REPO / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
    assert re.search(r"^\s*make test\s*$", (REPO / ".ci" / "run").read_text(), re.M)


def test_exit_codes_in_readme_match_the_code() -> None:
    from medic.kernel import errors

    readme = (REPO / "README.md").read_text()
    for code in (errors.EXIT_OK, errors.EXIT_FINDINGS_FAILED, errors.EXIT_USAGE, errors.EXIT_INTERNAL):
        assert f"| {code} |" in readme


def test_agent_playbook_probe_table_is_up_to_date() -> None:
    """agent/profiles/playbook-probes.json is generated from the playbooks and the check catalogue (the agent
    cannot compute it: that needs medic's plugins), for exactly the playbooks the packaged profiles name."""
    import json

    import yaml

    from medic.core.session import Session

    profiles = REPO / "agent" / "profiles"
    named = sorted({n for p in profiles.glob("*.yaml") for n in yaml.safe_load(p.read_text()).get("playbooks", [])})
    committed = json.loads((profiles / "playbook-probes.json").read_text())
    fresh = Session(config={}).playbook_probes(named)
    assert committed == json.loads(json.dumps(fresh)), (
        f"agent/profiles/playbook-probes.json is stale: run `medic playbooks probes {' '.join(named)} "
        "--json > agent/profiles/playbook-probes.json`")
