"""The ledger's buffered writer: a flush returns only once every row recorded before it is
written, even while the background thread is in the middle of writing."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

from engine.service.execution_log import ExecutionLog


class SlowLedger:
    def __init__(self) -> None:
        self.written: list[dict[str, Any]] = []
        self.started = threading.Event()

    def add(self, rows: list[dict[str, Any]]) -> int:
        if not self.started.is_set():  # the background thread's write: still in progress
            self.started.set()
            time.sleep(0.5)
        self.written.extend(rows)
        return len(rows)


def test_flush_waits_for_a_write_in_progress() -> None:
    ledger = SlowLedger()
    log = ExecutionLog(SimpleNamespace(ledger=ledger), flush_seconds=0.01)  # type: ignore[arg-type]
    log.record({"n": 1})  # starts the background writer, which soon takes this row
    assert ledger.started.wait(2)
    log.record({"n": 2})
    log.flush()
    assert sorted(r["n"] for r in ledger.written) == [1, 2]
    log.close()
