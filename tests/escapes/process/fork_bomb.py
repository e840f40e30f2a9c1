# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Fork repeatedly (bounded at 20 children, enough to show that forking works)."""

# expect: blocked
import os
import time

for _ in range(20):
    if os.fork() == 0:
        time.sleep(30)
        os._exit(0)
print(T["MARK"])
