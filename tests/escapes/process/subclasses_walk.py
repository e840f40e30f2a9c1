# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Reach os.system from object.__subclasses__() without importing anything (the classic jail
break)."""

# expect: blocked
wrap = next(c for c in ().__class__.__base__.__subclasses__() if c.__name__ == "_wrap_close")
system = wrap.__init__.__globals__["system"]
status = system(f"echo out > {T['TMP']}/{T['MARK']}-subclasses")
if status != 0:
    raise OSError(f"the command did not run (status {status})")
print(T["MARK"])
