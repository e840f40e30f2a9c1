# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Start threads with small stacks without end, to use up the host's process IDs (prints the mark
past 4,096 threads)."""

# expect: contained (threads or finished)
import threading

threading.stack_size(32 * 1024)
stop = threading.Event()
started = 0
try:
    while started <= 4096:
        threading.Thread(target=stop.wait, daemon=True).start()
        started += 1
except RuntimeError as exc:
    print(f"refused after {started} threads: {exc}")
else:
    print(T["MARK"])
