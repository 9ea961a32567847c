"""The scrubber and the leak scan over independent public corpora of secrets and look-alikes (issue 17).

Usage:
    .venv/bin/python bench/redaction_public.py --corpus DIR [--json FILE] [--show N]

DIR holds JSON files, each a list of fixtures transcribed from public secret-scanner test suites (gitleaks rule
tests, detect-secrets test data, trufflehog detector tests...), kept outside the repository:
    {"source": "owner/repo:path#rule", "vendor": "rule or kind", "context": "how the secret is embedded",
     "path": "a realistic file name", "content": "the text", "secrets": [...], "lookalikes": [...]}
Each fixture is scrubbed as the agent does (Scrubber().scrub_text(content, path=path)); each secret is then
    removed   - no 8 consecutive characters of it are left (windows also found elsewhere in the raw text are not
                counted: they are the text around it, not the secret; nor are [REDACTED:...] marks, nor a piece
                that is only a public prefix up to its separator, as "_gitlab_session=" or "https://host/path/")
    partial   - the whole secret is gone but 8+ consecutive characters of it are left
    missed    - the whole secret is still there
and each look-alike kept (still there, whole) or changed. The leak scan alone (scan_text on the raw content)
counts a secret flagged when a hit is on a line holding (a part of) it. A fixture whose scrub raised
(RedactionError: the agent leaves the member out) is counted apart as "error".
Tables per source, per context and per vendor; --json writes every non-removed secret and changed look-alike.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

from medic.agent.redact import RedactionError, Scrubber, scan_text

WINDOW = 8
_MARK = re.compile(r"\[REDACTED:[^\]\n]{0,80}\]")
# a piece left that is only a public prefix up to its separator (a cookie's name, a URL's path, "password: ")
_BENIGN = re.compile(r"[A-Za-z_./-]*[=:/]\s*['\"]?|[a-z]+://[A-Za-z0-9_.-]+/[A-Za-z0-9_/-]*")


def _left(secret: str, out: str, raw_rest: str) -> str | None:
    """The longest piece (>= WINDOW chars, or the whole of a shorter secret) of ``secret`` left in ``out``."""
    n = min(WINDOW, len(secret))
    best = None
    i = 0
    while i + n <= len(secret):
        w = secret[i : i + n]
        if w in out and w not in raw_rest:
            j = i + n
            while j < len(secret) and secret[i : j + 1] in out:
                j += 1
            if best is None or j - i > len(best):
                best = secret[i:j]
            i = j
        else:
            i += 1
    return best


def _lines_of(content: str, secret: str) -> set[int]:
    lines: set[int] = set()
    start = 0
    while (k := content.find(secret, start)) >= 0:
        first = content.count("\n", 0, k) + 1
        lines.update(range(first, first + secret.count("\n") + 1))
        start = k + 1
    return lines


def _line_with(text: str, piece: str) -> str:
    for line in text.splitlines():
        if piece in line:
            return line.strip()[:220]
    return ""


def _group(context: str) -> str:
    if context.startswith("neutral"):
        return "key-less (neutral contexts)"
    if context.startswith("rule") or context.startswith("file"):
        return "scanner's own test lines/files"
    return "keyed (scanner's sample contexts)"


def _aggregate(rows: list[dict], key: str) -> dict[str, dict[str, int]]:
    agg: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        a = agg[r[key]]
        if r["kind"] == "secret":
            a["secrets"] += 1
            a[r["verdict"]] += 1
            a["scan"] += r["scan"]
        else:
            a["lookalikes"] += 1
            a["lk_" + r["verdict"]] += 1
    return {k: dict(v) for k, v in sorted(agg.items())}


def load(corpus: Path) -> list[dict]:
    fixtures: list[dict] = []
    for f in sorted(corpus.glob("*.json")):
        for fx in json.loads(f.read_text()):
            fx.setdefault("file", f.name)
            fixtures.append(fx)
    return fixtures


def measure(fixtures: list[dict]) -> dict:
    rows: list[dict] = []
    t0 = time.perf_counter()
    for fx in fixtures:
        content, path = fx["content"], fx["path"]
        try:  # one scrubber per fixture, as one per bundle: a value it learnt must not help the next fixture
            out = Scrubber().scrub_text(content, path=path)
            error = False
        except RedactionError:
            out, error = "", True
        hits = scan_text(content, path)
        hit_lines = {h.line for h in hits}
        rules_at: dict[int, set[str]] = defaultdict(set)
        for h in hits:
            rules_at[h.line].add(h.rule)
        base = {"source": fx["source"], "repo": fx["source"].split(":")[0], "vendor": fx.get("vendor", ""),
                "context": fx.get("context", ""), "path": path}
        base["group"] = base["repo"] + " / " + (fx.get("group") or _group(base["context"]))
        for secret in fx.get("secrets", []):
            if not secret:
                continue
            rest = content.replace(secret, "\0")
            if error:
                verdict, left = "error", None
            elif secret in out:
                verdict, left = "missed", secret
            else:
                left = _left(secret, _MARK.sub("\0", out), rest)
                verdict = "partial" if left and not _BENIGN.fullmatch(left) else "removed"
            at = _lines_of(content, secret) & hit_lines
            scanned = bool(at)
            row = {**base, "kind": "secret", "verdict": verdict, "scan": scanned, "secret": secret,
                   "n": content.count(secret), "n_left": out.count(secret)}
            if scanned and verdict != "removed":
                row["scan_rules"] = sorted(set().union(*(rules_at[n] for n in at)))
            if verdict in ("missed", "partial"):
                row["left"] = left
                row["raw_line"] = _line_with(content, secret[:40])
                row["out_line"] = _line_with(out, left[:40]) if left else ""
            rows.append(row)
        for look in fx.get("lookalikes", []):
            if not look:
                continue
            verdict = "error" if error else ("kept" if look in out else "changed")
            row = {**base, "kind": "lookalike", "verdict": verdict, "secret": look}
            if verdict == "changed":
                row["raw_line"] = _line_with(content, look[:40])
                row["out_line"] = "\n".join(
                    b for a, b in zip(content.splitlines(), out.splitlines(), strict=False) if a != b)[:300]
            rows.append(row)
    return {"rows": rows, "seconds": time.perf_counter() - t0, "fixtures": len(fixtures)}


def _table(rows: list[dict], key: str, title: str, limit: int = 0, worst: bool = False) -> None:
    agg = {k: defaultdict(int, v) for k, v in _aggregate(rows, key).items()}
    items = sorted(agg.items())
    if worst:
        items = sorted(items, key=lambda kv: -(kv[1]["missed"] + kv[1]["partial"] + kv[1]["lk_changed"]))
        items = [kv for kv in items if kv[1]["missed"] + kv[1]["partial"] + kv[1]["lk_changed"]]
    if limit:
        items = items[:limit]
    print(f"\n## {title}")
    print(f"{key:<48} {'secrets':>7} {'removed':>8} {'partial':>7} {'missed':>6} {'error':>5} {'rm%':>6} "
          f"{'scan%':>6} {'looks':>5} {'kept':>5} {'chgd':>5}")
    for name, a in items:
        s = a["secrets"]
        rm = 100.0 * a["removed"] / s if s else float("nan")
        sc = 100.0 * a["scan"] / s if s else float("nan")
        print(f"{name[:48]:<48} {s:>7} {a['removed']:>8} {a['partial']:>7} {a['missed']:>6} {a['error']:>5} "
              f"{rm:>6.2f} {sc:>6.1f} {a['lookalikes']:>5} {a['lk_kept']:>5} {a['lk_changed']:>5}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", required=True, type=Path)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--show", type=int, default=0, help="print this many misses/partials/changed look-alikes")
    args = ap.parse_args()
    result = measure(load(args.corpus))
    rows = result["rows"]
    for r in rows:
        r["all"] = "ALL"
    _table(rows, "all", "total")
    _table(rows, "repo", "per source repository")
    _table(rows, "group", "per source and kind of context")
    _table(rows, "context", "per context (how the secret is embedded)")
    _table(rows, "vendor", "per vendor/kind, worst first", limit=60, worst=True)
    bad = [r for r in rows if r["verdict"] in ("missed", "partial", "changed")]
    for r in bad[: args.show]:
        print(f"{r['verdict']:<8} {r['source']} [{r['context']}] {r['path']}\n   raw: {r.get('raw_line', '')}\n"
              f"   out: {r.get('out_line', '')}")
    print(f"\n{result['fixtures']} fixtures in {result['seconds']:.1f} s")
    if args.json:
        args.json.write_text(json.dumps({"fixtures": result["fixtures"], "bad": bad,
                                         "counts": _counts(rows),
                                         "by_group": _aggregate(rows, "group"),
                                         "by_vendor": _aggregate(rows, "vendor")}, indent=1))
    return 0


def _counts(rows: list[dict]) -> dict:
    c: dict[str, int] = defaultdict(int)
    for r in rows:
        c[f"{r['kind']}:{r['verdict']}"] += 1
        if r["kind"] == "secret":
            c["secret:scan"] += r["scan"]
            if r["verdict"] in ("missed", "partial"):
                c["secret:not_removed_but_scan_flags"] += r["scan"]
    return dict(c)


if __name__ == "__main__":
    sys.exit(main())
