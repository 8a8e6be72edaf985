"""Run calls at the same moment, each in its own thread with its own database connection:
for tests of races the database must settle (PostgreSQL; SQLite serialises writers)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connections


def run_together(*calls: Callable[[], Any], timeout: float = 30) -> list[Any]:
    """Start every call in its own thread, release them at once, wait, return their results
    in order (an exception in a call is re-raised here)."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = calls[index]()
        except BaseException as error:  # noqa: BLE001 - handed to the test's thread
            errors.append(error)
        finally:
            connections.close_all()  # this thread's connection, or the test DB cannot be dropped

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    if errors:
        raise errors[0]
    return results
