# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Find the audit hook among all objects (gc; its argument names are in sys.orig_argv, the
runner's source) and swap its code for a no-op, then read the SSH key."""

# expect: blocked
import contextlib
import gc


def quiet(event, args):
    return None


for obj in gc.get_objects():
    code = getattr(obj, "__code__", None)
    if type(obj) is type(quiet) and obj is not quiet and code.co_varnames[:2] == ("event", "args"):
        with contextlib.suppress(ValueError, RuntimeError, PermissionError):
            obj.__code__ = quiet.__code__.replace(
                co_freevars=code.co_freevars, co_name=code.co_name
            )
print(open(T["SSH_KEY"]).read())
