"""Python in a sandbox: the model's code runs in a separate, limited process.

What holds it (strongest first):
- a separate process in its own session, killed with its whole process group at the
  wall-clock timeout; resource limits set in the child before it starts: CPU seconds,
  address space (memory), size of any file it writes, open files, core dumps off;
- a private, empty temporary working directory, which is also its HOME; a minimal
  environment (nothing of the user's is inherited);
- no network: where the kernel allows unprivileged user namespaces the child gets its own
  empty network namespace (no interfaces but a down loopback), which also drops any
  capabilities it had; in every case an audit hook refuses socket connect/bind/send/DNS;
- the audit hook also refuses opening files outside the working directory (except reading
  the Python installation and fonts), listing other folders, starting processes (fork,
  exec, subprocess, os.system) and loading native code through ctypes.
The audit hook is defence in depth, not a wall: native extension code could bypass it. The
process, limits and namespace are the boundary that matters; they hold even then.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

OUTPUT_CAP = 20_000  # characters of stdout/stderr returned to the model

_RUNNER = r"""
import os, sys
WORK = os.path.realpath(sys.argv[1])
with open(sys.argv[2], encoding="utf-8") as f:
    CODE = f.read()
READ_OK = tuple(sorted({os.path.realpath(p) for p in (
    sys.prefix, sys.base_prefix, sys.exec_prefix, *sys.path[1:],
    "/usr/share/fonts", "/usr/share/zoneinfo", "/etc/fonts", "/usr/share/matplotlib",
) if p}))
DEVICES = ("/dev/null", "/dev/urandom", "/dev/random")
BLOCKED = {
    "os.fork": "starting processes", "os.forkpty": "starting processes",
    "os.system": "running commands", "os.exec": "running programs",
    "os.posix_spawn": "starting processes", "os.spawn": "starting processes",
    "subprocess.Popen": "running programs", "pty.spawn": "starting processes",
    "socket.connect": "network access", "socket.bind": "network access",
    "socket.sendto": "network access", "socket.sendmsg": "network access",
    "socket.getaddrinfo": "network access", "socket.gethostbyname": "network access",
}
# Through ctypes, C functions that open files, reach the network or start programs would
# bypass this hook: looking them up is refused (libraries may use ctypes for other things).
NATIVE_DENIED = {
    "open", "open64", "openat", "openat64", "fopen", "fopen64", "freopen", "creat",
    "socket", "connect", "bind", "sendto", "fork", "vfork", "clone", "clone3", "execve",
    "execv", "execvp", "execl", "execlp", "system", "popen", "posix_spawn", "posix_spawnp",
    "syscall", "ptrace", "dlopen", "unlink", "rename", "chdir", "opendir", "getaddrinfo",
    "PyRun_SimpleString", "PySys_AddAuditHook", "PyEval_SetProfile",
}
O_WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

def _inside(path, roots):
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)

def _hook(event, args):
    if event == "open":
        path, mode, flags = args
        if path is None or isinstance(path, int):
            return
        real = os.path.realpath(os.fsdecode(path))
        writing = bool((mode and any(c in mode for c in "wax+")) or (flags or 0) & O_WRITE)
        if _inside(real, (WORK,)) or real in DEVICES:
            return
        if not writing and _inside(real, READ_OK):
            return
        action = "writing" if writing else "reading"
        raise PermissionError(f"sandbox: {action} {real} is not allowed (only the working folder)")
    if event in ("os.listdir", "os.scandir"):
        target = args[0] if args and args[0] is not None else "."
        if isinstance(target, int):
            return
        real = os.path.realpath(os.fsdecode(target))
        if not (_inside(real, (WORK,)) or _inside(real, READ_OK)):
            raise PermissionError(f"sandbox: listing {real} is not allowed")
        return
    if event == "ctypes.dlsym":
        name = args[1] if len(args) > 1 else None
        name = name.decode() if isinstance(name, bytes) else name
        if name is None or not isinstance(name, str) or name in NATIVE_DENIED:
            raise PermissionError(f"sandbox: calling the C function {name} is not allowed")
        return
    if event in BLOCKED:
        raise PermissionError(f"sandbox: {BLOCKED[event]} is not allowed")

sys.addaudithook(_hook)
del _hook
os.chdir(WORK)
sys.argv = ["sandbox"]
namespace = {"__name__": "__main__"}
exec(compile(CODE, "<your code>", "exec"), namespace)
"""


@dataclass
class SandboxLimits:
    """What one run may use."""

    wall_s: float = 20.0
    cpu_s: int = 15
    memory_mb: int = 1024
    file_mb: int = 20
    open_files: int = 64


@dataclass
class SandboxResult:
    ok: bool
    exit: str  # "finished", "error", "timeout", "memory", "cpu", "output too large", "killed"
    stdout: str
    stderr: str
    seconds: float
    files: list[str] = field(default_factory=list)  # PNGs etc. copied to the workspace

    def as_json(self) -> str:
        return json.dumps(asdict(self))


def _limit_child(limits: SandboxLimits, isolate_network: bool):
    def apply() -> None:
        mb = 1024 * 1024
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_mb * mb,) * 2)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_mb * mb,) * 2)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files,) * 2)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if isolate_network and hasattr(os, "unshare"):
            # Without user namespaces here, the audit hook still refuses sockets.
            with contextlib.suppress(OSError):
                os.unshare(os.CLONE_NEWUSER | os.CLONE_NEWNET)

    return apply


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
        started = time.monotonic()
        with (holder / "stdout").open("wb") as out, (holder / "stderr").open("wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-c", _RUNNER, str(work), str(holder / "code.py")],
                cwd=work,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
                preexec_fn=_limit_child(limits, isolate_network),  # noqa: PLW1509
            )
            timed_out = False
            try:
                proc.wait(timeout=limits.wall_s)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        seconds = time.monotonic() - started
        stdout = _read_capped(holder / "stdout")
        stderr = _read_capped(holder / "stderr")
        code_ = proc.returncode
        if timed_out:
            exit_reason = "timeout"
            stderr += f"\n[stopped: took longer than {limits.wall_s:.0f} s]"
        elif code_ in (-signal.SIGXCPU, -signal.SIGKILL):
            exit_reason = "cpu"
            stderr += f"\n[stopped: used more than {limits.cpu_s} s of CPU]"
        elif code_ == -signal.SIGXFSZ or "File too large" in stderr:
            exit_reason = "output too large"
            stderr += f"\n[stopped: wrote more than {limits.file_mb} MB]"
        elif "MemoryError" in stderr:
            exit_reason = "memory"
            stderr += f"\n[stopped: needed more than {limits.memory_mb} MB of memory]"
        elif code_ == 0:
            exit_reason = "finished"
        elif code_ < 0:
            exit_reason = "killed"
        else:
            exit_reason = "error"
        if (holder / "stdout").stat().st_size > OUTPUT_CAP and exit_reason == "finished":
            exit_reason = "finished (output cut)"
        files = _collect_outputs(work, outputs_dir)
        return SandboxResult(code_ == 0, exit_reason, stdout, stderr.strip(), seconds, files)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(holder, ignore_errors=True)


def _collect_outputs(work: Path, outputs_dir: Path | None) -> list[str]:
    """Copy the images the code saved (PNG, JPEG, SVG) out of the sandbox."""
    if outputs_dir is None:
        return []
    found = []
    for path in sorted(work.glob("*")):
        if path.suffix.lower() in (".png", ".jpg", ".jpeg", ".svg") and path.is_file():
            outputs_dir.mkdir(parents=True, exist_ok=True)
            target = outputs_dir / f"{uuid.uuid4().hex[:8]}-{path.name}"
            shutil.copyfile(path, target)
            found.append(str(target))
    return found
