"""Documentation promises: every hook is documented, the README's commands exist."""

from __future__ import annotations

import argparse
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


# --- every command, config key, input type and exit code the docs name is the code's, and the other way round ---

DOCS = [REPO / "README.md", REPO / "agent" / "README.md", *sorted((REPO / "docs").glob("*.md"))]
HYPOTHETICAL = {"medic hello"}  # README's example of a command a plugin adds
_WORD = re.compile(r"[a-z][a-z-]*(?:\\?\|[a-z][a-z-]*)*$")


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return {name: sub for action in parser._actions if isinstance(action, argparse._SubParsersAction)
            for name, sub in action.choices.items()}


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {o for action in parser._actions for o in action.option_strings}


def _invocations(program: str, text: str) -> list[str]:
    """``program ...`` as the docs write it: inside backticks, or a line of a shell code block."""
    found = [f for f in re.findall(rf"`({program} [^`]+)`", text) if f not in HYPOTHETICAL]
    block, shell = False, False
    for line in text.splitlines():
        if line.startswith("```"):
            block = not block
            shell = block and line[3:].strip() in ("", "sh", "bash", "console")
        elif shell and (m := re.match(rf"^\s*(?:\$ )?({program} [^#]*)", line)):
            found.append(m.group(1))
    return found


def _check_invocation(parser: argparse.ArgumentParser, invocation: str) -> list[tuple[str, ...]]:
    """The command paths one invocation names (``backups list\\|show`` names two); asserts each exists and
    takes the ``--options`` written after it."""
    tokens = invocation.replace("\\|", "|").split()[1:]
    paths: list[tuple[tuple[str, ...], argparse.ArgumentParser]] = [((), parser)]
    for token in tokens:
        subs = [(path, _subcommands(p)) for path, p in paths]
        if not all(subs_ for _, subs_ in subs) or not _WORD.match(token):
            break
        paths = []
        for path, subs_ in subs:
            for word in token.split("|"):
                assert word in subs_, f"{invocation!r}: {' '.join(('medic', *path))} has no command {word!r}"
                paths.append(((*path, word), subs_[word]))
    for option in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", invocation):
        for path, p in paths:
            assert option in _options(p) | _options(parser), f"{invocation!r}: {' '.join(path)} has no {option}"
    return [path for path, _ in paths]


def test_every_documented_medic_command_and_option_exists_and_every_command_is_documented() -> None:
    from medic.cli.main import build_parser

    parser = build_parser()
    documented: set[tuple[str, ...]] = set()
    for doc in DOCS:
        for invocation in _invocations("medic", doc.read_text()):
            documented.update(_check_invocation(parser, invocation))
    table = (REPO / "README.md").read_text().split("## Command line", 1)[1].split("\n## ", 1)[0]
    in_table = {path for inv in _invocations("medic", table) for path in _check_invocation(parser, inv)}
    for name, sub in _subcommands(parser).items():
        nested = _subcommands(sub)
        for path in [(name, n) for n in nested] or [(name,)]:
            assert path in in_table, (
                f"`medic {' '.join(path)}` is not in README's command table")


def test_every_documented_agent_command_and_option_exists() -> None:
    from medic.agent.cli import build_parser

    parser = build_parser()
    documented = set()
    for doc in DOCS:
        for invocation in _invocations("medic-agent", doc.read_text()):
            documented.update(_check_invocation(parser, invocation))
    assert documented >= {(name,) for name in _subcommands(parser)}


def test_config_keys_in_readme_are_the_code_s() -> None:
    from medic.core.config import KEYS
    from medic.kernel.bundle import Limits

    readme = (REPO / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| `(\w+)` \| (.*) \|$", section, re.M))
    assert set(rows) == set(KEYS), "README's configuration table and core/config.py KEYS differ"
    assert set(re.findall(r"`(max_\w+)`", rows["bundle"])) == set(KEYS["bundle"]) == set(Limits.__dataclass_fields__)
    agent_readme = (REPO / "agent" / "README.md").read_text()
    agent_caps = agent_readme.split("under `bundle:`", 1)[1].split(";", 1)[0]
    assert set(re.findall(r"`(max_\w+)`", agent_caps)) == set(KEYS["bundle"])


def test_input_types_and_keys_in_readme_are_the_code_s() -> None:
    from medic.core.playbook import INPUT_KEYS, INPUT_TYPES

    readme = (REPO / "README.md").read_text()
    line = re.search(r"^- Input types: (.*?)\n(?=- )", readme, re.M | re.S)
    assert line, "README lost its 'Input types:' line"
    types, _, keys = line.group(1).partition(";")
    assert re.findall(r"`(\w+)`", types) == list(INPUT_TYPES)
    assert set(re.findall(r"`(\w+)(?::[^`]*)?`", keys)) == set(INPUT_KEYS) - {"type"}


def test_exit_codes_are_described_alike_in_readme_and_help() -> None:
    from medic.agent.cli import EXIT_BLOCKED
    from medic.agent.cli import build_parser as agent_parser
    from medic.cli.main import build_parser
    from medic.kernel import errors

    readme = (REPO / "README.md").read_text()
    rows = dict(re.findall(r"^\| (\d) \| (.*) \|$", readme.split("### Exit codes", 1)[1].split("\n## ", 1)[0],
                           re.M))
    codes = {errors.EXIT_OK, errors.EXIT_FINDINGS_FAILED, errors.EXIT_USAGE, errors.EXIT_INTERNAL}
    assert {int(c) for c in rows} == codes
    for parser, where in ((build_parser(), "medic --help"),
                          (_subcommands(build_parser())["run"], "medic run --help")):
        text = " ".join(f"{parser.description or ''} {parser.epilog or ''}".split())
        said = dict(re.findall(r"(\d) ([^,.]+(?:, or [^,.]+)?)", text.split("Exit codes:", 1)[1]))
        assert {int(c) for c in said} == codes, where
        for code, meaning in said.items():
            assert meaning.lower() in rows[code].lower(), f"{where} says exit {code} is {meaning!r}; README: " \
                                                          f"{rows[code]!r}"
    agent_help = " ".join((agent_parser().epilog or "").split())
    agent_line = re.search(r"`medic-agent` exit codes: (.*)\.", readme)
    assert agent_line, "README lost the medic-agent exit codes"
    for code, meaning in re.findall(r"(\d) ([^,.]+)", agent_help.split("Exit codes:", 1)[1]):
        assert f"{code} " in agent_line.group(1) and meaning.split()[0] in agent_line.group(1), (code, meaning)
    assert f"{EXIT_BLOCKED} blocked by the leak scan" in agent_line.group(1)
