"""What machine the figures come from: a benchmark's figures mean little without it."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_name(default: str = "unknown") -> str:
    """The CPU model as /proc/cpuinfo names it (Linux), else `default`."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return default


def load_average() -> str:
    """The 1, 5 and 15 minute load averages ("?" where the system has none): a shared machine's
    wall times follow its neighbours' load."""
    try:
        return ", ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def describe() -> str:
    """One line for a report: CPU, cores, Python, OS and the load average now."""
    cpu = cpu_name(platform.processor() or platform.machine())
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} "
            f"{platform.release()}; load average {load_average()} (shared machine: times are noisy)")


def facts() -> dict:
    """The machine as a record for a results file (torch's version and whether a GPU is there too)."""
    import torch

    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpu": cpu_name(), "cores": len(os.sched_getaffinity(0)), "avx2": " avx2 " in flags,
            "avx512": " avx512f " in flags, "memory_gib": round(mem_gib, 1), "python": platform.python_version(),
            "torch": torch.__version__, "gpu": torch.cuda.is_available(), "load_average": os.getloadavg()}
