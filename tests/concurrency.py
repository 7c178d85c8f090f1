"""Run writes from several threads at the same moment, as two reviewers' requests would.

Each call runs on its own thread (so its own database connection) after a barrier. SQLite's
shared-cache in-memory test database answers a concurrent writer "table is locked" at once
instead of waiting as a real (file, WAL) database does for its busy timeout: the call is
retried, which stands in for that wait. Tests using this need
`@pytest.mark.django_db(transaction=True)`, so that the threads see committed rows.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.db import OperationalError, connection

from synthesis.concurrency import EditConflict

SAVED, CONFLICT = "saved", "conflict"


def at_the_same_moment(*calls: Callable[[], object]) -> list[str]:
    """Start every call at once; each call's outcome, in order: "saved", "conflict" (it raised
    EditConflict), "never got the write lock", or the repr of anything else it raised."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = [""] * len(calls)

    def work(i: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            for _ in range(1000):  # up to ~10 s on a loaded machine
                try:
                    call()
                    outcomes[i] = SAVED
                    return
                except OperationalError as exc:
                    if "locked" not in str(exc):
                        raise
                    time.sleep(0.01)
            outcomes[i] = "never got the write lock"
        except EditConflict:
            outcomes[i] = CONFLICT
        except Exception as exc:  # noqa: BLE001 - reported to the test
            outcomes[i] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes
