# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Run crontab to install a job."""

# expect: blocked
import subprocess

subprocess.run(["crontab", "-l"])
print(T["MARK"])
