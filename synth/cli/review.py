"""`synth review`: the web app."""

from __future__ import annotations

import socket
import threading
import webbrowser
from pathlib import Path

import click

from ..errors import SynthError
from . import cli, project_argument, reports_errors
from .display import shown
from .theme import reviewer_option

LOOPBACK = ("127.0.0.1", "localhost")


@cli.command("review", epilog="""\b
Examples:
  synth review review.synth
  synth review review.synth --port 8800 --reviewer alice --no-browser
""")
@project_argument
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535), help="Port to serve on.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Keep the default unless you mean others on your network to reach it.")
@reviewer_option
@click.option("--no-browser", is_flag=True, help="Do not open a browser window.")
@reports_errors
def review_command(project: Path, port: int, host: str, reviewer: str, no_browser: bool) -> None:
    """Review PROJECT's themes in a web browser: accept, reject, rename, merge, split, move passages.

    Serves on 127.0.0.1 only, by default. Every change is recorded in the decision log
    (`synth log`), and a later `synth discover` keeps it.
    """
    import uvicorn

    from ..review.app import create_app

    hosts = LOOPBACK if host in LOOPBACK else (*LOOPBACK, host)
    app = create_app(project, reviewer=reviewer, allowed_hosts=hosts)
    sock = _bound(host, port)  # before saying where it serves: a port in use is an error, not a false address
    if host not in LOOPBACK:
        click.echo(f"warning: serving on {shown(host)}: anyone who can reach this address can change the review",
                   err=True)
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', *LOOPBACK) else host}:{port}/"
    click.echo(f"Reviewing {shown(project)} as {shown(reviewer)} at {shown(url)}  (Ctrl-C to stop)")
    if not no_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning")).run(sockets=[sock])


def _bound(host: str, port: int) -> socket.socket:
    """A socket bound to host:port, as uvicorn would bind it; a one-line error when it cannot be."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:  # in use, not this machine's address, or no such host
        raise SynthError(f"cannot serve on {host}:{port}: {exc.strerror or exc}; choose another --port or --host") from exc
    return sock
