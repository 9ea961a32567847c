"""The knowledge base: articles in one SQLite file (``kb.sqlite`` in medic's state directory), searched with FTS5.

An article has a title, symptoms (what people see), the failing check ids, the cause, the fix and how to verify
it; it is a ``draft`` until published. The full-text index uses FTS5's ``porter`` tokenizer (so "fails", "failing"
and "failed" match) and ranks with bm25. A query is never FTS syntax: every word is quoted, so ``"``, ``*``,
``NEAR``, ``-`` or ``:`` in what someone typed are just text.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from medic.kernel.errors import UsageError
from medic.kernel.sqlitetx import write_transaction

FIELDS = ("title", "symptoms", "cause", "fix", "verification")
STATES = ("draft", "published")
# bm25 weights per indexed column (title, symptoms, cause, fix, verification, checks): symptoms say most
WEIGHTS = (3.0, 4.0, 1.5, 1.0, 0.5, 2.0)
# words that say nothing about a fault; dropped from queries so they cannot rank an article
_STOP_WORDS = ("a an and are as at be but by for from has have i in is it its of on or our that the this to was we "
               "were when with after before once since while not no can cannot")
STOP = frozenset(_STOP_WORDS.split())
MAX_TERMS = 64

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id INTEGER PRIMARY KEY, title TEXT NOT NULL, symptoms TEXT NOT NULL DEFAULT '', cause TEXT NOT NULL DEFAULT '',
    fix TEXT NOT NULL DEFAULT '', verification TEXT NOT NULL DEFAULT '', checks TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'published')), case_id TEXT,
    created TEXT NOT NULL, updated TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS article_checks (
    check_id TEXT NOT NULL, article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    PRIMARY KEY (check_id, article_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS articles_case ON articles(case_id);
CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5(
    title, symptoms, cause, fix, verification, checks, content='articles', content_rowid='id',
    tokenize='porter unicode61');
CREATE TRIGGER IF NOT EXISTS articles_ai AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts(rowid, title, symptoms, cause, fix, verification, checks)
    VALUES (new.id, new.title, new.symptoms, new.cause, new.fix, new.verification, new.checks); END;
CREATE TRIGGER IF NOT EXISTS articles_ad AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, symptoms, cause, fix, verification, checks)
    VALUES ('delete', old.id, old.title, old.symptoms, old.cause, old.fix, old.verification, old.checks); END;
CREATE TRIGGER IF NOT EXISTS articles_au AFTER UPDATE ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, symptoms, cause, fix, verification, checks)
    VALUES ('delete', old.id, old.title, old.symptoms, old.cause, old.fix, old.verification, old.checks);
    INSERT INTO articles_fts(rowid, title, symptoms, cause, fix, verification, checks)
    VALUES (new.id, new.title, new.symptoms, new.cause, new.fix, new.verification, new.checks); END;
"""


# per connection, in memory: the query's words as the index tokenizes them, and the index's document counts
QUERY_TABLES = """
CREATE VIRTUAL TABLE IF NOT EXISTS temp.query_words USING fts5(word, tokenize='porter unicode61');
CREATE VIRTUAL TABLE IF NOT EXISTS temp.query_terms USING fts5vocab(temp, query_words, 'instance');
CREATE VIRTUAL TABLE IF NOT EXISTS temp.articles_vocab USING fts5vocab(main, articles_fts, 'row');
"""
COMMON = 0.5  # share of the articles beyond which a word tells nothing


@dataclass
class Article:
    id: int
    title: str
    symptoms: str = ""
    cause: str = ""
    fix: str = ""
    verification: str = ""
    checks: list[str] = field(default_factory=list)
    state: str = "draft"
    case_id: str | None = None
    created: str = ""
    updated: str = ""
    score: float = 0.0  # relevance of a search or suggestion (higher is better); 0 otherwise

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def terms(text: str) -> list[str]:
    """The words of ``text`` worth searching for, lower-case, each once, in order."""
    seen: dict[str, None] = {}
    for word in re.findall(r"\w+", text.lower()):
        if word not in STOP and len(seen) < MAX_TERMS:
            seen.setdefault(word)
    return list(seen)


def fts_query(text: str) -> str:
    """An FTS5 query matching any word of ``text``; each word a quoted string, so nothing in it is syntax."""
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms(text))


def parse_id(raw: str | int) -> int:
    text = str(raw).strip()
    m = re.fullmatch(r"(?i)(?:kb-?)?(\d+)", text)
    if not m:
        raise UsageError(f"article {text!r}: expected a number such as 12 or KB-12")
    return int(m[1])


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _checks(raw: Iterable[str] | str) -> list[str]:
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    return sorted({c.strip() for c in items if c and c.strip()})


class KnowledgeBase:
    """One open KB file. Writes are transactions; WAL lets the cases page read while the CLI writes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(SCHEMA + QUERY_TABLES)

    @classmethod
    def default(cls, state: Path) -> KnowledgeBase:
        return cls(state / "kb.sqlite")

    def close(self) -> None:
        self.db.close()

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        return write_transaction(self.db)

    def add(self, title: str, *, checks: Iterable[str] | str = (), state: str = "draft",
            case_id: str | None = None, **texts: str) -> Article:
        if not title.strip():
            raise UsageError("an article needs a title")
        if state not in STATES:
            raise UsageError(f"state {state!r}: expected one of {', '.join(STATES)}")
        ids, now = _checks(checks), _now()
        values = {f: str(texts.get(f) or "") for f in FIELDS[1:]}
        with self._tx() as db:
            cur = db.execute("INSERT INTO articles (title, symptoms, cause, fix, verification, checks, state, "
                             "case_id, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             (title.strip(), *values.values(), " ".join(ids), state, case_id, now, now))
            article_id = int(cur.lastrowid or 0)
            db.executemany("INSERT INTO article_checks VALUES (?, ?)", [(c, article_id) for c in ids])
        return self.get(article_id)

    def add_many(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Bulk load (the benchmark, imports): one transaction."""
        now = _now()
        with self._tx() as db:
            for row in rows:
                ids = _checks(row.get("checks") or ())
                cur = db.execute("INSERT INTO articles (title, symptoms, cause, fix, verification, checks, state, "
                                 "created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                 (row["title"], *(str(row.get(f) or "") for f in FIELDS[1:]), " ".join(ids),
                                  row.get("state", "draft"), now, now))
                db.executemany("INSERT INTO article_checks VALUES (?, ?)", [(c, cur.lastrowid) for c in ids])

    def get(self, article_id: int | str) -> Article:
        number = parse_id(article_id)
        row = self.db.execute("SELECT * FROM articles WHERE id = ?", (number,)).fetchone()
        if row is None:
            raise UsageError(f"no article KB-{number} in {self.path} (medic kb search lists them)")
        return _article(row)

    def edit(self, article_id: int | str, *, checks: Iterable[str] | str | None = None,
             **texts: str | None) -> Article:
        article = self.get(article_id)
        changes = {f: v for f, v in texts.items() if f in FIELDS and v is not None}
        if "title" in changes and not str(changes["title"]).strip():
            raise UsageError("an article needs a title")
        with self._tx() as db:
            if changes:
                sets = ", ".join(f"{f} = ?" for f in changes)  # names from FIELDS only, never from input
                db.execute(f"UPDATE articles SET {sets}, updated = ? WHERE id = ?",  # noqa: S608
                           (*changes.values(), _now(), article.id))
            if checks is not None:
                ids = _checks(checks)
                db.execute("UPDATE articles SET checks = ?, updated = ? WHERE id = ?",
                           (" ".join(ids), _now(), article.id))
                db.execute("DELETE FROM article_checks WHERE article_id = ?", (article.id,))
                db.executemany("INSERT INTO article_checks VALUES (?, ?)", [(c, article.id) for c in ids])
        return self.get(article.id)

    def set_state(self, article_id: int | str, state: str) -> Article:
        article = self.get(article_id)
        with self._tx() as db:
            db.execute("UPDATE articles SET state = ?, updated = ? WHERE id = ?", (state, _now(), article.id))
        return self.get(article.id)

    def by_case(self, case_id: str) -> Article | None:
        row = self.db.execute("SELECT * FROM articles WHERE case_id = ? ORDER BY id LIMIT 1", (case_id,)).fetchone()
        return None if row is None else _article(row)

    def _telling(self, words: list[str]) -> list[str]:
        """``words`` without those (stemmed as the index stems them) in more than half of the articles: their bm25
        weight is about nothing, yet matching them means scoring nearly every article. The rarest is kept."""
        if not words:
            return words
        db = self.db
        db.execute("DELETE FROM temp.query_words")
        db.executemany("INSERT INTO temp.query_words(rowid, word) VALUES (?, ?)", enumerate(words))
        stems = {int(doc): str(term) for term, doc in db.execute("SELECT term, doc FROM temp.query_terms")}
        docs = {stem: int(row[0]) if (row := db.execute("SELECT doc FROM temp.articles_vocab WHERE term = ?",
                                                         (stem,)).fetchone()) else 0
                for stem in set(stems.values())}
        found = [(docs.get(stems.get(i, ""), 0), i) for i in range(len(words))]
        limit = COMMON * self.count()
        kept = [words[i] for n, i in found if n <= limit]
        return kept or [words[min(found)[1]]]

    def search(self, text: str, *, state: str | None = None, limit: int = 10) -> list[Article]:
        """Articles matching any telling word of ``text``, best first (bm25, symptoms and title weigh most)."""
        query = fts_query(" ".join(self._telling(terms(text))))
        if not query:
            return []
        sql = ("SELECT a.*, -bm25(articles_fts, ?, ?, ?, ?, ?, ?) AS score FROM articles_fts "
               "JOIN articles a ON a.id = articles_fts.rowid WHERE articles_fts MATCH ? "
               "AND (? IS NULL OR a.state = ?) ORDER BY score DESC, a.id LIMIT ?")
        params: list[Any] = [*WEIGHTS, query, state, state, limit]
        return [_article(row) for row in self.db.execute(sql, params)]

    def with_checks(self, checks: Iterable[str], *, state: str | None = None) -> dict[int, int]:
        """Article id -> how many of ``checks`` it names."""
        ids = _checks(checks)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        sql = (f"SELECT c.article_id, count(*) FROM article_checks c JOIN articles a ON a.id = c.article_id "  # noqa: S608
               f"WHERE c.check_id IN ({marks})" + (" AND a.state = ?" if state else "") + " GROUP BY c.article_id")
        return {int(r[0]): int(r[1]) for r in self.db.execute(sql, [*ids, *([state] if state else [])])}

    def count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM articles").fetchone()[0])


def _article(row: sqlite3.Row) -> Article:
    keys = row.keys()
    return Article(id=row["id"], title=row["title"], symptoms=row["symptoms"], cause=row["cause"], fix=row["fix"],
                   verification=row["verification"], checks=row["checks"].split(), state=row["state"],
                   case_id=row["case_id"], created=row["created"], updated=row["updated"],
                   score=round(float(row["score"]), 4) if "score" in keys else 0.0)
