"""The project file under stress: two commands at once, a damaged file, a full disk or a file-size
limit, read-only files and folders, empty or missing files. Every case runs the real CLI in real
processes on real project files, and checks the one-line message and that nothing was written."""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from conftest import DEMO, file_digest
from export_fixture import build_review_project
from synth.store import Project

ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1"}
CLI = [sys.executable, "-c", "from synth.cli import main; main()"]


def run(*args: str | Path, preexec=None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, env=ENV, timeout=timeout,
                          preexec_fn=preexec)


def one_line_error(result: subprocess.CompletedProcess, *words: str) -> str:
    """The command failed with exactly one line on stderr that holds every word."""
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def write_sources(folder: Path, n: int = 3, sentences: int = 6) -> Path:
    folder.mkdir()
    for i in range(n):
        text = "\n\n".join(f"Interview {i}, answer {j}: the outreach worker in the community centre helped me "
                           f"find work, although childcare and transport were hard in week {j}."
                           for j in range(sentences))
        (folder / f"interview_{i}.txt").write_text(text + "\n", encoding="utf-8")
    return folder


def snapshot(project: Path) -> dict:
    """The project's bytes: the file, and its WAL's content (a reader may leave SQLite's empty
    WAL and its index beside the file; an empty WAL is the same as none)."""
    wal = Path(str(project) + "-wal")
    return {"db": file_digest(project), "wal": wal.read_bytes() if wal.exists() and wal.stat().st_size else b"",
            "journal": Path(str(project) + "-journal").exists()}


# --- two commands at once (a writer lock per project) ----------------------------------------------

# Runs the real CLI, holding at one stage until the test creates the file named in HOLD_UNTIL.
HELD_CHILD = r"""
import os, sys, time
from pathlib import Path
release = Path(os.environ["HOLD_UNTIL"])

def hold():
    print("HOLDING", file=sys.stderr, flush=True)
    while not release.exists():
        time.sleep(0.05)

import synth.ingest as ingest
segment_many = ingest.segment_many
def held_segment_many(*args, **kwargs):
    hold()
    return segment_many(*args, **kwargs)
ingest.segment_many = held_segment_many

import synth.discover as discover
cluster = discover.cluster_passages
def held_cluster(*args, **kwargs):
    hold()
    return cluster(*args, **kwargs)
discover.cluster_passages = held_cluster

from synth.cli import main
sys.argv = ["synth", *sys.argv[1:]]
main()
"""


class Held:
    """A real `synth` command in a child process, stopped in the middle of its work."""

    def __init__(self, tmp_path: Path, *args: str | Path) -> None:
        self.release = tmp_path / "release"
        self.proc = subprocess.Popen([sys.executable, "-c", HELD_CHILD, *map(str, args)], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env={**ENV, "HOLD_UNTIL": str(self.release)})
        self.stderr: list[str] = []
        holding = threading.Event()

        def read() -> None:
            for line in self.proc.stderr:
                self.stderr.append(line)
                if line.strip() == "HOLDING":
                    holding.set()

        self.reader = threading.Thread(target=read, daemon=True)
        self.reader.start()
        if not holding.wait(240):
            self.proc.kill()
            raise AssertionError(f"the command never reached its held stage: {''.join(self.stderr)}")

    def finish(self) -> tuple[int, str, str]:
        self.release.touch()
        out, _ = self.proc.communicate(timeout=300)
        self.reader.join(timeout=10)
        return self.proc.returncode, out, "".join(self.stderr)


def test_two_ingests_of_one_folder_store_each_source_once(tmp_path):
    folder = write_sources(tmp_path / "interviews")
    project = tmp_path / "review.synth"
    first = Held(tmp_path, "ingest", project, folder)  # has read the folder, about to write
    try:
        second = run("ingest", project, folder)
        message = one_line_error(second, str(project), "another synth command is writing this project",
                                 f"pid {first.proc.pid}", "try again")
        assert message.startswith("Error: ")
        # Readers keep working while the writer works.
        assert run("log", project).returncode == 0
    finally:
        code, out, err = first.finish()
    assert code == 0, err
    assert out.count("added literature") == 3
    with Project.open(project, write=False) as proj:
        assert sorted(s.name for s in proj.sources()) == ["interview_0.txt", "interview_1.txt", "interview_2.txt"]
    # Afterwards the lock is free again, and the folder is recognised as unchanged.
    assert "unchanged, nothing to do: 3 source(s)" in run("ingest", project, folder).stdout


@pytest.mark.slow
def test_two_first_discovers_make_one_set_of_themes(tmp_path, synth):
    project = tmp_path / "review.synth"
    synth.ok("ingest", project, DEMO)
    first = Held(tmp_path, "discover", project)  # embedded, about to cluster and write
    try:
        second = run("discover", project)
        one_line_error(second, "another synth command is writing this project", f"pid {first.proc.pid}")
        assert run("themes", project).returncode == 0
    finally:
        code, out, err = first.finish()
    assert code == 0, err
    with Project.open(project, write=False) as proj:
        themes = proj.themes()
        assert themes and all(t.size > 0 for t in themes)
        assert len({t.label for t in themes}) == len(themes)
        assert len(proj.db.execute("SELECT id FROM runs").fetchall()) == 1


LOCK_HOLDER = r"""
import sys, time
from synth.store import Project
project = Project.open(sys.argv[1], create=False)
print("HOLDING", flush=True)
sys.stdin.read()
project.close()
"""


@pytest.mark.anyio
async def test_review_app_reads_while_a_command_writes_and_says_why_it_cannot_save(tmp_path):
    import httpx
    import re

    from synth.review.app import create_app

    built = build_review_project(tmp_path / "review.synth")
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(built.path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=ENV)
    try:
        assert holder.stdout.readline().strip() == "HOLDING"
        app = create_app(built.path, reviewer="ana")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
            page = await client.get("/")
            assert page.status_code == 200
            token = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text).group(1)
            theme = built.theme_ids["Local labour market"]
            started = time.monotonic()
            r = await client.post(f"/themes/{theme}/accept", data={"csrf_token": token},
                                  headers={"accept": "application/json"})
            assert r.status_code == 503, r.text
            assert f"another synth command is writing this project (pid {holder.pid})" in r.json()["error"]
            assert time.monotonic() - started < 20
        accept = run("theme", "accept", built.path, str(theme))
        one_line_error(accept, "another synth command is writing", f"pid {holder.pid}")
        assert run("themes", built.path).returncode == 0
    finally:
        holder.communicate("", timeout=60)
    with Project.open(built.path, write=False) as proj:
        assert proj.theme(theme).status == "suggested"
    assert run("theme", "accept", built.path, str(theme)).returncode == 0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --- a damaged project file --------------------------------------------------------------------------

def corrupt_table(project: Path, table: str) -> None:
    """Overwrite the start of `table`'s root page (its b-tree header) with garbage, keeping the
    file's times as they were: the damage must be found by its bytes, not by a timestamp."""
    with sqlite3.connect(project) as db:
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    db.close()
    before = os.stat(project)
    with project.open("r+b") as fh:
        fh.seek((root - 1) * page_size)
        fh.write(b"\xff" * 12)
    os.utime(project, ns=(before.st_atime_ns, before.st_mtime_ns))


@pytest.mark.parametrize("table", ["passages", "memberships", "decisions"])
def test_a_damaged_project_is_neither_read_nor_written(tmp_path, table):
    built = build_review_project(tmp_path / "review.synth")
    folder = write_sources(tmp_path / "more")
    corrupt_table(built.path, table)
    before = snapshot(built.path)
    theme = str(built.theme_ids["Local labour market"])
    for args in (("themes", built.path), ("log", built.path), ("export", built.path, "assignments", "-o", tmp_path / "a.csv"),
                 ("report", built.path, "-o", tmp_path / "r.html"), ("theme", "accept", built.path, theme),
                 ("ingest", built.path, folder), ("discover", built.path)):
        one_line_error(run(*args), str(built.path), "is damaged", "restore it from a backup")
        assert snapshot(built.path) == before, args
    assert not (tmp_path / "a.csv").exists() and not (tmp_path / "r.html").exists()


@pytest.mark.anyio
async def test_review_app_refuses_a_damaged_project(tmp_path):
    import httpx

    from synth.errors import ProjectError
    from synth.review.app import create_app

    built = build_review_project(tmp_path / "review.synth")
    app = create_app(built.path, reviewer="ana")
    corrupt_table(built.path, "themes")  # damaged while the app runs
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
        r = await client.get("/")
    assert r.status_code == 503 and "is damaged" in r.text
    with pytest.raises(ProjectError, match="is damaged"):
        create_app(built.path, reviewer="ana")


def test_an_unchanged_project_is_not_checked_again(tmp_path, monkeypatch):
    """The integrity check reads the whole file (seconds at 100,000 passages): a file exactly as
    the last synth command left it is not checked again, any other is."""
    built = build_review_project(tmp_path / "review.synth")
    checks = []
    original = Project._check_integrity

    def counting(self):
        checks.append(self.writable)
        original(self)

    monkeypatch.setattr(Project, "_check_integrity", counting)
    with Project.open(built.path, write=False) as proj:
        assert proj.themes()
    with Project.open(built.path, create=False) as proj:
        proj.update_theme(built.theme_ids["Childcare"], definition="changed")
    with Project.open(built.path, write=False):
        pass
    assert checks == [False, True, False]
    from synth.projectlock import file_state, verified_state

    assert verified_state(built.path) == file_state(built.path)
    os.utime(built.path)  # touched by something else: checked again
    assert verified_state(built.path) != file_state(built.path)


# --- empty, missing and foreign files ------------------------------------------------------------------

@pytest.mark.parametrize("args", [("themes",), ("log",), ("export", "{p}", "assignments", "-o", "{d}/a.csv"),
                                  ("report", "{p}", "-o", "{d}/r.html"), ("theme", "accept", "{p}", "1"),
                                  ("discover",), ("codebook", "import", "{p}", "{d}/codes.csv")])
def test_read_and_review_commands_never_make_a_project(tmp_path, synth, args):
    (tmp_path / "codes.csv").write_text("name\nStaffing\n", encoding="utf-8")

    def argv(p: Path) -> list[str]:
        if len(args) == 1:
            return [args[0], str(p)]
        return [a.format(p=p, d=tmp_path) for a in args]

    missing = tmp_path / "missing.synth"
    result = synth(*argv(missing))
    assert result.exit_code == 1 and "no such project file" in result.output
    assert not missing.exists() and not Path(str(missing) + ".lock").exists()

    empty = tmp_path / "empty.synth"
    empty.touch()
    result = synth(*argv(empty))
    assert result.exit_code == 1 and "is empty (0 bytes)" in result.output, result.output
    assert empty.stat().st_size == 0 and not Path(str(empty) + "-wal").exists()


def test_ingest_makes_a_project_of_an_empty_file(tmp_path, synth):
    empty = tmp_path / "new.synth"
    empty.touch()
    synth.ok("ingest", empty, write_sources(tmp_path / "in"))
    with Project.open(empty, write=False) as proj:
        assert len(proj.sources()) == 3


# --- a full disk, or a file-size limit ---------------------------------------------------------------

def file_size_limit(limit: int):
    def preexec() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return preexec


def test_ingest_past_a_file_size_limit_says_so_and_saves_nothing(tmp_path, synth):
    project = tmp_path / "review.synth"
    synth.ok("ingest", project, write_sources(tmp_path / "first", n=1, sentences=2))
    before = snapshot(project)
    big = write_sources(tmp_path / "big", n=20, sentences=60)  # several hundred KB of passages
    result = run("ingest", project, big, preexec=file_size_limit(200_000))
    message = one_line_error(result, str(project), "nothing was saved")
    assert "cannot rollback" not in message and "file-size limit" in message
    assert file_digest(project) == before["db"]
    with Project.open(project, write=False) as proj:
        assert len(proj.sources()) == 1
    # Later, with room, the same command works.
    assert "added literature" in run("ingest", project, big).stdout


def test_a_first_ingest_past_the_limit_leaves_no_project(tmp_path):
    project = tmp_path / "review.synth"
    big = write_sources(tmp_path / "big", n=20, sentences=60)
    one_line_error(run("ingest", project, big, preexec=file_size_limit(150_000)), "nothing was saved")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big"]


# The report is small (~40 KB, no scripts): a long title makes it larger than the limit, which must stay
# above SQLite's 32 KB WAL index that reading the project writes.
@pytest.mark.parametrize("args", [("report", "{p}", "--title", "T" * 60_000, "-o", "{d}/report.html"),
                                  ("export", "{p}", "assignments", "-o", "{d}/assignments.csv")])
def test_exports_past_a_file_size_limit_say_so_and_leave_nothing(tmp_path, synth, args):
    built = build_review_project(tmp_path / "review.synth")
    synth.ok("ingest", built.path, write_sources(tmp_path / "more", n=20, sentences=30))  # ~200 KB of passages
    assert run("themes", built.path).returncode == 0  # leaves SQLite's 32 KB WAL index, as any reader does
    before = snapshot(built.path)
    listing = sorted(p.name for p in tmp_path.iterdir())
    argv = [a.format(p=built.path, d=tmp_path) for a in args]
    message = one_line_error(run(*argv, preexec=file_size_limit(40_000)), argv[-1])
    assert "File too large" in message and "nothing was written" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == listing
    assert snapshot(built.path) == before


# --- read-only files and folders ---------------------------------------------------------------------

def _drop_root_override() -> None:
    """Root ignores file permissions; without these two capabilities it obeys them like anyone."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP: gone for the exec'd program
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


@pytest.fixture
def as_user(tmp_path):
    """A preexec_fn under which the child obeys file permissions, or a skip saying why there is none."""
    preexec = _drop_root_override if os.geteuid() == 0 else None
    probe = tmp_path / "probe"
    probe.write_text("x")
    probe.chmod(0o444)
    try:
        result = subprocess.run([sys.executable, "-c", f"open({str(probe)!r}, 'a')"], preexec_fn=preexec,
                                capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot run a child that obeys file permissions here: {exc}")
    finally:
        probe.chmod(0o644)
        probe.unlink()
    if "PermissionError" not in result.stderr:
        pytest.skip("this machine lets the child write a read-only file (root without a way to drop that)")
    return preexec


def _review_app_script(project: Path, theme: int) -> str:
    return textwrap.dedent(f"""
        import asyncio, re, httpx
        from synth.review.app import create_app
        async def main():
            app = create_app({str(project)!r}, reviewer="ana")
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as c:
                page = await c.get("/")
                token = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text).group(1)
                r = await c.post("/themes/{theme}/accept", data={{"csrf_token": token}}, headers={{"accept": "application/json"}})
                print(page.status_code, (await c.get("/themes/{theme}")).status_code, r.status_code, r.json()["error"])
        asyncio.run(main())
    """)


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_read_only_project_is_read_and_never_written(tmp_path, as_user, what):
    folder = tmp_path / "project"
    folder.mkdir()
    built = build_review_project(folder / "review.synth")
    sources = write_sources(tmp_path / "more")
    (tmp_path / "codes.csv").write_text("name\nStaffing\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    target = built.path if what == "file" else folder
    mode = target.stat().st_mode
    target.chmod(0o555 if what == "folder" else 0o444)
    try:
        before = snapshot(built.path)
        listing = sorted(p.name for p in folder.iterdir())

        def same_files() -> bool:  # SQLite's WAL index and an empty WAL may appear beside a readable file
            return [n for n in sorted(p.name for p in folder.iterdir()) if n not in listing] in (
                [], ["review.synth-shm", "review.synth-wal"])

        themes = run("themes", built.path, preexec=as_user)
        assert themes.returncode == 0 and "Language barriers" in themes.stdout, themes.stderr
        assert run("log", built.path, preexec=as_user).returncode == 0
        for args in (("export", built.path, "assignments", "-o", out / "a.csv"), ("report", built.path, "-o", out / "r.html")):
            result = run(*args, preexec=as_user)
            assert result.returncode == 0, result.stderr
        theme = str(built.theme_ids["Local labour market"])
        for args in (("theme", "accept", built.path, theme), ("ingest", built.path, sources), ("discover", built.path),
                     ("codebook", "import", built.path, tmp_path / "codes.csv")):
            one_line_error(run(*args, preexec=as_user), str(built.path), "read-only" if what == "file" else "folder")
        app = subprocess.run([sys.executable, "-c", _review_app_script(built.path, int(theme))], preexec_fn=as_user,
                             capture_output=True, text=True, env=ENV, timeout=300)
        assert app.returncode == 0, app.stderr
        pages, page, action, error = app.stdout.split(" ", 3)
        assert (pages, page, action) == ("200", "200", "400") and "read-only" in error, app.stdout
        assert snapshot(built.path) == before
        assert same_files()
        assert set(listing) <= {p.name for p in folder.iterdir()}
    finally:
        target.chmod(mode)
