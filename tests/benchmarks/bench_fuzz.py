"""Property-based fuzzing of every input surface (``tests/fuzz/``, Hypothesis) with many more
cases than the test suite runs: per surface, the cases tried, the failures found (with
Hypothesis's smallest failing case) and the slowest case. Each surface runs in its own
pytest process, so a crash in one (a signal from native code) is reported, not fatal.

``VISTAVOX_FUZZ_FACTOR`` (default 20) multiplies the suite's cases;
``VISTAVOX_BENCH_FUZZ=images,audio`` runs only those surfaces.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FUZZ = Path(__file__).resolve().parents[1] / "fuzz"
REPO = FUZZ.parents[1]
# What the fuzzers found and what was fixed (each kept as a regression case in its file).
FIXED = {
    "images": [
        "sketch reader: ValueError (reshape of an empty feature matrix) on any image without "
        "candidate elements: a blank sheet, 1×1, 30×30",
        "OCR: RapidOCR's ResizeImgError (empty message) on strips longer than ~125:1 "
        "(20000×10, 4096×3); tiny images now skip OCR, strips are padded",
    ],
    "audio": [
        "a FLAC without a length in its header was decoded whole before the 600 s limit was "
        "checked: 1 h of silence (89 kB) took 576 MB; now decoding stops at the limit (19 MB)",
    ],
    "documents": [
        "PDF decompression bomb: pypdf's LimitReachedError escaped as a crash",
        "AES-encrypted PDFs (most protected PDFs): DependencyError escaped; the cryptography "
        "package is now a dependency and they are read",
        "a password-protected PDF said 'File has not been decrypted'; now it says so plainly",
        "one huge line became one passage (5 MB); passages are now at most 2000 characters",
        "binary files with a text extension were indexed as garbage; bytes that are not "
        "UTF-8 became U+FFFD (now read as Windows-1252); an attachment read the whole file "
        "however big",
    ],
    "settings_files": [
        "JSON nested ~1500 deep: RecursionError in all four readers",
        "audio-devices.json holding a list: AttributeError",
        'tool-permissions.json with a non-object entry ({"": null}): AttributeError',
        'web-sites.json with "allowed" a string allowed each letter; damaged files were '
        "overwritten on the next save (now kept as NAME.damaged)",
    ],
    "personas": [
        "a saved persona whose title held a quote or whose prompt held a backslash, triple "
        "quote or control character could not be read back (lost); now written as valid TOML",
        "persona files nested thousands deep (RecursionError) or not UTF-8 "
        "(UnicodeDecodeError) escaped PersonaError",
    ],
    "conversation_store": [
        "an older schema version on a newer file: sqlite3.OperationalError (duplicate "
        "column) escaped, after the file was switched to WAL; now refused untouched",
        "a negative schema version ran MIGRATIONS[-1]",
        "one damaged byte in a message's text hid every conversation (Could not decode to "
        "UTF-8); damaged meta data failed json.loads; a damaged table name gave "
        "UnicodeDecodeError",
    ],
    "model_files": [],
    "untrusted": [
        "a label (file name, page address) could close the data block or break its line; "
        "fullwidth and small look-alikes (＜＜＜, ﹤﹤﹤) and runs split by invisible "
        "characters were not defused; defused runs still held '<<'",
    ],
    "guard": [
        "the start of a template blank ('[insert'), pretty-printed tool JSON ('{\\n \"tool')"
        " and markers with other spacing were shown before the guard cut them",
        "special tokens with digits (<|reserved_special_token_247|>) were not recognised",
        "a reply without full stops was judged in quadratic time (100 000 characters: 90 s "
        "per judgement)",
    ],
    "intents": [
        "OverflowError: a quotient or product beyond a float's range, a percentage of 300 "
        "digits, a conversion of a 300-digit amount",
        "OverflowError: 'what's the date in 2912384 days' (past the year 9999)",
        "huge whole numbers were said as '999…9/1'",
        "checking a reply's total: a row label holding a number ('Item 4 | 0') or a second "
        "column made the wrong column the one added; '&' in a label broke its table; "
        "'the total is 1' for 0.50 was let through as rounding; a 3 000-row table took 12 s",
    ],
    "web_addresses": [
        "ValueError from urlsplit/port ('http://[::1', 'http://host:x/', port 99999) in "
        "check_url and site_of",
        "error messages quoted the whole address (1 200 characters)",
        "addresses_in took quadratic time on 'a-a-a-…' (40 000 characters: 5 s)",
    ],
    "page_editor": [
        "a page style 'font-size: 1.2.3em' made 'make the heading bigger' raise ValueError",
        "a page file that is not UTF-8 raised UnicodeDecodeError",
        "undo turned the page's \\r line endings into \\n (not the page as it was)",
    ],
}


def _surfaces() -> list[Path]:
    wanted = [w for w in os.environ.get("VISTAVOX_BENCH_FUZZ", "").split(",") if w]
    files = sorted(FUZZ.glob("test_*.py"))
    return [f for f in files if not wanted or f.stem.removeprefix("test_") in wanted]


def _run_surface(path: Path) -> dict:
    surface = path.stem.removeprefix("test_")
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        env = {**os.environ, "VISTAVOX_FUZZ_PROFILE": "bench", "VISTAVOX_FUZZ_REPORT": str(report)}
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore",
             str(path)],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=3 * 3600,
        )  # fmt: skip
        seconds = time.monotonic() - started
        found = json.loads(report.read_text()).get(surface, {}) if report.exists() else {}
    failures = list(found.get("failures", []))
    if result.returncode not in (0, 1):  # 1: tests failed (listed); else the process died
        failures.append({"test": "(process)", "error": f"exit {result.returncode}",
                         "example": result.stdout[-1500:] + result.stderr[-1500:]})  # fmt: skip
    return {
        "surface": surface,
        "cases": found.get("cases", 0),
        "failures": failures,
        "slowest_case_s": found.get("slowest_case_s"),
        "seconds": round(seconds, 1),
        "summary": (result.stdout.strip().splitlines() or [""])[-1],
        "fixed": FIXED.get(surface, []),
    }


def _earlier_rows(results_dir, ran: list[dict]) -> list[dict]:
    """The surfaces not run now, as the last full run left them in ``fuzz.json`` (so a run
    of some surfaces keeps the others' figures)."""
    previous = Path(results_dir) / "fuzz.json"
    if not previous.exists():
        return []
    names = {row["surface"] for row in ran}
    rows = json.loads(previous.read_text()).get("surfaces", [])
    return [{**row, "from_earlier_run": True} for row in rows if row["surface"] not in names]


def run(repeat: int, results_dir) -> dict:
    del repeat  # one pass: cases are counted, not timed
    factor = int(os.environ.get("VISTAVOX_FUZZ_FACTOR", "20"))
    rows = []
    print(f"{'surface':20} {'cases':>7} {'failures':>8} {'slowest':>8} {'seconds':>8}", flush=True)
    for path in _surfaces():
        row = _run_surface(path)
        rows.append(row)
        slowest = row["slowest_case_s"]
        print(
            f"{row['surface']:20} {row['cases']:7} {len(row['failures']):8} "
            f"{(f'{slowest:.2f}s' if slowest is not None else '-'):>8} {row['seconds']:7.0f}s",
            flush=True,
        )
        for failure in row["failures"]:
            print(f"    FAILED {failure['test']}: {failure['error'][:200]}", flush=True)
    total_cases = sum(r["cases"] for r in rows)
    total_failures = sum(len(r["failures"]) for r in rows)
    print(f"\n{total_cases} cases over {len(rows)} surfaces, {total_failures} failures")
    earlier = _earlier_rows(results_dir, rows) if os.environ.get("VISTAVOX_BENCH_FUZZ") else []
    if earlier:
        print(f"(kept from the last run: {', '.join(r['surface'] for r in earlier)})")
        rows = sorted(rows + earlier, key=lambda r: r["surface"])
        total_cases = sum(r["cases"] for r in rows)
        total_failures = sum(len(r["failures"]) for r in rows)
    print(f"fixed before this run: {sum(len(v) for v in FIXED.values())} failures (see JSON)")
    return {
        "factor": factor,
        "cases": total_cases,
        "failures": total_failures,
        "surfaces": rows,
    }
