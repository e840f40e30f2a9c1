# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Fetch a page from the host's loopback by running curl."""

# expect: blocked
import subprocess

url = f"http://127.0.0.1:{T['TCP_PORT']}/"
done = subprocess.run(["curl", "-s", "-m", "5", url], capture_output=True)
print(done.stdout, T["MARK"] if done.returncode == 0 else "curl failed")
