"""A deterministic corpus of planted secrets and look-alikes, generated from kind definitions (seeded).

    corpus = generate(seed=17)
    corpus.secrets     # [Record(kind, context, path, value, data)]: every value must be removed whole
    corpus.lookalikes  # [Record(...)]: every value must survive, the file unchanged

``data`` is the file's bytes (gzip-compressed for the ``*.gz`` contexts: read it with :func:`text_of`).
Nothing here is a real credential: every value is random, from a fixed seed.
"""

from __future__ import annotations

import gzip
import random
from dataclasses import dataclass

from .forms import FORMS, Form
from .gen import b64, password, rand
from .kinds import TOKEN_KINDS, Kind
from .lookalikes import LOOKALIKES
from .render import CONTEXTS

SEED = 20261205
_GZ_CONTEXTS = ("log-keyed", "log-bare")  # rotated logs: the same file again, compressed


@dataclass(frozen=True)
class Record:
    kind: str
    context: str
    path: str
    value: str
    data: bytes

    @property
    def id(self) -> str:
        return f"{self.kind}/{self.context}"


@dataclass(frozen=True)
class Corpus:
    secrets: list[Record]
    lookalikes: list[Record]

    @property
    def kinds(self) -> list[str]:
        return sorted({r.kind for r in self.secrets})


def text_of(record: Record) -> str:
    data = gzip.decompress(record.data) if record.path.endswith(".gz") else record.data
    return data.decode("utf-8")


def survives(value: str, out: str) -> bool:
    """The value, or a long enough piece of it (a partial redaction), is still in ``out``."""
    width = min(len(value), max(8, len(value) // 3))
    return any(value[i: i + width] in out for i in range(0, len(value) - width + 1))


def _record(kind: str, context: str, path: str, value: str, text: str) -> list[Record]:
    return [Record(kind, context, path, value, text.encode())]


def _token_records(kind: Kind, rng: random.Random) -> list[Record]:
    out: list[Record] = []
    for context, (render, needs_standalone) in CONTEXTS.items():
        if needs_standalone and not kind.standalone:
            continue
        value = kind.make(rng)  # a fresh value per context: one leak cannot hide another
        path, text = render(kind.key, value)
        out += _record(kind.name, context, path, value.removeprefix(kind.public), text)
        if context in _GZ_CONTEXTS:
            value = kind.make(rng)
            path, text = render(kind.key, value)
            gz = gzip.compress(text.encode(), mtime=0)
            out.append(Record(kind.name, context + ".gz", path + ".1.gz", value.removeprefix(kind.public), gz))
    return out


def _form_value(form: Form, rng: random.Random) -> tuple[str, str]:
    """(the secret that must go, the text put in the template's {v}/{b})."""
    if form.value == "license":
        v = "-".join(rand(rng, "U", 5) for _ in range(5))
    elif form.value == "hash":
        v = "$6$" + rand(rng, "A", 16) + "$" + rand(rng, "A", 86)
    elif form.value == "token":
        v = rand(rng, "A", 32)
    else:
        v = password(rng)
    return v, b64(f"bob:{v}")


def _form_records(form: Form, rng: random.Random) -> list[Record]:
    v, b = _form_value(form, rng)
    text = "# managed by ops\n" + form.template.format(v=v, b=b) + "\n"
    secret = b if form.value == "b64" else v
    out = _record(form.name, "native", form.path, secret, text)
    v2, b2 = _form_value(form, rng)
    logged = "2026-12-01T10:00:03Z DEBUG read: " + form.template.format(v=v2, b=b2).replace("\n", "\n    ") + "\n"
    if "\n" not in form.template and not form.by_path:
        out += _record(form.name, "log-line", "/var/log/app/debug.log", b2 if form.value == "b64" else v2, logged)
    return out


def generate(seed: int = SEED) -> Corpus:
    rng = random.Random(seed)
    secrets: list[Record] = []
    for kind in TOKEN_KINDS:
        secrets += _token_records(kind, rng)
    for form in FORMS:
        secrets += _form_records(form, rng)
    lookalikes: list[Record] = []
    for name, make in LOOKALIKES:
        path, text, value = make(rng)
        lookalikes.append(Record(name, "native", path, value, (text + "\n").encode()))
    return Corpus(secrets, lookalikes)


__all__ = ["FORMS", "LOOKALIKES", "TOKEN_KINDS", "Corpus", "Record", "generate", "password", "survives", "text_of"]
