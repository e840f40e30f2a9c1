"""The sandboxed process itself: it confines itself, for good, then runs the model's code.

Started by :func:`vistavox.pipelines.tools.sandbox.run_python` as
``python -I -c "…main()" WORK CODE STATUS SETUP`` (SETUP: JSON with the limits, whether to
cut the network, the app's process id and user namespace). Before the code runs, it:

0. while it is still one thread: enters new user, network and IPC namespaces where the
   kernel allows it; has the kernel kill it when the app's thread that started it ends;
   sets its resource limits (CPU, memory, file size, open files, threads, no core dumps);
1. restricts its file access with Landlock: reading the Python installation, the system's
   libraries and fonts; everything inside its working folder; nothing else (and, on newer
   kernels, no TCP, no signals or abstract Unix sockets beyond itself);
2. loads a seccomp filter: no new processes or programs, no sockets, no signals, debugging
   or priority changes of other processes, no mounts or namespaces;
3. installs an audit hook that refuses the same things earlier, with a plain message (it is
   the first line seen, not the wall: native code can get past it, the steps above hold).

If a layer the kernel offers cannot be applied, it stops before running anything. What was
applied is written to STATUS (opened before the restrictions) for the caller.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import sys

from ..lifeline import die_with_parent

# Besides the Python installation: what libraries and fonts are read from.
SYSTEM_READABLE = (
    "/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/local/lib", "/etc/ld.so.cache",
    "/usr/share/fonts", "/usr/local/share/fonts", "/etc/fonts", "/usr/share/fontconfig",
    "/usr/share/zoneinfo", "/etc/localtime", "/usr/share/matplotlib",
    "/proc/cpuinfo", "/proc/meminfo", "/sys/devices/system/cpu",
)  # fmt: skip
DEVICES = ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random")


def readable_paths() -> list[str]:
    """The Python installation (and the paths it imports from), libraries and fonts."""
    python = [sys.prefix, sys.base_prefix, sys.exec_prefix, *sys.path[1:]]
    return [os.path.realpath(p) for p in (*python, *SYSTEM_READABLE) if p]


def _make_hook(work: str, readable: tuple[str, ...]):
    """The audit hook: plain refusals for what the layers below refuse anyway."""
    blocked = {
        "os.fork": "starting processes", "os.forkpty": "starting processes",
        "os.system": "running commands", "os.exec": "running programs",
        "os.posix_spawn": "starting processes", "os.spawn": "starting processes",
        "subprocess.Popen": "running programs", "pty.spawn": "starting processes",
        "socket.connect": "network access", "socket.bind": "network access",
        "socket.sendto": "network access", "socket.sendmsg": "network access",
        "socket.getaddrinfo": "network access", "socket.gethostbyname": "network access",
    }  # fmt: skip
    # Through ctypes, looking up these C functions would skip the checks here.
    native_denied = frozenset((
        "open", "open64", "openat", "openat64", "fopen", "fopen64", "freopen", "creat",
        "socket", "connect", "bind", "sendto", "fork", "vfork", "_Fork", "clone", "clone3",
        "execve", "execv", "execvp", "execl", "execlp", "system", "popen", "posix_spawn",
        "posix_spawnp", "syscall", "ptrace", "prctl", "dlopen", "unlink", "rename", "chdir",
        "opendir", "getaddrinfo", "kill", "PyRun_SimpleString", "PySys_AddAuditHook",
        "PyEval_SetProfile",
    ))  # fmt: skip
    devices = frozenset(DEVICES)
    writing_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
    # Events that change a path (removed, renamed, linked...): which arguments are changed.
    changed_args = {
        "os.remove": (0,), "os.rmdir": (0,), "os.mkdir": (0,), "os.truncate": (0,),
        "os.chmod": (0,), "os.chown": (0,), "os.utime": (0,), "os.mkfifo": (0,),
        "os.mknod": (0,), "os.setxattr": (0,), "os.removexattr": (0,),
        "os.rename": (0, 1), "os.link": (0, 1), "os.symlink": (1,),
    }  # fmt: skip
    own_pid = os.getpid()

    def inside(path: str, roots) -> bool:
        return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)

    def real(path) -> str:
        return os.path.realpath(os.fsdecode(path))

    def refuse_outside(path, action: str) -> None:
        if isinstance(path, str | bytes | os.PathLike) and not inside(real(path), (work,)):
            raise PermissionError(
                f"sandbox: {action} {real(path)} is not allowed (only the working folder)"
            )

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = args
            if path is None or isinstance(path, int):
                return
            where = real(path)
            writing = bool(
                (mode and any(c in mode for c in "wax+")) or (flags or 0) & writing_flags
            )
            if inside(where, (work,)) or where in devices:
                return
            if not writing and inside(where, readable):
                return
            action = "writing" if writing else "reading"
            raise PermissionError(
                f"sandbox: {action} {where} is not allowed (only the working folder)"
            )
        if event in ("os.listdir", "os.scandir"):
            target = args[0] if args and args[0] is not None else "."
            if isinstance(target, int):
                return
            where = real(target)
            if not (inside(where, (work,)) or inside(where, readable)):
                raise PermissionError(f"sandbox: listing {where} is not allowed")
            return
        if event in changed_args:
            for index in changed_args[event]:
                refuse_outside(args[index], "changing")
            return
        if event == "sqlite3.connect":
            name = os.fsdecode(args[0]) if isinstance(args[0], str | bytes) else ""
            if name.startswith("file:"):
                name = name[5:].split("?")[0].removeprefix("//")
            if name not in ("", ":memory:"):
                refuse_outside(name, "opening the database")
            return
        if event in ("os.kill", "os.killpg") and args and args[0] != own_pid:
            raise PermissionError("sandbox: signalling other processes is not allowed")
        if event == "ctypes.dlsym":
            name = args[1] if len(args) > 1 else None
            name = name.decode() if isinstance(name, bytes) else name
            if not isinstance(name, str) or name in native_denied:
                raise PermissionError(f"sandbox: calling the C function {name} is not allowed")
            return
        if event in blocked:
            raise PermissionError(f"sandbox: {blocked[event]} is not allowed")

    return hook


def _limit_self(setup: dict) -> None:
    """Namespaces, the death signal and resource limits: the process's own confinement,
    before any thread or library could be started."""
    limits = setup["limits"]
    mb = 1024 * 1024
    if setup["isolate_network"] and hasattr(os, "unshare"):
        # Without user namespaces here, Landlock and seccomp still refuse the network.
        try:
            os.unshare(os.CLONE_NEWUSER | os.CLONE_NEWNET | os.CLONE_NEWIPC)
        except OSError:
            pass
        else:
            # Counted per user namespace: this sandbox's threads only (root is exempt from
            # it: the caller counts the threads too).
            resource.setrlimit(resource.RLIMIT_NPROC, (limits["threads"],) * 2)
    die_with_parent(setup["parent_pid"])  # after the namespaces: they clear it
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_s"], limits["cpu_s"] + 1))
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory_mb"] * mb,) * 2)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_mb"] * mb,) * 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["open_files"],) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main(argv: list[str]) -> None:
    work, code_path, status_path, setup_json = argv
    setup = json.loads(setup_json)
    _limit_self(setup)
    parent_userns = str(setup["parent_userns"])
    with open(code_path, encoding="utf-8") as f:
        code = f.read()
    work = os.path.realpath(work)
    status = open(status_path, "w", encoding="utf-8")  # noqa: SIM115 - written after the lock
    applied = ["process group", "resource limits"]
    with contextlib.suppress(OSError):
        if str(os.stat("/proc/self/ns/user").st_ino) != parent_userns:
            applied.append("user+network+ipc namespaces")
    readable = readable_paths()
    from . import landlock, syscall_filter  # both load their libraries now, before the lock

    applied += landlock.restrict_self(readable, [work], DEVICES)
    applied += syscall_filter.install(os.getpid())
    sys.addaudithook(_make_hook(work, tuple(readable)))
    applied.append("audit hook")
    json.dump({"confinement": applied}, status)
    status.close()
    os.chdir(work)
    sys.argv = ["sandbox"]
    namespace = {"__name__": "__main__"}
    exec(compile(code, "<your code>", "exec"), namespace)
