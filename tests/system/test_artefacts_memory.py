"""The in-memory layer of ArtefactCache: built once per key, kept while used, bounded otherwise."""

from __future__ import annotations

import gc
import threading
import time

import pytest

from chatwootai.artefacts import ArtefactCache, artefact_key


class Index:
    """A weakly referable artefact."""

    def __init__(self, content: str) -> None:
        self.content = content


def test_threads_asking_for_one_artefact_build_it_once() -> None:
    cache = ArtefactCache(None)
    builds: list[int] = []

    def build() -> Index:
        builds.append(1)
        time.sleep(0.05)
        return Index("x")

    found: list[Index] = []
    threads = [
        threading.Thread(target=lambda: found.append(cache.get_or_build("k", "1", build)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(builds) == 1 and len(found) == 8 and all(f is found[0] for f in found)
    assert cache.builds == 1 and cache.hits == 7


def test_a_failed_build_keeps_nothing_and_is_tried_again() -> None:
    cache = ArtefactCache(None)

    def broken() -> Index:
        raise ValueError("bad content")

    with pytest.raises(ValueError, match="bad content"):
        cache.get_or_build("k", "1", broken)
    assert cache.get_or_build("k", "1", lambda: Index("ok")).content == "ok"


def test_an_artefact_still_used_is_found_after_the_lru_dropped_it() -> None:
    cache = ArtefactCache(None, memory_items=2)
    held = cache.get_or_build("k", "held", lambda: Index("held"))
    for n in range(5):  # pushes "held" out of the LRU of recent ones
        cache.get_or_build("k", str(n), lambda n=n: Index(str(n)))
    assert cache.get_or_build("k", "held", lambda: Index("rebuilt")) is held
    del held
    for n in range(5, 10):
        cache.get_or_build("k", str(n), lambda n=n: Index(str(n)))
    gc.collect()
    assert cache.peek("k", "held") is None  # no domain holds it: freed


def test_lists_and_dicts_have_their_own_bound() -> None:
    cache = ArtefactCache(None, memory_items=2, plain_items=3)
    first = cache.get_or_build("k", "list-0", lambda: [0])
    for n in range(1, 4):
        cache.get_or_build("k", f"list-{n}", lambda n=n: [n])
    assert cache.peek("k", "list-0") is None and cache.peek("k", "list-3") == [3]
    assert cache.get_or_build("k", "list-0", lambda: [0]) is not first  # rebuilt: not held


def test_keys_differ_by_kind_version_and_content() -> None:
    base = artefact_key("catalog-index", 1, "a", "b")
    assert base == artefact_key("catalog-index", 1, "a", "b")
    assert base != artefact_key("catalog-index", 2, "a", "b")
    assert base != artefact_key("faq-index", 1, "a", "b")
    assert base != artefact_key("catalog-index", 1, "ab")
