"""Python in a sandbox: the model's code runs in a separate process that confines itself.

What holds it, all kernel mechanisms a normal user has (strongest first; each is used where
the machine has it, and the result says which were):
- a separate process in its own session, killed with its whole process group at the
  wall-clock timeout, and by the kernel if the app ends first; resource limits the child
  sets before the code runs: CPU seconds, address space (memory), size of any file it
  writes, open files, core dumps off; the caller also stops it when its folder holds more
  than ``disk_mb`` (deleted-but-open and in-memory files count) or it runs too many threads;
- a private, empty temporary working directory, which is also its HOME; a minimal
  environment (nothing of the user's is inherited);
- its own user, network and IPC namespaces where unprivileged user namespaces are allowed:
  no network interface but a down loopback, no capabilities outside, a thread limit;
- Landlock (Linux 5.13+): reading only the Python installation, system libraries and
  fonts, writing only inside its folder, whatever the path trick; on newer kernels no TCP,
  no signals or abstract sockets beyond itself;
- a seccomp filter: no new processes or programs, no sockets, no signals, debugging or
  priority changes of other processes, no mounts, namespaces or kernel keys;
- an audit hook with plain messages for the same refusals. It is the first line, not the
  wall: code can get past it (ctypes, the interpreter's internals), the layers above hold.
Files are copied out only when they are the sandbox's own regular files (no links).
See ``sandbox_runner`` for the child's side and ``tests/escapes`` for the attempts it holds.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

OUTPUT_CAP = 20_000  # characters of stdout/stderr returned to the model

# The child imports its confinement from this package before anything else runs.
_RUNNER = "import sys; from vistavox.pipelines.tools.sandbox_runner import main; main(sys.argv[1:])"
_MB = 1024 * 1024
_POLL_S = 0.02  # how often the caller looks at the child's threads and disk use
_MAX_ENTRIES = 20_000  # files and folders the working folder may hold
_MAX_OUTPUTS = 20  # images copied out of one run


@dataclass
class SandboxLimits:
    """What one run may use."""

    wall_s: float = 20.0
    cpu_s: int = 15
    memory_mb: int = 1024
    file_mb: int = 20
    open_files: int = 64
    disk_mb: int = 100  # everything it writes, together
    threads: int = 64


@dataclass
class SandboxResult:
    ok: bool
    # "finished", "error", "timeout", "memory", "cpu", "output too large", "disk", "threads",
    # "killed"
    exit: str
    stdout: str
    stderr: str
    seconds: float
    files: list[str] = field(default_factory=list)  # PNGs etc. copied to the workspace
    confinement: list[str] = field(default_factory=list)  # the layers the run had

    def as_json(self) -> str:
        """What the model is given (the layers are for the app and its tests, not its context)."""
        data = asdict(self)
        del data["confinement"]
        return json.dumps(data)


def _read_capped(path: Path) -> str:
    try:
        with path.open("rb") as f:
            data = f.read(OUTPUT_CAP + 1)
    except OSError:
        return ""
    text = data[:OUTPUT_CAP].decode("utf-8", errors="replace")
    if len(data) > OUTPUT_CAP:
        text += f"\n[output cut at {OUTPUT_CAP} characters]"
    return text


def run_python(
    code: str,
    *,
    limits: SandboxLimits | None = None,
    outputs_dir: Path | None = None,
    isolate_network: bool = True,
) -> SandboxResult:
    """Run ``code`` in a fresh sandbox; images it saves come back in ``outputs_dir``."""
    limits = limits or SandboxLimits()
    work = Path(tempfile.mkdtemp(prefix="vistavox-sandbox-"))
    holder = Path(tempfile.mkdtemp(prefix="vistavox-sandbox-io-"))
    try:
        (holder / "code.py").write_text(code, encoding="utf-8")
        (holder / "status.json").write_text("{}", encoding="utf-8")
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(work),
            "TMPDIR": str(work),
            "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": str(work / ".matplotlib"),
            "PYTHONIOENCODING": "utf-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "LANG": "C.UTF-8",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
        }
        # The child confines itself (limits, namespaces, dying with this thread) as its
        # first step: a preexec_fn would make Popen fork the whole app holding the GIL.
        setup = {
            "limits": asdict(limits),
            "isolate_network": isolate_network,
            "parent_pid": os.getpid(),
            "parent_userns": _user_namespace(),  # the child reports whether it has its own
        }
        arguments = [str(work), str(holder / "code.py"), str(holder / "status.json")]
        arguments.append(json.dumps(setup))
        started = time.monotonic()
        with (holder / "stdout").open("wb") as out, (holder / "stderr").open("wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-c", _RUNNER, *arguments],
                cwd=work,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
            try:
                stopped = _watch(proc, work, limits)
            finally:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        seconds = time.monotonic() - started
        stdout = _read_capped(holder / "stdout")
        stderr = _read_capped(holder / "stderr")
        exit_reason, note = _exit_reason(proc.returncode, stopped, stderr, holder, limits)
        if note:
            stderr += f"\n[stopped: {note}]"
        if (holder / "stdout").stat().st_size > OUTPUT_CAP and exit_reason == "finished":
            exit_reason = "finished (output cut)"
        files = _collect_outputs(work, outputs_dir, limits.file_mb * _MB)
        confinement = _confinement(holder / "status.json")
        return SandboxResult(
            proc.returncode == 0, exit_reason, stdout, stderr.strip(), seconds, files, confinement
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(holder, ignore_errors=True)


def _watch(proc: subprocess.Popen, work: Path, limits: SandboxLimits) -> str | None:
    """Wait for the child; stop it at the wall-clock limit, or when it holds more than its
    disk share or runs too many threads. Returns why it was stopped (None: it ended)."""
    deadline = time.monotonic() + limits.wall_s
    while True:
        try:
            proc.wait(timeout=_POLL_S)
            return None
        except subprocess.TimeoutExpired:
            pass
        if time.monotonic() > deadline:
            return "timeout"
        if _threads(proc.pid) > limits.threads:
            return "threads"
        # Counting stops past the entry cap, so a poll costs little while the folder is
        # small, and at most one count of the cap when it is not (then the run is stopped).
        used, entries = _disk_use(work, proc.pid)
        if used > limits.disk_mb * _MB or entries > _MAX_ENTRIES:
            return "disk"


def _threads(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _disk_use(work: Path, pid: int) -> tuple[int, int]:
    """Bytes on disk under ``work`` plus the deleted or in-memory files the child holds
    open (no folder shows those), and how many entries ``work`` has."""
    used = entries = 0
    folders = [str(work)]
    while folders and entries <= _MAX_ENTRIES:
        with contextlib.suppress(OSError), os.scandir(folders.pop()) as listing:
            for entry in listing:
                entries += 1
                with contextlib.suppress(OSError):
                    st = entry.stat(follow_symlinks=False)
                    used += st.st_blocks * 512
                    if entry.is_dir(follow_symlinks=False):
                        folders.append(entry.path)
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                st = os.stat(f"/proc/{pid}/fd/{fd}")
                if stat.S_ISREG(st.st_mode) and st.st_nlink == 0:
                    used += st.st_blocks * 512
    return used, entries


def _exit_reason(
    code: int, stopped: str | None, stderr: str, holder: Path, limits: SandboxLimits
) -> tuple[str, str]:
    """Why the run ended, and the note for the model when a limit stopped it."""
    wrote = max((holder / name).stat().st_size for name in ("stdout", "stderr"))
    if stopped == "timeout":
        return "timeout", f"took longer than {limits.wall_s:.0f} s"
    if stopped == "disk":
        return "disk", f"wrote more than {limits.disk_mb} MB (or {_MAX_ENTRIES} files)"
    if stopped == "threads":
        return "threads", f"started more than {limits.threads} threads"
    if code in (-signal.SIGXCPU, -signal.SIGKILL):
        return "cpu", f"used more than {limits.cpu_s} s of CPU"
    if code == -signal.SIGXFSZ or "File too large" in stderr or wrote >= limits.file_mb * _MB:
        return "output too large", f"wrote more than {limits.file_mb} MB"
    if "MemoryError" in stderr or "Cannot allocate memory" in stderr:
        return "memory", f"needed more than {limits.memory_mb} MB of memory"
    if code == 0:
        return "finished", ""
    return ("killed" if code < 0 else "error"), ""


def _user_namespace() -> int:
    try:
        return os.stat("/proc/self/ns/user").st_ino
    except OSError:
        return 0


def _confinement(status: Path) -> list[str]:
    """The layers the child reported (written just before the code ran)."""
    try:
        layers = json.loads(status.read_text(encoding="utf-8")).get("confinement", [])
    except (OSError, ValueError, AttributeError):
        return []
    return [str(layer) for layer in layers] if isinstance(layers, list) else []


def _collect_outputs(work: Path, outputs_dir: Path | None, max_bytes: int) -> list[str]:
    """Copy the images the code saved (PNG, JPEG, SVG) out of the sandbox: its own regular
    files only, never through a link (the child could point one at the user's files)."""
    if outputs_dir is None:
        return []
    found = []
    for path in sorted(work.glob("*")):
        if path.suffix.lower() not in (".png", ".jpg", ".jpeg", ".svg"):
            continue
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue  # a link, or gone
        with os.fdopen(fd, "rb") as source:
            st = os.fstat(fd)
            # One link only: a hard link to a file outside would have more than one.
            if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1 or st.st_size > max_bytes:
                continue
            outputs_dir.mkdir(parents=True, exist_ok=True)
            target = outputs_dir / f"{uuid.uuid4().hex[:8]}-{path.name}"
            with target.open("wb") as copy:
                shutil.copyfileobj(source, copy)
        found.append(str(target))
        if len(found) >= _MAX_OUTPUTS:
            break
    return found
