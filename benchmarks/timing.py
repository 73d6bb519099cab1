"""Timing: every benchmark quotes medians of repeated runs, and a command's cost from its own process."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Timed:
    """Seconds of each repeat of one call, and what the last repeat returned."""

    seconds: tuple[float, ...]
    result: Any

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def first(self) -> float:
        return self.seconds[0]


def repeat(call: Callable[[], Any], repeats: int, *, before: Callable[[], object] | None = None) -> Timed:
    """Time `call` `repeats` times (`before`, untimed, ahead of each: a change the call must not see coming)."""
    seconds, result = [], None
    for _ in range(repeats):
        if before is not None:
            before()
        started = time.perf_counter()
        result = call()
        seconds.append(time.perf_counter() - started)
    return Timed(tuple(seconds), result)


def say(message: str) -> None:
    """A progress line with the time of day, flushed at once (benchmarks run for minutes under nohup)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def measure(cmd: list[str], log: Path, *, env: dict | None = None) -> dict:
    """Wall time, CPU time and peak RSS of one command, its own process (os.wait4 gives that child's rusage)."""
    with log.open("ab") as fh:
        fh.write(f"\n$ {' '.join(cmd)}\n".encode())
        fh.flush()
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    proc.returncode = rc = os.waitstatus_to_exitcode(status)
    # CPU time (user + system, all threads) as well as wall time: on a shared machine the wall time
    # follows the other processes' load, the CPU time much less.
    result = {"wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
              "peak_mib": round(usage.ru_maxrss / 1024, 1), "rc": rc}
    if rc != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(cmd)} exited {rc}; last output:\n{tail}")
    return result
