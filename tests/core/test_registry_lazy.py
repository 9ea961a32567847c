"""Names declared from the plugin index: known at once, loaded when read, once, whatever the threads."""

from __future__ import annotations

import functools
import threading
import time
from types import SimpleNamespace

from medic.kernel.registry import Declared, Origin, Registry


def test_two_threads_reading_two_names_of_one_plugin_load_it_once() -> None:
    registry, calls = Registry(), []
    origin = Origin("slow", "slow-dist")

    @functools.cache
    def load() -> None:
        calls.append(1)
        time.sleep(0.2)  # the second reader arrives while the first is loading
        for name in ("a", "b"):
            registry.register("probes", SimpleNamespace(name=name), origin)

    for name in ("a", "b"):
        registry.probes.declare(name, Declared(origin, False, load))
    assert sorted(registry.probes) == ["a", "b"] and calls == []  # listed without loading
    got: dict[str, str] = {}
    threads = [threading.Thread(target=lambda n=n: got.update({n: registry.probes[n].name})) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == {"a": "a", "b": "b"} and calls == [1]


def test_an_override_declared_later_wins_without_loading_the_plain_one_first() -> None:
    registry, loaded = Registry(), []
    plain, site = Origin("builtin", "medic"), Origin("site", "site-dist")

    def loader(origin: Origin, override: bool) -> functools._lru_cache_wrapper[None]:
        @functools.cache
        def load() -> None:
            loaded.append(origin.plugin)
            registry.register("checks", SimpleNamespace(id="x.y", by=origin.plugin), origin, override=override)
        return load

    registry.checks.declare("x.y", Declared(plain, False, loader(plain, False)))
    registry.checks.declare("x.y", Declared(site, True, loader(site, True)))
    assert registry.checks.origin("x.y") == site and loaded == []
    assert registry.checks["x.y"].by == "site" and sorted(loaded) == ["builtin", "site"]


def test_a_name_being_loaded_by_another_thread_is_still_present() -> None:
    """The SSH collector asks ``probe in probes`` while another thread loads that probe's module: the name is off
    ``declared`` and not yet ``loaded`` then, and answering False shipped no probe module to the host."""
    registry = Registry()
    origin = Origin("slow", "slow-dist")
    loading, release = threading.Event(), threading.Event()

    @functools.cache
    def load() -> None:
        loading.set()
        release.wait(10)  # held until the other thread has asked
        registry.register("probes", SimpleNamespace(name="file_tail"), origin)

    registry.probes.declare("file_tail", Declared(origin, False, load))
    reader = threading.Thread(target=lambda: registry.probes["file_tail"])
    reader.start()
    assert loading.wait(10)
    answers: list[object] = []
    asker = threading.Thread(target=lambda: answers.extend(["file_tail" in registry.probes,
                                                            registry.probes.origin("file_tail")]))
    asker.start()
    asker.join(0.3)  # let it ask while the load is held (with the lock, it waits for the load to end)
    release.set()
    asker.join(10)
    reader.join(10)
    assert answers == [True, origin]
