"""`synth discover --engine ray` runs its Ray driver in a forked child, watched by this process.

Why: when the Ray node the driver is attached to goes away mid-run (the head node of a joined
cluster stopping, a local cluster's raylet killed), Ray's core worker ends the driver's process
from C++ ("The connection to the plasma store is failed. Terminate the process."), below Python: no
exception, no message, exit status 1, the same status a refused command has. The project is safe
(discover writes in one transaction at its end) but the user would be told nothing. The child
says goodbye through a pipe whenever Python itself ends it (success, an error already reported,
Ctrl-C); a child that ends without that word was ended beneath Python, and the watcher says so in
one line.

The child runs in its own process group, so a Ctrl-C at the terminal reaches the watcher only,
which passes it on once (the child would otherwise get it twice: directly, and passed on).
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
from collections.abc import Callable

from ..errors import SynthError

WATCHED = "SYNTH_RAY_WATCHED"  # set in the child: a command it starts itself is not watched again
# Set by `synth.cli.main`, the program's entry: only a process that is synth's own may fork. A
# command invoked inside another program (a test's CliRunner, a notebook) runs unwatched.
may_fork = False


def watched(lost: Callable[[str], str]) -> None:
    """Forks: returns in the child (which runs the command), never in the watcher, which waits for
    the child and exits as it did, or raises SynthError(lost(how)) when the child was ended beneath
    Python. Does nothing where there is no fork (the command then runs unwatched)."""
    if not may_fork or not hasattr(os, "fork") or os.environ.get(WATCHED):
        return
    sys.stdout.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(read_end)
        os.environ[WATCHED] = "1"
        os.setpgid(0, 0)
        atexit.register(os.write, write_end, b"1")  # runs at any exit Python makes itself
        return
    os.close(write_end)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda received, frame: _pass_on(child, received))
    said = b""
    while chunk := os.read(read_end, 64):
        said += chunk
    os.close(read_end)
    _, status = os.waitpid(child, 0)
    code = os.waitstatus_to_exitcode(status)
    if said:
        sys.exit(code if code >= 0 else 128 - code)
    how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
    raise SynthError(lost(how))


def _pass_on(child: int, signum: int) -> None:
    try:
        os.kill(child, signum)
    except ProcessLookupError:
        pass
