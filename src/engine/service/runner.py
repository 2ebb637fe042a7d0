"""Where jobs run: training in worker processes (fitting never stalls serving), batches in
threads. Pools start on first use; a pool broken by a dead worker is replaced."""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from engine.settings import Settings

log = logging.getLogger(__name__)
Done = Callable[[BaseException | None], None]


class PoolJobRunner:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._training: Executor | None = None
        self._batches: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _training_pool(self) -> Executor:
        with self._lock:
            if self._training is None:
                if self.settings.job_mode == "process":
                    context = multiprocessing.get_context("spawn")
                    self._training = ProcessPoolExecutor(
                        self.settings.training_workers, mp_context=context
                    )
                else:
                    self._training = ThreadPoolExecutor(
                        self.settings.training_workers, thread_name_prefix="training"
                    )
            return self._training

    def _batch_pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._batches is None:
                self._batches = ThreadPoolExecutor(
                    self.settings.batch_workers, thread_name_prefix="batch"
                )
            return self._batches

    def run_training(self, function: Callable[..., Any], *args: Any, done: Done) -> None:
        try:
            future = self._training_pool().submit(function, *args)
        except BrokenProcessPool:
            with self._lock:
                self._training = None
            future = self._training_pool().submit(function, *args)
        future.add_done_callback(lambda f: self._finished(f, done, training=True))

    def run_batch(self, function: Callable[..., Any], *args: Any, done: Done) -> None:
        future = self._batch_pool().submit(function, *args)
        future.add_done_callback(lambda f: self._finished(f, done, training=False))

    def _finished(self, future: Future[Any], done: Done, training: bool) -> None:
        error = future.exception()
        if isinstance(error, BrokenProcessPool) and training:
            with self._lock:
                self._training = None
        try:
            done(error)
        except Exception:  # a failing notification must not take the runner down
            log.exception("job completion handler failed")

    def shutdown(self, wait: bool = True) -> None:
        with self._lock:
            pools = [p for p in (self._training, self._batches) if p is not None]
            self._training = self._batches = None
        for pool in pools:
            pool.shutdown(wait=wait, cancel_futures=not wait)
