"""Parametrises agent tests over the planted-secret corpus and the look-alikes (see corpus.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("medic_agent_corpus", Path(__file__).with_name("corpus.py"))
assert _spec and _spec.loader
corpus = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = corpus
_spec.loader.exec_module(corpus)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "planted" in metafunc.fixturenames:
        metafunc.parametrize("planted", corpus.CORPUS, ids=[p.id for p in corpus.CORPUS])
    if "scannable" in metafunc.fixturenames:
        chosen = [p for p in corpus.CORPUS if p.scanner]
        metafunc.parametrize("scannable", chosen, ids=[p.id for p in chosen])
    if "structured" in metafunc.fixturenames:
        chosen = [p for p in corpus.CORPUS if p.fmt]
        metafunc.parametrize("structured", chosen, ids=[p.id for p in chosen])
    if "lookalike" in metafunc.fixturenames:
        names, texts = zip(*corpus.LOOKALIKES, strict=True)
        metafunc.parametrize("lookalike", texts, ids=names)


@pytest.fixture(params=["compiled", "python"])
def redact_engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs a redaction test on both first passes: the compiled one (medic.agent.firstpass, Hyperscan) and the
    pure-Python reference; their output must be the same (a module opts in with usefixtures)."""
    from medic.agent import firstpass

    monkeypatch.setenv("MEDIC_REDACT_ENGINE", request.param)
    if request.param == "compiled" and not firstpass.enabled():
        pytest.skip("hyperscan is not installed here (it is an optional accelerator)")
    return str(request.param)


@pytest.fixture(autouse=True)
def _heavy_passes_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled first pass builds its heavy matchers for the first text (firstpass.HEAVY_AFTER), so that the
    tests' small texts run the compiled passes they are about."""
    from medic.agent import firstpass

    monkeypatch.setattr(firstpass, "HEAVY_AFTER", 0)
