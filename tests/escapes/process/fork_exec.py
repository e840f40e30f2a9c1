# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Run a shell command through _posixsubprocess.fork_exec, which raises no audit event."""

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


pid = fork_exec(["/bin/sh", "-c", f"echo out > {T['TMP']}/{T['MARK']}-fork-exec"])
os.waitpid(pid, 0)
print(T["MARK"])
