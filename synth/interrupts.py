"""Ctrl-C that cannot be lost.

Python turns SIGINT into a KeyboardInterrupt at the next bytecode, but one raised inside a
destructor (`__del__`, e.g. during garbage collection in a library) is printed and ignored, and
the command would run on and commit. The handler below also records the request, and the store
refuses to commit a transaction once one was made (`Project.transaction`), so a command that
was interrupted never writes, whatever swallowed the exception.
"""

from __future__ import annotations

import signal
import threading

# Process-wide by nature: a signal is delivered to the process, not to an object.
_requested = threading.Event()


def _on_sigint(signum: int, frame: object) -> None:
    _requested.set()
    raise KeyboardInterrupt


def install() -> None:
    """Route SIGINT through the recording handler (main thread only, as `signal` requires)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _on_sigint)


def requested() -> bool:
    return _requested.is_set()
