"""The plan of a ``medic run --check``: what each action step would change (diffs, commands), in step order."""

from __future__ import annotations

from typing import Any


def _walk(results: list[Any]) -> list[Any]:
    return [x for r in results for x in (r, *_walk(r.children))]


def plan_lines(run: Any) -> list[str]:
    """Per target, each action's plan, then its unified diff or the commands it would run."""
    lines: list[str] = []
    for target, results in run.results.items():
        lines += ["", f"plan for {target} (check mode: nothing was changed)"]
        for r in _walk(results):
            if r.kind != "action" or not r.outputs.get("plan"):
                continue
            lines.append(f"- {r.step}: {r.outputs['plan']}")
            if r.outputs.get("diff"):
                lines.append(r.outputs["diff"].rstrip("\n"))
            lines += [f"    $ {' '.join(argv)}" for argv in r.outputs.get("commands") or []]
    return lines
