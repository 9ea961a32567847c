"""Knowledge-base search over 10,000 articles (issue 15 target: p95 <= 50 ms) and the cases page listing 10,000
cases (target: <= 300 ms server time).

KB: 10,000 published articles written from a 3,000-word vocabulary with a Zipf-like word frequency (a few words in
most articles, most words in few), each naming two of 200 check ids; 300 queries of 3-6 words drawn the same way
(``kb.search``, FTS5 + bm25) and 300 suggestions (``rank``: text + two failing check ids). The peer, in the same
run: a plain ``LIKE '%word%'`` scan of the symptoms for any word of the query (no index, no ranking).

Page: 10,000 cases (urgent, high, regular, low; opened 30 s apart until an hour ago, each acknowledged and noted,
every 7th waiting for the customer, every 5th resolved: at the real time of the requests their SLA states are a mix
of breached, at risk, running, paused and met). Server time of the list view (``views.case_list``, measured around
the function): all 10,000 cases on one page (``/?limit=10000``): the first listing of the store (written with
``open_store``'s keeper: each change stored the case's SLA row), after routing.yaml changed (one level's budgets:
that level's cases evaluated again; the calendar: the business-hours levels' cases), with every case evaluated
(``sla_due`` emptied) and warm (stored SLA rows, each case's state a
comparison in SQL), the default first page (200), the breaching filter, a field filter, the whole page again after
100 cases changed; side by side, the peer: the list view before ``sla_due`` (every case's state events read in
batches and its clocks evaluated in Python, then rendered); the warm view's steps timed apart; and the whole page
over HTTP to uvicorn on loopback (what a browser waits for, rendering excluded). Before all that, the cost the
keeper adds to writes: a tenth of the cases written without and with it.

    .venv/bin/python bench/kb_bench.py [--articles 10000] [--cases 10000] [--queries 300] [--repeat 5]
                                       [--only kb|page]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROUTING = ("levels:\n  urgent: {response: 1h, dispatch: 30m, resolution: 4h, update: 30m}\n"
           "  high: {response: 2h, resolution: 8h}\n  regular: {response: 4h, resolution: 16h}\n"
           "  low: {response: 8h, resolution: 40h}\ncalendar: {timezone: UTC, holidays: ['2026-12-25']}\n")


def vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(letters) for _ in range(rng.randint(3, 9))))
    return sorted(words)


def sampler(words: list[str], rng: random.Random) -> Callable[[int], list[str]]:
    weights = [1 / (rank + 1) for rank in range(len(words))]  # Zipf: the n-th word 1/n as frequent
    return lambda k: rng.choices(words, weights=weights, k=k)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def like_scan(kb: Any, text: str) -> list[Any]:
    """The peer: every article whose symptoms contain any word of the query (a full scan: no index, no rank)."""
    words = text.split()
    where = " OR ".join("symptoms LIKE ?" for _ in words)
    return kb.db.execute(f"SELECT id FROM articles WHERE {where}", [f"%{w}%" for w in words]).fetchall()


def bench_kb(base: Path, articles: int, queries: int, rng: random.Random) -> None:
    from medic.plugins.kb.store import KnowledgeBase
    from medic.plugins.kb.suggest import rank

    words = vocabulary(rng)
    draw = sampler(words, rng)
    checks = [f"cat{i % 7}.check_{i}" for i in range(200)]
    kb = KnowledgeBase(base / "kb.sqlite")
    started = time.perf_counter()
    kb.add_many({"title": " ".join(draw(6)), "symptoms": " ".join(draw(40)), "cause": " ".join(draw(20)),
                 "fix": " ".join(draw(30)), "verification": " ".join(draw(10)), "checks": rng.sample(checks, 2),
                 "state": "published"} for _ in range(articles))
    print(f"KB: {kb.count()} articles loaded in {time.perf_counter() - started:.1f} s")
    texts = [" ".join(draw(rng.randint(3, 6))) for _ in range(queries)]
    kb.search(texts[0])  # warm the page cache: a running page has it warm
    search = [timed(lambda t=t: kb.search(t)) for t in texts]  # type: ignore[misc]
    suggest = [timed(lambda t=t: rank(kb, t, rng.sample(checks, 2))) for t in texts]  # type: ignore[misc]
    like = [timed(lambda t=t: like_scan(kb, t)) for t in texts]  # type: ignore[misc]
    for label, values in (("kb search (FTS5 bm25, top 10)", search), ("kb suggest (text + 2 check ids, top 5)",
                                                                      suggest),
                          ("peer: LIKE scan of symptoms, any word", like)):
        print(f"  {label:<40} median {statistics.median(values):6.2f} ms  p95 {pct(values, 0.95):6.2f} ms  "
              f"max {max(values):6.2f} ms  ({len(values)} queries)")
    print(f"  ratio search/LIKE (medians): {statistics.median(search) / statistics.median(like):.2f}")
    kb.close()


def fill_cases(base: Path, count: int, rng: random.Random, keep: bool = True, name: str = "cases.sqlite"
               ) -> float:
    """``count`` cases opened 30 s apart over the last days (so their clocks are a mix of breached, at risk,
    running and met at the real time the page is asked), each acknowledged and noted; every 7th is waiting for the
    customer and every 5th resolved. ``keep``: each change also stores the case's SLA row, as ``open_store`` does
    (``listing.keeper``). The seconds taken."""
    from medic.plugins.cases.listing import keeper
    from medic.plugins.cases.store import CaseStore

    clock = [time.time() - count * 30 - 3600]
    store = CaseStore(base / name, clock=lambda: clock[0])
    store.after_write = keeper() if keep else None
    started = time.perf_counter()
    for i in range(count):
        case = store.open(f"case {i}: users report {rng.choice(['dns', 'vpn', 'disk', 'printer'])} trouble",
                          priority=rng.choice(["urgent", "high", "regular", "low"]),
                          category=rng.choice(["network", "hardware", "software"]), host=f"host{i % 500}")
        clock[0] += 30
        store.transition(case.id, "acknowledged", actor="bench")
        store.add_event(case.id, "note", {"text": "called the user"}, actor="bench")
        if i % 7 == 0:
            store.transition(case.id, "waiting_customer", actor="bench")
        elif i % 5 == 0:
            store.transition(case.id, "resolved", actor="bench")
    store.close()
    return time.perf_counter() - started


def previous_list_view(src: Any, views: Any, limit: int) -> str:
    """The peer: the list view before ``sla_due`` (kept here to compare): every case on the page read as a Case,
    its state events read in batches, its clocks evaluated in Python, then filtered and rendered."""
    from medic.plugins.cases.listing import state_at, summary
    from medic.plugins.cases.sla import evaluate

    cases = src.cases.list(limit=limit)
    events = src.cases.timelines([c.id for c in cases], ("state",))
    now = time.time()
    rows = [(c.id, c.title, c.state, c.category, c.priority, c.assignee, c.host, c.updated,
             state_at(*summary(evaluate(c, events[c.id], src.routing, now), src.routing, now), now))
            for c in cases]
    return views.page("list.html.j2", rows=rows, f=views.filters_of({"limit": str(limit)}), matching=len(rows),
                      total=len(rows), more=False)


def breakdown(src: Any, views: Any, limit: int, repeat: int) -> dict[str, list[float]]:
    """The list view's steps timed apart: the stale-row check, the list query, the count, the rendering."""
    from medic.plugins.cases.listing import listing, refresh

    parts: dict[str, list[float]] = {"SLA rows check": [], "list query": [], "rendering": []}
    for _ in range(repeat):
        now = time.time()
        t0 = time.perf_counter()
        refresh(src.cases, src.routing, now)
        t1 = time.perf_counter()
        rows, matching = listing(src.cases, None, now, limit=limit)
        t2 = time.perf_counter()
        views.page("list.html.j2", rows=rows, f=views.filters_of({"limit": str(limit)}), matching=matching,
                   total=matching, more=False)
        t3 = time.perf_counter()
        for key, a, b in (("SLA rows check", t0, t1), ("list query", t1, t2), ("rendering", t2, t3)):
            parts[key].append((b - a) * 1000)
    return parts


def cpu_of(cpus: list[float]) -> str:
    return f"  CPU {statistics.median(cpus):.0f} ms"


def line(label: str, walls: list[float]) -> str:
    return f"  {label:<44} median {statistics.median(walls):7.1f} ms  [{', '.join(f'{w:.0f}' for w in walls)}]"


def bench_page(base: Path, cases: int, repeat: int, rng: random.Random) -> None:
    import httpx

    from medic.plugins.casespage import views
    from medic.plugins.casespage.app import make_app, sources
    from medic.testing.sink import serve_app

    (base / "routing.yaml").write_text(ROUTING)
    os.environ["MEDIC_ROUTING"] = str(base / "routing.yaml")
    small = max(1, cases // 10)  # the cost of keeping the rows as the store writes, on a tenth of the cases
    bare, kept = (fill_cases(base, small, rng, keep, f"write-{keep}.sqlite") for keep in (False, True))
    print(f"  writes: {small} cases with 3-4 changes each: {1000 * bare / small:.2f} ms a case without the SLA row,"
          f" {1000 * kept / small:.2f} ms keeping it (x{kept / bare:.2f})")
    print(f"cases: {cases} cases written in {fill_cases(base, cases, rng):.1f} s, their SLA rows kept")
    src = sources(base, {"state_dir": str(base)})
    assert src.routing is not None, "the bench's routing.yaml did not load"
    everything = {"limit": str(cases)}
    fresh = []
    for _ in range(repeat):  # a new connection each time (as a page just started: SQLite's cache empty)
        new = sources(base, {"state_dir": str(base)})
        fresh.append(timed(lambda n=new: views.case_list(n, everything)))  # type: ignore[misc]
        new.cases.close()
    print(line(f"page: GET /?limit={cases}, first on a new connection", fresh))
    for label, before, after in (("one level's budgets", "high: {response: 2h", "high: {response: 3h"),
                                 ("the calendar", "holidays: ['2026-12-25']", "holidays: ['2026-12-24']")):
        walls, cpus = [], []
        for r in range(repeat):  # routing.yaml changed (back and forth), read by a page that starts again
            (base / "routing.yaml").write_text(ROUTING.replace(before, after) if r % 2 == 0 else ROUTING)
            changed_src = sources(base, {"state_dir": str(base)})
            cpu = time.process_time()
            walls.append(timed(lambda n=changed_src: views.case_list(n, everything)))  # type: ignore[misc]
            cpus.append((time.process_time() - cpu) * 1000)
            changed_src.cases.close()
        print(line(f"page: GET /?limit={cases}, routing changed: {label}", walls) + cpu_of(cpus))
    (base / "routing.yaml").write_text(ROUTING)
    walls, cpus = [], []
    for _ in range(repeat):  # every case evaluated (what changing every level and the calendar costs)
        src.cases.db.execute("DELETE FROM sla_due")
        cpu = time.process_time()
        walls.append(timed(lambda: views.case_list(src, everything)))
        cpus.append((time.process_time() - cpu) * 1000)
    print(line(f"page: GET /?limit={cases}, every case evaluated", walls) + cpu_of(cpus))
    for label, query in ((f"page: GET /?limit={cases} (server time)", everything),
                         ("page: GET / first 200 (server time)", {}),
                         ("page: GET /?sla=breaching (first 200)", {"sla": "breaching"}),
                         ("page: GET /?priority=urgent&open=1", {"priority": "urgent", "open": "1"})):
        views.case_list(src, query)  # warm
        print(line(label, [timed(lambda q=query: views.case_list(src, q)) for _ in range(repeat)]))  # type: ignore[misc]
    ids = [c.id for c in src.cases.list(limit=100)]
    changed = []
    for _ in range(repeat):  # 100 cases changed since the last listing: those 100 evaluated again
        for case_id in ids:
            src.cases.add_event(case_id, "note", {"text": "still down"}, actor="bench")
        changed.append(timed(lambda: views.case_list(src, everything)))
    print(line(f"page: GET /?limit={cases}, 100 cases changed", changed))
    peer = [timed(lambda: previous_list_view(src, views, cases)) for _ in range(repeat)]
    print(line(f"peer: previous list view, {cases} cases", peer))
    parts = breakdown(src, views, cases, repeat)
    print(f"  where the {cases}-case page's time goes (medians): "
          + ", ".join(f"{k} {statistics.median(v):.0f} ms" for k, v in parts.items()))
    with serve_app(make_app(src)) as port, httpx.Client(timeout=60) as client:
        url = f"http://127.0.0.1:{port}/?limit={cases}"
        size = len(client.get(url).content)
        walls = [timed(lambda: client.get(url)) for _ in range(repeat)]
        print(line(f"page over HTTP, {cases} cases", walls) + f"  {size / 1e6:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", choices=("kb", "page"), help="run one half only")
    args = parser.parse_args()
    rng = random.Random(15)
    print(f"load average {os.getloadavg()[0]:.1f} at the start")
    with tempfile.TemporaryDirectory() as tmp:
        if args.only != "page":
            bench_kb(Path(tmp), args.articles, args.queries, rng)
        if args.only != "kb":
            bench_page(Path(tmp), args.cases, args.repeat, rng)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
