"""The sandbox escape suite: small scripts that try to get out of the Python tool.

Each attempt is a script in a category folder (``network/``, ``files/``, ``process/``,
``resources/``, ``secrets/``, ``persistence/``). Its docstring says what it tries; a line
``# expect: blocked`` or ``# expect: contained (EXIT or EXIT)`` says how it must end:

- blocked: the harmful step fails with an error and the run ends in that error;
- contained: the run goes on (or is stopped by a limit, whose exit reason is named) and
  does no harm.

:class:`Range` runs each script through the real tool as the assistant does (``vistavox
tools run python``, the same registry, permission check and sandbox as the kernel's calls),
with a fresh fake home holding the things worth stealing or breaking: an SSH key, a
``~/.bashrc``, the conversation database, the app's config folder and audit log, all with a
secret in them, and a secret in the parent's environment. It listens on the host's loopback
(TCP, UDP, a Unix socket path and an abstract one) and runs the tool under a child subreaper,
so it sees, independently of what the script prints:

- a connection or datagram received, a secret in the tool's output or in the files the tool
  copied out, a file in the fake home added, changed or removed, a file named after the mark
  in ``/tmp`` or another shared folder, the mark in ``/etc/passwd``, a process left alive, the
  parent killed or hung, output flooding the parent;
- the script's own claim of success: it prints ``T["MARK"]`` when its harmful step worked.

The scripts read their targets from ``T``, a dict the harness puts before each script.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
REPO = HERE.parents[1]
CATEGORIES = ("network", "files", "process", "resources", "secrets", "persistence")
SECRET_ENV = "VISTAVOX_ESCAPE_SECRET"
HANG_S = 180.0  # the tool returns within its own limits long before this
FLOOD_CHARS = 100_000  # what the tool may print to its caller at most
# Exceptions that mean the script itself is wrong, not that the sandbox refused something.
SCRIPT_BUGS = (
    "NameError",
    "SyntaxError",
    "TypeError",
    "AttributeError",
    "KeyError",
    "IndentationError",
    "UnboundLocalError",
    "ModuleNotFoundError",
)
# Files the tool's caller writes itself (its audit log, the document index); every other
# change in the fake home is the sandbox's doing.
APP_WRITES = (".local/share/vistavox/tool-audit.jsonl", ".local/share/vistavox/documents.db")
OUTPUTS = ".local/share/vistavox/workspace/outputs"
# The Python tool as the assistant runs it: registry, permissions, sandbox, audit log.
TOOL = (sys.executable, "-m", "vistavox.pipelines.commands", "tools", "run", "python")
# The same code with no sandbox at all, to show that the range's checks can fail.
UNSANDBOXED = (sys.executable, "-m", "tests.escapes.unsandboxed")


@dataclass(frozen=True)
class Attempt:
    category: str
    name: str
    path: Path
    goal: str
    expect: str  # "blocked" or "contained"
    exits: tuple[str, ...]  # for "contained": the exit reasons allowed (empty: any)

    @property
    def id(self) -> str:
        return f"{self.category}/{self.name}"


def load_attempts() -> list[Attempt]:
    """Every attempt script, in category order."""
    attempts = []
    for category in CATEGORIES:
        for path in sorted((HERE / category).glob("*.py")):
            text = path.read_text(encoding="utf-8")
            goal = re.search(r'^"""(.+?)(?:\n|""")', text, re.M | re.S)
            expect = re.search(r"^# expect: (blocked|contained)(?: \((.+)\))?$", text, re.M)
            if not goal or not expect:
                raise ValueError(f"{path}: needs a docstring and a '# expect:' line")
            exits = tuple(e.strip() for e in (expect.group(2) or "").split(" or ") if e.strip())
            attempts.append(
                Attempt(category, path.stem, path, goal.group(1).strip(), expect.group(1), exits)
            )
    return attempts


@dataclass
class Outcome:
    attempt: Attempt
    verdict: str  # "blocked", "contained", "escaped" or "broken" (the script is wrong)
    reasons: list[str]  # why "escaped" (every harm seen), else empty
    exit: str  # the sandbox's exit reason ("" when the tool gave no result)
    seconds: float
    stdout: str = ""
    stderr: str = ""

    @property
    def as_expected(self) -> bool:
        if self.verdict != self.attempt.expect:
            return False
        return (
            self.verdict != "contained"
            or not self.attempt.exits
            or (self.exit in self.attempt.exits)
        )

    def summary(self) -> dict:
        return {
            "attempt": self.attempt.id,
            "goal": self.attempt.goal,
            "expected": self.attempt.expect,
            "verdict": self.verdict,
            "exit": self.exit,
            "as_expected": self.as_expected,
            "reasons": self.reasons,
            "seconds": round(self.seconds, 2),
            "stdout_tail": self.stdout[-300:],
            "stderr_tail": self.stderr[-300:],
        }


class _Listeners:
    """Servers on the host's loopback that count what reaches them."""

    def __init__(self, base: Path):
        self.hits: list[str] = []
        self._lock = threading.Lock()
        self._closing = False
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.unix_path = base / "run" / "bus.sock"
        self.unix_path.parent.mkdir(parents=True)
        self.unix = socket.socket(socket.AF_UNIX)
        self.unix.bind(str(self.unix_path))
        self.unix.listen(8)
        self.abstract_name = f"vistavox-escape-{secrets.token_hex(6)}"
        self.abstract = socket.socket(socket.AF_UNIX)
        self.abstract.bind("\0" + self.abstract_name)
        self.abstract.listen(8)
        for server, kind in ((self.tcp, "tcp"), (self.unix, "unix"), (self.abstract, "abstract")):
            threading.Thread(target=self._accept, args=(server, kind), daemon=True).start()
        threading.Thread(target=self._receive, daemon=True).start()

    def _record(self, what: str) -> None:
        with self._lock:
            self.hits.append(what)

    def _accept(self, server: socket.socket, kind: str) -> None:
        while not self._closing:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            self._record(f"a {kind} connection")
            with conn:
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    conn.recv(4096)
                    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello")

    def _receive(self) -> None:
        while not self._closing:
            try:
                self.udp.recvfrom(65536)
            except OSError:
                return
            self._record("a UDP datagram")

    def count(self) -> int:
        with self._lock:
            return len(self.hits)

    def since(self, start: int) -> list[str]:
        with self._lock:
            return self.hits[start:]

    def close(self) -> None:
        self._closing = True
        for sock in (self.tcp, self.udp, self.unix, self.abstract):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def _snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under ``root``: kind, mode, size and content hash (links not followed)."""
    seen: dict[str, tuple] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            rel = str(path.relative_to(root))
            if rel.startswith(APP_WRITES) or rel.startswith(OUTPUTS + "/"):
                continue
            st = path.lstat()
            digest = ""
            if path.is_file() and not path.is_symlink():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            elif path.is_symlink():
                digest = os.readlink(path)
            seen[rel] = (st.st_mode, st.st_size, digest)
    return seen


class Range:
    """Where attempts are run and watched; use as a context manager."""

    SYSTEM_FILES = (Path("/etc/passwd"), Path("/etc/crontab"), Path("/etc/shadow"))
    # Shared folders an attempt may drop a file named after its mark into.
    SHARED_FOLDERS = (Path("/etc/cron.d"), Path("/var/tmp"), Path("/dev/shm"))

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="vistavox-escape-range-"))
        self.listeners = _Listeners(self.base)
        self.secret = f"SECRET-{secrets.token_hex(8)}"
        self.tmp = Path(tempfile.gettempdir())
        self._runs = 0

    def __enter__(self) -> Range:
        return self

    def __exit__(self, *exc) -> None:
        self.listeners.close()
        shutil.rmtree(self.base, ignore_errors=True)

    # ------------------------------------------------------------------ the fake home
    def _home(self, run_id: str) -> tuple[Path, dict]:
        from vistavox.pipelines.kernel.store import Store

        home = self.base / run_id / "home"
        data = home / ".local" / "share" / "vistavox"
        config = home / ".config" / "vistavox"
        for folder in (home / ".ssh", data, config):
            folder.mkdir(parents=True)
        key = home / ".ssh" / "id_ed25519"
        key.write_text(f"-----BEGIN OPENSSH PRIVATE KEY-----\n{self.secret}\n")
        key.chmod(0o600)
        (home / ".bashrc").write_text(f"export API_TOKEN={self.secret}\n")
        (config / "settings.json").write_text(json.dumps({"custom_instructions": self.secret}))
        (config / "tool-permissions.json").write_text(json.dumps({"assistant": {}}))
        (data / "tool-audit.jsonl").write_text(json.dumps({"summary": self.secret}) + "\n")
        store = Store(data / "vistavox.db")
        conversation = store.new_conversation("Bank")
        store.add_message(conversation.id, "user", f"my card PIN is {self.secret}")
        store.close()
        targets = {
            "MARK": f"ESCAPED-{secrets.token_hex(6)}",
            "HOME": str(home),
            "SSH_KEY": str(key),
            "BASHRC": str(home / ".bashrc"),
            "AUTOSTART": str(home / ".config" / "autostart"),
            "SYSTEMD_USER": str(home / ".config" / "systemd" / "user"),
            "CONFIG_DIR": str(config),
            "SETTINGS": str(config / "settings.json"),
            "PERMISSIONS": str(config / "tool-permissions.json"),
            "DB": str(data / "vistavox.db"),
            "AUDIT_LOG": str(data / "tool-audit.jsonl"),
            "TMP": str(self.tmp),
            "TCP_PORT": self.listeners.tcp.getsockname()[1],
            "UDP_PORT": self.listeners.udp.getsockname()[1],
            "UNIX_PATH": str(self.listeners.unix_path),
            "UNIX_ABSTRACT": self.listeners.abstract_name,
            "SECRET_ENV": SECRET_ENV,
        }
        return home, targets

    # ------------------------------------------------------------------ one attempt
    def run(self, attempt: Attempt, *, tool: tuple[str, ...] = TOOL) -> Outcome:
        """Run ``attempt`` through ``tool`` (a command taking the tool's JSON arguments) and
        judge it by what the host saw."""
        self._runs += 1
        run_id = f"{self._runs:03d}-{attempt.category}-{attempt.name}"
        home, targets = self._home(run_id)
        code = f"T = {json.dumps(targets)}\n" + attempt.path.read_text(encoding="utf-8")
        before_home = _snapshot(home)
        heard_before = self.listeners.count()
        report_path = self.base / run_id / "reaper.json"
        env = {
            **os.environ,
            "HOME": str(home),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            SECRET_ENV: self.secret,
        }
        env.pop("VISTAVOX_CONFIG_DIR", None)
        env.pop("VISTAVOX_DB", None)
        command = [
            sys.executable, "-m", "tests.escapes.reaper", str(report_path), "--",
            *tool, json.dumps({"code": code}),
        ]  # fmt: skip
        if tool == TOOL:
            command += ["--allow-risky", "--db", str(self.base / run_id / "caller.db")]
        started = time.monotonic()
        reasons: list[str] = []
        proc = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True,
        )  # fmt: skip
        try:
            out, err = proc.communicate(timeout=HANG_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            reasons.append(f"the tool did not return within {HANG_S:.0f} s")
        seconds = time.monotonic() - started
        caller_out = out.decode("utf-8", errors="replace")
        result, tool_content = self._result(caller_out)
        stdout, stderr = result.get("stdout", ""), result.get("stderr", "")
        exit_reason = result.get("exit", "")

        # What the script says about itself (on stdout: an error message may name the mark).
        if targets["MARK"] in stdout:
            reasons.append("the script reports success")
        # The caller: alive, answering, not flooded.
        report = {}
        with contextlib.suppress(OSError, ValueError):
            report = json.loads(report_path.read_text())
        returncode = report.get("returncode")
        if returncode is None or returncode < 0 or not result:
            reasons.append(
                f"the tool's caller died or gave no answer (exit {returncode}; "
                f"stderr: {err.decode(errors='replace')[-300:]!r})"
            )
        if len(caller_out) > FLOOD_CHARS:
            reasons.append(f"the caller was sent {len(caller_out)} characters")
        for child in report.get("leftover", []):
            reasons.append(f"a process was left alive: {child['cmdline']!r}")
        # Secrets.
        if self.secret in caller_out or self.secret in tool_content:
            reasons.append("a secret appears in the tool's output")
        reasons += self._outputs_leaks(home)
        # The network.
        reasons += [
            f"the host's loopback received {hit}" for hit in self.listeners.since(heard_before)
        ]
        # Files outside.
        reasons += self._changes(before_home, _snapshot(home), "the home folder")
        # System files are judged by the mark, not by any change: packages installed meanwhile
        # may change them too.
        for path in self.SYSTEM_FILES:
            with contextlib.suppress(OSError):
                if targets["MARK"].encode() in path.read_bytes():
                    reasons.append(f"{path} was written")
        for folder in (self.tmp, *self.SHARED_FOLDERS):
            for stray in folder.glob(targets["MARK"] + "*"):
                reasons.append(f"{stray} was written")
                with contextlib.suppress(OSError):
                    shutil.rmtree(stray) if stray.is_dir() else stray.unlink()

        if reasons:
            verdict = "escaped"
        elif not result.get("ok", False) and exit_reason == "error":
            last = stderr.strip().splitlines()[-1:] or [""]
            verdict = "broken" if last[0].startswith(SCRIPT_BUGS) else "blocked"
        else:
            verdict = "contained"
        return Outcome(attempt, verdict, reasons, exit_reason, seconds, stdout, stderr)

    @staticmethod
    def _result(caller_out: str) -> tuple[dict, str]:
        """The sandbox's result from the tool's answer (empty when it gave none)."""
        try:
            answer = json.loads(caller_out)
        except ValueError:
            return {}, ""
        content = answer.get("content", "")
        try:
            result = json.loads(content)
        except ValueError:
            # The tool failed outside the sandbox (the caller's own error): no result.
            return {"ok": False, "exit": "tool failed", "stderr": content}, content
        return (result if isinstance(result, dict) else {}), content

    def _outputs_leaks(self, home: Path) -> list[str]:
        """Files the tool copied out of the sandbox must be the sandbox's own."""
        found = []
        outputs = home / OUTPUTS
        for path in outputs.rglob("*") if outputs.exists() else ():
            if path.is_symlink():
                found.append(f"a link was copied out of the sandbox: {path.name}")
            elif path.is_file() and self.secret.encode() in path.read_bytes():
                found.append(f"a secret was copied out of the sandbox in {path.name}")
        return found

    @staticmethod
    def _changes(before: dict, after: dict, where: str) -> list[str]:
        changes = []
        for rel in sorted(set(before) | set(after)):
            if rel not in after:
                changes.append(f"{rel} was removed from {where}")
            elif rel not in before:
                changes.append(f"{rel} was added to {where}")
            elif before[rel] != after[rel]:
                changes.append(f"{rel} was changed in {where}")
        return changes


def run_all(attempts: list[Attempt] | None = None, *, log=None) -> list[Outcome]:
    """Run every attempt (or those given) in one range."""
    outcomes = []
    with Range() as rng:
        for attempt in attempts or load_attempts():
            outcome = rng.run(attempt)
            outcomes.append(outcome)
            if log:
                log(outcome)
    return outcomes
