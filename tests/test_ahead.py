"""Reading a file's blocks on a thread of their own (logkit/ingest/ahead.py)."""

from __future__ import annotations

import threading

import pytest

from logkit.ingest.ahead import read_ahead


def test_items_come_in_order_from_another_thread_and_at_most_ahead_of_the_taker():
    made: list[int] = []
    threads: set[str] = set()

    def produce():
        for n in range(50):
            threads.add(threading.current_thread().name)
            made.append(n)
            yield n

    with read_ahead(produce(), 3) as items:
        taken = []
        for item in items:
            # Made so far: those taken, 3 waiting, and the one being put.
            assert len(made) <= item + 1 + 3 + 1
            taken.append(item)
    assert taken == list(range(50))
    assert threads == {"logkit-reader"}


def test_the_producers_error_is_raised_where_its_item_would_be_taken():
    def produce():
        yield 1
        yield 2
        raise OSError("the disk went away")

    taken = []
    with pytest.raises(OSError, match="the disk went away"), read_ahead(produce(), 8) as items:
        for item in items:
            taken.append(item)
    assert taken == [1, 2]


def test_leaving_early_stops_the_producer_and_waits_for_it():
    made: list[int] = []

    def produce():
        for n in range(10_000):
            made.append(n)
            yield n

    with pytest.raises(KeyboardInterrupt), read_ahead(produce(), 2) as items:
        for item in items:
            if item == 5:
                raise KeyboardInterrupt
    assert not any(t.name == "logkit-reader" for t in threading.enumerate())
    assert len(made) <= 5 + 1 + 2 + 1
