"""Start an emulator launcher as a subprocess, wait for its ready line, and stop it.

A launcher (see `emulators/`) binds random loopback ports and prints one line naming them once
it listens; the caller gives a regular expression whose groups pick the ports out of that line.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

LAUNCHERS = Path(__file__).parent / "emulators"


def start_launcher(
    argv: Sequence[str],
    ready_pattern: str,
    timeout: float = 60,
    env: Mapping[str, str] | None = None,
) -> tuple[subprocess.Popen[str], re.Match[str]]:
    """Run `argv` and return (process, match of `ready_pattern` on its first matching line).

    The launcher's stderr goes to an unlinked temporary file (a pipe nobody drains would block
    a chatty server) and is quoted when the launcher dies or never gets ready.
    """
    with tempfile.TemporaryFile(mode="w+") as log:
        proc = subprocess.Popen(
            list(argv),
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env={**os.environ, **(env or {})},
        )
        try:
            match = _wait_for_line(proc, ready_pattern, timeout)
        except BaseException as exc:
            stop(proc)
            if proc.stdout is not None:
                proc.stdout.close()
            log.seek(0)
            raise RuntimeError(f"{argv} did not get ready: {exc}\n{log.read()[-3000:]}") from exc
    # Keep reading stdout so a server that logs there never blocks on a full pipe.
    threading.Thread(target=_drain, args=(proc,), daemon=True).start()
    return proc, match


def _drain(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    with proc.stdout:
        for _ in proc.stdout:
            pass


def _wait_for_line(proc: subprocess.Popen[str], pattern: str, timeout: float) -> re.Match[str]:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with code {proc.returncode}; stdout: {seen[-2000:]}")
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            line = proc.stdout.readline()
            seen += line
            match = re.search(pattern, line)
            if match:
                return match
    raise TimeoutError(f"no ready line after {timeout} s; stdout: {seen[-2000:]}")


def stop(proc: subprocess.Popen[str], timeout: float = 15) -> None:
    """SIGTERM the process we started; SIGKILL it if it does not exit in `timeout` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
