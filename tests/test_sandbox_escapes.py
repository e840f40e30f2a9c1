"""The sandbox escape suite (tests/escapes/): every attempt is a real script run through the
Python tool as the assistant runs it, and must end blocked or contained, as its file says.
What counts is what the host saw: no connection or datagram received on loopback, nothing
written or changed outside the sandbox, no process left alive, no secret in the output or
in the files copied out, the parent alive and answering.

Attempts whose harmful step works only past the audit hook (libc functions found by symbol
version, ``_posixsubprocess``, a folder descriptor) show that the kernel's layers hold on
their own. ``python -m tests.benchmarks escapes`` runs the same suite and writes the figure.
"""

from __future__ import annotations

import pytest

from tests.escapes import UNSANDBOXED, Range, load_attempts

ATTEMPTS = load_attempts()


@pytest.fixture(scope="module")
def escape_range():
    with Range() as rng:
        yield rng


@pytest.mark.parametrize("attempt", ATTEMPTS, ids=[a.id for a in ATTEMPTS])
def test_the_attempt_is_blocked_or_contained(escape_range, attempt):
    outcome = escape_range.run(attempt)
    assert outcome.verdict != "escaped", f"{attempt.goal}: " + "; ".join(outcome.reasons)
    assert outcome.verdict != "broken", f"the attempt script fails by itself: {outcome.stderr}"
    assert outcome.as_expected, (
        f"expected {attempt.expect} {attempt.exits or ''}, got {outcome.verdict} "
        f"({outcome.exit}): {outcome.stderr[-500:]}"
    )


def test_the_suite_covers_every_kind_of_escape():
    by_category = {a.category: 0 for a in ATTEMPTS}
    for attempt in ATTEMPTS:
        by_category[attempt.category] += 1
    assert set(by_category) == {
        "network", "files", "process", "resources", "secrets", "persistence",
    }  # fmt: skip
    assert min(by_category.values()) >= 5, by_category


def test_the_sandbox_uses_the_layers_this_machine_has(escape_range):
    """Landlock and the seccomp filter are applied wherever the kernel and libseccomp are
    there (a layer that silently went missing would leave only the ones above it)."""
    from vistavox.pipelines.tools import landlock, syscall_filter
    from vistavox.pipelines.tools.sandbox import run_python

    result = run_python("print('ok')")
    assert result.ok, result.stderr
    if landlock.abi_version() >= 1:
        assert any(layer.startswith("landlock-files") for layer in result.confinement)
    if syscall_filter.seccomp is not None:
        assert "seccomp" in result.confinement
    assert "resource limits" in result.confinement
    if _user_namespaces_allowed():
        # The child enters them itself, so they are lost if it is not one thread by then.
        assert "user+network+ipc namespaces" in result.confinement


def _user_namespaces_allowed() -> bool:
    import subprocess
    import sys

    probe = "import os; os.unshare(os.CLONE_NEWUSER | os.CLONE_NEWNET)"
    return subprocess.run([sys.executable, "-I", "-c", probe], capture_output=True).returncode == 0


# Without a sandbox, each of these must be seen escaping, each by a different check.
CONTROLS = {
    "files/read_ssh_key": "a secret appears in the tool's output",
    "network/tcp_connect": "the host's loopback received a tcp connection",
    "network/udp_sendto": "the host's loopback received a UDP datagram",
    "persistence/bashrc": ".bashrc was changed in the home folder",
    "persistence/setsid_fork_exec": "a process was left alive",
    "process/signal_parent": "the tool's caller died",
    "files/write_tmp": "was written",
    "files/list_home": "the script reports success",
}


@pytest.mark.parametrize("attempt_id", CONTROLS)
def test_the_range_sees_the_escape_when_nothing_stops_it(escape_range, attempt_id):
    attempt = next(a for a in ATTEMPTS if a.id == attempt_id)
    outcome = escape_range.run(attempt, tool=UNSANDBOXED)
    assert outcome.verdict == "escaped"
    assert any(CONTROLS[attempt_id] in reason for reason in outcome.reasons), outcome.reasons
