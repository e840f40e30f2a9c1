"""A seccomp filter for sandboxed code: the kernel refuses the system calls that reach other
processes, the network or the system, however they are made (Python, ctypes, machine code).

Built with libseccomp (through pyseccomp), which compiles the rules to BPF for the running
architecture; calls made through another architecture's entry (32-bit ``int 0x80``) kill
the process. Everything not named here is allowed: Python, NumPy and matplotlib need a wide
range of ordinary calls, and files are Landlock's job.
"""

from __future__ import annotations

import contextlib
import errno

try:  # loaded on import: finding libseccomp runs ldconfig, which Landlock would then refuse
    import pyseccomp as seccomp
except (ImportError, RuntimeError, OSError):  # RuntimeError: no libseccomp on the machine
    seccomp = None

CLONE_THREAD = 0x00010000

# Refused outright (EPERM).
_DENIED = (
    # new processes and programs (threads are allowed, see below)
    "fork", "vfork", "execve", "execveat",
    # other processes: debugging, their memory, their descriptors, signals by pidfd
    "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "kcmp",
    "pidfd_open", "pidfd_getfd", "pidfd_send_signal", "tkill",
    # the network: no socket can be made (socketpair stays: it reaches nobody)
    "socket",
    # io_uring runs file and network operations outside these rules
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    # the system: namespaces, mounts, kernel modules and keys, BPF, perf, swap, reboot
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "move_mount",
    "open_tree", "fsopen", "fsmount", "fsconfig", "fspick", "mount_setattr",
    "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
    "reboot", "swapon", "swapoff", "acct", "quotactl", "syslog", "iopl", "ioperm",
    "open_by_handle_at", "name_to_handle_at", "fanotify_init",
    "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
    "chown", "fchown", "lchown", "fchownat",
    # path-based truncate: Landlock refuses it only from ABI 3 (Linux 6.2)
    "truncate",
    # System V IPC reaches other programs' shared memory
    "shmget", "shmat", "shmctl", "msgget", "msgsnd", "msgrcv", "msgctl",
    "semget", "semop", "semtimedop", "semctl",
)  # fmt: skip
# Newer calls by number (the same on every architecture from 424 on): setxattrat,
# removexattrat, open_tree_attr, file_setattr; and numbers not yet given out.
_DENIED_NUMBERS = (463, 466, 467, 469)
_FUTURE = range(470, 520)  # refused as unknown (ENOSYS), so libraries fall back
# Mode and time changes do nothing and report success: Landlock does not cover them, and
# failing them would break shutil.copy and tarfile inside the working folder.
_IGNORED = ("chmod", "fchmod", "fchmodat", "utime", "utimes", "futimesat", "utimensat")
_IGNORED_NUMBERS = (452,)  # fchmodat2
# Calls that name a process: allowed only on this one (0 means "myself" for these).
_SELF_AT_ARG0 = ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")
_SELF_OR_ZERO_AT_ARG0 = (
    "prlimit64", "sched_setaffinity", "sched_setscheduler", "sched_setparam", "sched_setattr",
    "migrate_pages", "move_pages",
)  # fmt: skip
_SELF_OR_ZERO_AT_ARG1 = ("setpriority", "ioprio_set")


def install(own_pid: int) -> list[str]:
    """Load the filter into this process (and everything it starts); returns what was applied,
    empty when libseccomp is not installed. Raises OSError when it could not be loaded."""
    if seccomp is None:
        return []
    refuse = seccomp.ERRNO(errno.EPERM)
    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in _DENIED:
        _add(rules, refuse, name)
    for number in _DENIED_NUMBERS:
        _add(rules, refuse, number)
    for number in _FUTURE:
        _add(rules, seccomp.ERRNO(errno.ENOSYS), number)
    for name in (*_IGNORED, *_IGNORED_NUMBERS):
        _add(rules, seccomp.ERRNO(0), name)
    # clone without CLONE_THREAD makes a process; clone3 hides its flags in memory, so it is
    # refused as unknown and the C library falls back to clone for threads.
    _add(rules, refuse, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, CLONE_THREAD, 0))
    _add(rules, seccomp.ERRNO(errno.ENOSYS), "clone3")
    for name in _SELF_AT_ARG0:
        _add(rules, refuse, name, seccomp.Arg(0, seccomp.NE, own_pid))
    for name in _SELF_OR_ZERO_AT_ARG0:
        _add(rules, refuse, name, seccomp.Arg(0, seccomp.NE, 0))
    for name in _SELF_OR_ZERO_AT_ARG1:
        _add(rules, refuse, name, seccomp.Arg(1, seccomp.NE, 0))
    rules.load()
    return ["seccomp"]


def _add(rules, action: int, syscall: str | int, *args) -> None:
    # A call this architecture or libseccomp does not know: nothing to refuse.
    with contextlib.suppress(OSError, ValueError, RuntimeError):
        rules.add_rule(action, syscall, *args)
