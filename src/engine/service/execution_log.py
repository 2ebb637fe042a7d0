"""The usage ledger's writer: executions are appended to a buffer on the hot path and written
(and charged) in batches by a background thread, and on close, so scoring never waits for the
database. `enabled` exists only so that benchmarks can measure what the ledger costs."""

from __future__ import annotations

import logging
import threading
from typing import Any

from engine.store import SqlMetadataStore

log = logging.getLogger(__name__)


class ExecutionLog:
    def __init__(
        self, store: SqlMetadataStore, flush_seconds: float = 0.5, max_buffer: int = 5000
    ) -> None:
        self._store = store
        self._flush_seconds = flush_seconds
        self._max_buffer = max_buffer
        self._buffer: list[dict[str, Any]] = []
        self._lock = threading.Lock()  # guards the buffer; held only to append or swap
        self._writing = threading.Lock()  # held for a whole flush
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self.enabled = True

    def record(self, row: dict[str, Any]) -> None:
        if not self.enabled:
            return
        with self._lock:
            self._buffer.append(row)
            full = len(self._buffer) >= self._max_buffer
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="execution-log", daemon=True)
                self._thread.start()
        if full:
            self._wake.set()

    def _run(self) -> None:
        while not self._closed.is_set():
            self._wake.wait(self._flush_seconds)
            self._wake.clear()
            self.flush()

    def flush(self) -> None:
        """Write everything recorded so far. One flush at a time: a caller that flushes while
        the background thread is writing waits for that write, so that when flush returns,
        every row recorded before the call is in the store."""
        with self._writing:
            with self._lock:
                rows, self._buffer = self._buffer, []
            if not rows:
                return
            try:
                self._store.ledger.add(rows)
            except Exception:  # the ledger must never take serving down; retry next time
                log.exception("could not write %d execution records; will retry", len(rows))
                with self._lock:
                    self._buffer[:0] = rows

    def close(self) -> None:
        self._closed.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.flush()
