# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Run curl against the host's loopback through _posixsubprocess.fork_exec, which raises no audit
event."""

# expect: blocked
import _posixsubprocess
import os
import sys


def fork_exec(argv, new_session=False):
    """Start a program with the C helper behind subprocess (it raises no audit event)."""
    errpipe_read, errpipe_write = os.pipe()
    args = [
        [os.fsencode(a) for a in argv],
        [os.fsencode(argv[0])],
        True,
        (errpipe_write,),
        None,
        None,
        -1,
        -1,
        -1,
        -1,
        -1,
        -1,
        errpipe_read,
        errpipe_write,
        True,
        new_session,
        -1,
        None,
        None,
        None,
        -1,
        None,
    ]
    if sys.version_info >= (3, 12):
        args.append(True)
    pid = _posixsubprocess.fork_exec(*args)
    os.close(errpipe_write)
    failure = os.read(errpipe_read, 4096)
    if failure:
        raise OSError(f"the program did not start: {failure!r}")
    return pid


pid = fork_exec(["/usr/bin/curl", "-s", "-m", "5", f"http://127.0.0.1:{T['TCP_PORT']}/"])
_, status = os.waitpid(pid, 0)
if status != 0:
    raise OSError(f"curl failed (status {status})")
print(T["MARK"])
