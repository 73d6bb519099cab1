"""The `synth` command line. Each command parses options, opens the project, calls ONE library
function, and prints. A `SynthError` becomes a one-line message and a non-zero exit."""

from __future__ import annotations

import functools
import gc
import os
import sqlite3
import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import click

from .. import interrupts
from ..errors import SynthError
from ..store import Project, describe_sqlite_error

# No command may reach the network: models load from local folders only.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

EPILOG = """\b
Examples:
  synth ingest review.synth corpora/demo
  synth discover review.synth --seed 42
  synth themes review.synth
  synth export review.synth assignments -o assignments.csv
"""


class _OneLineErrors(click.Group):
    """Every error is one line, a mistyped command line too: click prints a usage error as the usage,
    a hint and the error (four lines); here it is the error and where to read the usage."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            if isinstance(exc, getattr(click.exceptions, "NoArgsIsHelpError", ())):  # bare `synth`: the help
                exc.show()
                sys.exit(exc.exit_code)
            where = f" (usage: `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
            click.echo(f"Error: {exc.format_message()}{where}", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(0)  # as click's standalone mode ends; `--help` and `--version` return here too


@click.group(cls=_OneLineErrors, epilog=EPILOG,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="synth")
def cli() -> None:
    """synth: find candidate themes in evidence-review sources and trace each to verbatim quotes.

    A review lives in one project file (e.g. review.synth), created by the first command that
    names it. Everything runs offline.
    """


def reports_errors(fn: Callable) -> Callable:
    """Turn synth's own errors into one clear line and exit status 1; Ctrl-C into status 130."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        interrupts.install()
        try:
            return fn(*args, **kwargs)
        except SynthError as exc:
            from .display import shown  # an error names files and values: print them terminal-safe

            raise click.ClickException(shown(exc)) from exc
        except sqlite3.Error as exc:  # the disk or the file failed outside a transaction (reading)
            from .display import shown

            why = describe_sqlite_error(exc)
            if why is None:
                raise
            raise click.ClickException(shown(f"{kwargs.get('project', 'project')}: {why}")) from exc
        except BrokenPipeError:  # `synth themes P | head`: the reader has gone; nothing to report
            # Python's documented recipe: point stdout at devnull so the exit flush does not fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
        except OSError as exc:  # a full disk or a file-size limit while writing an output file
            from .display import shown

            where = f"{exc.filename}: " if exc.filename else ""
            raise click.ClickException(shown(f"{where}{exc.strerror or exc}")) from exc
        except KeyboardInterrupt:
            click.echo(interrupts.message(), err=True)
            sys.exit(130)

    return wrapper


@contextmanager
def open_project(path: str | Path, *, create: bool = False, write: bool = True):
    """The project, for one command. A command that only reads passes write=False: it then never
    creates, migrates or writes the file, works on read-only files and folders, and does not wait
    for a command that is writing."""
    project = Project.open(path, create=create, write=write)
    try:
        yield project
    finally:
        project.close()


project_argument = click.argument("project", type=click.Path(dir_okay=False, path_type=Path))


def main() -> None:
    from . import ray_watch

    ray_watch.may_fork = True  # this process is synth itself: `discover --engine ray` may watch its driver
    try:
        cli(prog_name="synth")
    finally:
        # At exit the interpreter garbage-collects every object still alive; with PyTorch and spaCy
        # loaded that is millions of objects and about 0.6 s per command. Frozen objects are skipped
        # by those collections; atexit handlers and weakref finalizers still run.
        gc.freeze()


# Register the command modules (each adds its commands to `cli`).
from . import ingest, discover, themes, review, theme, log, export, report, codebook, passage, validate  # noqa: E402,F401
from . import scope, source, saturation, search  # noqa: E402,F401
