"""Ctrl-C that cannot be lost.

Python turns SIGINT into a KeyboardInterrupt at the next bytecode, but one raised inside a
destructor (`__del__`, e.g. during garbage collection in a library) is printed and ignored, and
the command would run on and commit. The handler below also records the request, and the store
refuses to commit a transaction once one was made (`Project.transaction`), so a command that
was interrupted never writes, whatever swallowed the exception.
"""

from __future__ import annotations

import signal
import sys
import threading

# Process-wide by nature: a signal is delivered to the process, not to an object.
_requested = threading.Event()
# Set when this command's writes were committed: a Ctrl-C after that point must not claim that
# the project is as it was (the store sets it; `install`, at the start of each command, clears it).
_saved = threading.Event()


def _on_sigint(signum: int, frame: object) -> None:
    _requested.set()
    raise KeyboardInterrupt


def install() -> None:
    """Route SIGINT through the recording handler (main thread only, as `signal` requires), and
    keep Python from printing a traceback for a Ctrl-C it ignored in a destructor: the request is
    recorded and the command stops at its commit with the usual one-line message."""
    _saved.clear()
    if threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGINT, _on_sigint)
    if getattr(sys.unraisablehook, "_synth", False):
        return
    previous = sys.unraisablehook

    def hook(unraisable) -> None:
        if isinstance(unraisable.exc_value, KeyboardInterrupt) and _requested.is_set():
            return
        previous(unraisable)

    hook._synth = True  # type: ignore[attr-defined]
    sys.unraisablehook = hook


def requested() -> bool:
    return _requested.is_set()


def note_saved() -> None:
    """The store committed a change the command made (not a schema migration)."""
    _saved.set()


def saved() -> bool:
    return _saved.is_set()


def message() -> str:
    """What is true about the project when a Ctrl-C stops the command."""
    if saved():
        return ("Interrupted after this command had saved its changes: the project holds them "
                "(see `synth log` or `synth themes`); only what came after the save was skipped.")
    return "Interrupted: the project is as it was before this command."
