"""One desktop app per user: the real app started twice (Qt's offscreen platform), the
second start hands over to the first (which brings its window forward) and ends with exit
code 0 without building a window or loading models; a crashed app's socket and lock do not
stop the next start."""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtNetwork", reason="PySide6's QtNetwork is not installed")

STARTED = "single instance: listening on"
BROUGHT_FORWARD = "another start asked for the window: brought it forward"
GAVE_UP = "vistavox.desktop.single_instance: cannot"  # no lock or no socket: fail at once
HANDED_OVER = "vistavox-desktop: Vistavox is already running: brought its window forward"
START_WITHIN = 240.0  # seconds; generous: two cores, QtWebEngine, the models loading


def _command() -> list[str]:
    script = Path(sys.executable).with_name("vistavox-desktop")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "vistavox.desktop.app"]


@pytest.fixture
def user(tmp_path):
    """A user of their own: config, data and runtime folders (the runtime folder short,
    for the socket's path, and private as XDG requires)."""
    runtime = Path(tempfile.mkdtemp(prefix="vv-run-"))
    runtime.chmod(0o700)
    config = tmp_path / "config" / "vistavox"
    config.mkdir(parents=True)
    (config / "settings.json").write_text(json.dumps({"welcomed": True}))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        QTWEBENGINE_DISABLE_SANDBOX="1",
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_RUNTIME_DIR=str(runtime),
        VISTAVOX_LOG_LEVEL="INFO",
    )
    yield {"env": env, "runtime": runtime, "db": tmp_path / "conversations.db", "cwd": tmp_path}
    for path in runtime.iterdir():
        path.unlink()
    runtime.rmdir()


class App:
    """A start of the desktop app whose standard error is read line by line."""

    def __init__(self, user: dict):
        self.proc = subprocess.Popen(
            [*_command(), "--db", str(user["db"])],
            env=user["env"],
            cwd=user["cwd"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)  # the end of the stream

    def wait_for(self, text: str, times: int = 1, timeout: float = START_WITHIN) -> str:
        """The ``times``-th line of the standard error containing ``text``."""
        found = [line for line in self.seen if text in line]
        if len(found) >= times:
            return found[times - 1]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=min(1.0, max(0.01, deadline - time.monotonic())))
            except queue.Empty:
                continue
            if line is None:
                break
            self.seen.append(line)
            if GAVE_UP in line:
                break
            if text in line:
                found.append(line)
                if len(found) >= times:
                    return line
        raise AssertionError(
            f"the app never said {text!r} (exit code {self.proc.poll()}); it said:\n"
            + "\n".join(self.seen[-40:])
        )

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(30)


def _second_start(user: dict) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_command(), "--db", str(user["db"])],
        env=user["env"],
        cwd=user["cwd"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=START_WITHIN,
    )


def _handed_over(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stderr
    assert HANDED_OVER in done.stderr.splitlines(), done.stderr
    # It built no window and loaded nothing: Vistavox said nothing else.
    ours = [line for line in done.stderr.splitlines() if re.search(r"(^| )vistavox\.", line)]
    assert ours == [], done.stderr


def test_a_second_start_brings_the_first_window_forward_and_exits(user):
    first = App(user)
    try:
        first.wait_for(STARTED)
        done = _second_start(user)
        _handed_over(done)
        first.wait_for(BROUGHT_FORWARD)
        assert first.proc.poll() is None, "the first app must keep running"
        # And again: the first app keeps listening.
        _handed_over(_second_start(user))
        first.wait_for(BROUGHT_FORWARD, times=2)
        assert first.proc.poll() is None
    finally:
        first.close()


def test_a_crashed_app_does_not_stop_the_next_start(user):
    crashed = App(user)
    try:
        line = crashed.wait_for(STARTED)
    finally:
        crashed.close()  # SIGKILL: no clean-up at all
    socket = Path(line.split(STARTED, 1)[1].strip())
    assert socket.parent == user["runtime"]
    assert socket.exists(), "a killed app leaves its socket behind"
    assert list(user["runtime"].glob("*.lock")), "and its lock file"

    after = App(user)
    try:
        after.wait_for(STARTED)  # it took over: listening on the same name again
        _handed_over(_second_start(user))
        after.wait_for(BROUGHT_FORWARD)
    finally:
        after.close()
