"""Calls that wait on the directory release the GIL: other Python threads make progress
meanwhile, and several threads search in parallel."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator, List, Tuple

import pytest

import heracles

Cleanup = Callable[[Callable[[], object]], None]

USERS = 150


@pytest.fixture
def population(client: heracles.Client, tag: str) -> Iterator[str]:
    """``USERS`` users named ``<tag>nNNN``, deleted afterwards."""
    prefix = f"{tag}n"
    for i in range(USERS):
        client.users.create(uid=f"{prefix}{i:03}", cn=f"Thread {i}", sn="T", posix={})
    yield prefix
    for i in range(USERS):
        try:
            client.users.delete(f"{prefix}{i:03}")
        except heracles.NotFoundError:
            pass


def slow_search(client: heracles.Client, prefix: str) -> Tuple[float, float, int]:
    """Lists the population repeatedly for at least 0.3 s; answers (start, end, users)."""
    start = time.monotonic()
    seen = 0
    while True:
        seen = sum(1 for _ in client.users.iter(filter=f"uid:starts:{prefix}", page_size=50))
        if time.monotonic() - start > 0.3:
            break
    return start, time.monotonic(), seen


def test_another_thread_progresses_during_a_search(
    client: heracles.Client, population: str
) -> None:
    ticks: List[float] = []
    stop = threading.Event()

    def ticker() -> None:
        while not stop.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.001)

    t = threading.Thread(target=ticker)
    t.start()
    durations: List[Tuple[float, float]] = []
    try:
        # Calls until 0.2 s were spent inside the core.
        while sum(e - b for b, e in durations) < 0.2:
            begun = time.monotonic()
            page = client.users.list(filter=f"uid:starts:{population}", limit=1000)
            ended = time.monotonic()
            assert page.total == USERS
            durations.append((begun, ended))
    finally:
        stop.set()
        t.join()
    # While the core worked, the ticker kept running (it could not, had the calls held the
    # GIL): ~one tick per millisecond inside the calls.
    inside = sum(1 for (b, e) in durations for x in ticks if b < x < e)
    assert inside >= 20, f"{inside} ticks during {len(durations)} calls (0.2 s) of searching"


def test_threads_search_in_parallel(client: heracles.Client, population: str) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: slow_search(client, population), range(4)))
    assert all(seen == USERS for _, _, seen in results)
    # The searches overlapped in time: they ran together, not one after the other.
    starts = [s for s, _, _ in results]
    ends = [e for _, e, _ in results]
    assert max(starts) < min(ends)


def test_threads_write_in_parallel(client: heracles.Client, tag: str, cleanup: Cleanup) -> None:
    def create(i: int) -> int:
        uid = f"{tag}w{i}"
        cleanup(lambda: client.users.delete(uid))
        user = client.users.create(uid=uid, cn="W", sn="W", posix={"uidNumber": None})
        assert user.uidNumber is not None
        n: int = user.uidNumber
        return n

    with ThreadPoolExecutor(max_workers=4) as pool:
        numbers = list(pool.map(create, range(12)))
    # Allocated atomically: never twice the same number.
    assert len(set(numbers)) == 12
