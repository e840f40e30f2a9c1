"""The desktop app under test: a virtual X screen, and the real app as a subprocess driven
through tests/desktop_driver.py (commands in, events out)."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class ScreenUnavailable(RuntimeError):
    pass


class VirtualScreen:
    """Xvfb at 24-bit colour (QtWebEngine fails at 16); ``name`` None: the first free
    display (Xvfb picks it, and says so once it is ready)."""

    def __init__(self, name: str | None = ":87", size: str = "1600x1000"):
        self.name, self.size = name, size
        self.proc: subprocess.Popen | None = None

    def start(self) -> VirtualScreen:
        if shutil.which("Xvfb") is None:
            raise ScreenUnavailable("Xvfb is not installed (packaging/setup.sh test installs it)")
        options = ["-screen", "0", f"{self.size}x24", "-nolisten", "tcp", "-noreset"]
        if self.name is None:
            return self._start_on_a_free_display(options)
        self.proc = subprocess.Popen(
            ["Xvfb", self.name, *options], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(1.0)
        if self.proc.poll() is not None:
            raise ScreenUnavailable(f"Xvfb did not start on {self.name}")
        return self

    def _start_on_a_free_display(self, options: list[str]) -> VirtualScreen:
        read, write = os.pipe()
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write), *options],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(write,),
        )
        os.close(write)
        with os.fdopen(read) as told:
            number = told.readline().strip()  # written once the server is ready
        if not number.isdigit():
            self.proc.kill()
            self.proc.wait()
            raise ScreenUnavailable("Xvfb did not start on a free display")
        self.name = f":{number}"
        return self

    def close(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)


def app_env(display: str, home: Path, config: dict[str, dict] | None = None) -> dict[str, str]:
    """The environment of an app on ``display`` whose user folders are under ``home``; each
    ``config`` entry (file name → JSON) is written into its config folder first."""
    folder = home / "config" / "vistavox"
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in (config or {}).items():
        (folder / name).write_text(json.dumps(content))
    return {
        **os.environ,
        "DISPLAY": display,
        "QT_QPA_PLATFORM": "xcb",
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "QTWEBENGINE_DISABLE_SANDBOX": "1",
    }


class AppDidNotShow(AssertionError):
    pass


class App:
    """The app as a subprocess, with its event stream."""

    def __init__(
        self, env: dict[str, str], db: Path, log: Path, *, own_process_group: bool = False
    ):
        """``own_process_group``: the app leads a process group, as a program started from
        a terminal does (Ctrl+C there signals the whole group)."""
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.desktop_driver", "--db", str(db)],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=open(log, "w"),  # noqa: SIM115
            text=True,
            process_group=0 if own_process_group else None,
        )
        self.lines: queue.Queue[dict] = queue.Queue()
        self.seen: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            try:
                self.lines.put(json.loads(line))
            except ValueError:
                continue

    def do(self, command: str, **fields) -> None:
        self.proc.stdin.write(json.dumps({"do": command, **fields}) + "\n")
        self.proc.stdin.flush()

    def wait(self, predicate, timeout: float, what: str, after: int = 0) -> dict:
        """The first item (from the ``after``-th seen on) that ``predicate`` accepts."""
        deadline = time.monotonic() + timeout
        for item in self.seen[after:]:
            if predicate(item):
                return item
        while time.monotonic() < deadline:
            try:
                item = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            item["t"] = time.monotonic() - self.started
            self.seen.append(item)
            if item.get("type") == "EngineError":
                print("app error:", item.get("message"), file=sys.stderr)
            if predicate(item):
                return item
        raise AppDidNotShow(f"the app never showed {what} (exit code {self.proc.poll()})")

    def request(self, command: str, reply: str, timeout: float = 10.0, **fields) -> dict:
        """Send ``command`` and wait for the driver's next item of kind ``reply``."""
        start = len(self.seen)
        self.do(command, **fields)
        return self.wait(lambda i: i.get("kind") == reply, timeout, reply, after=start)

    def poll(self, command: str, reply: str, accept, what: str, timeout: float = 30.0) -> dict:
        """Send ``command`` again and again until its ``reply`` is one that ``accept`` takes."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.request(command, reply)
            if accept(state):
                return state
            if time.monotonic() > deadline:
                raise AppDidNotShow(f"the app never showed {what} (last: {state})")
            time.sleep(0.1)

    def event(self, name: str, timeout: float = 60.0, **match) -> dict:
        return self.wait(
            lambda i: i.get("type") == name and all(i.get(k) == v for k, v in match.items()),
            timeout,
            name,
        )
