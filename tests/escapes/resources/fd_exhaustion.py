# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Open files without end (prints the mark past 10,000 open)."""

# expect: blocked
files = []
while True:
    files.append(open("/dev/null", "rb"))
    if len(files) > 10_000:
        print(T["MARK"])
        break
