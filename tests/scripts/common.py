"""Shared helpers of the script tests (tests/scripts/test_*.py).

Each test script is a plain runner: it prints one line per check (PASS, FAIL or SKIP),
then a last line exactly of the form `N passed, M failed`, and exits non-zero if any
check failed. Run with Debian's interpreter, /usr/bin/python3, which has h5py, numpy,
xarray, netCDF4, h5netcdf and matplotlib.
"""
import os
import re
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PLOT_SCRIPT = REPO / "scripts" / "plot_pairings.py"
PYTHON = "/usr/bin/python3"

HASH_RE = re.compile(r"^data hash: ([0-9a-f]{16})\s*$", re.MULTILINE)


class Runner:
    """Counts checks and prints one line for each."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.failures = []

    def check(self, label, condition, detail=""):
        """Records one check; returns the condition so callers can stop a dependent chain."""
        if condition:
            self.passed += 1
            print(f"PASS {label}", flush=True)
        else:
            self.failed += 1
            self.failures.append(label)
            text = f"FAIL {label}"
            if detail:
                text += ": " + _one_paragraph(detail)
            print(text, flush=True)
        return bool(condition)

    def skip(self, label, reason):
        self.skipped += 1
        print(f"SKIP {label}: {reason}", flush=True)

    def guard(self, label, fn, *args, **kwargs):
        """Runs fn; an exception inside it is one failed check named `label`."""
        try:
            return fn(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - a test runner reports everything
            tb = traceback.format_exc(limit=3)
            self.check(label, False, f"{type(e).__name__}: {e}\n{tb}")
            return None

    def finish(self):
        if self.failures:
            print("failed checks:", flush=True)
            for f in self.failures:
                print(f"  - {f}", flush=True)
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        sys.exit(1 if self.failed else 0)


def _one_paragraph(text, limit=1500):
    text = str(text).strip()
    if len(text) > limit:
        text = text[:limit] + " ..."
    return text.replace("\n", "\n    ")


def run(args, timeout=120, **kwargs):
    """Runs a command, capturing text output; never raises on a non-zero exit. Bytes that
    are not UTF-8 come back as \\xNN: a damaged file's text must fail a check, not the
    harness (crash_trials.py flip once died of UnicodeDecodeError)."""
    return subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          errors="backslashreplace", timeout=timeout, **kwargs)


def describe(proc):
    """A short account of a finished process for a failure message."""
    return (f"exit {proc.returncode}; cmd: {' '.join(map(str, proc.args))}\n"
            f"stdout: {proc.stdout.strip()[:800]!r}\nstderr: {proc.stderr.strip()[:800]!r}")


def data_hash(inspect_stdout):
    m = HASH_RE.search(inspect_stdout)
    return m.group(1) if m else None


def write(path, text):
    Path(path).write_text(text)
    return Path(path)


def line_of(text, needle, occurrence=1):
    """1-based line number of the `occurrence`-th line of `text` that contains `needle`."""
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise ValueError(f"{needle!r} not in text")


def temp_dir(prefix):
    return tempfile.TemporaryDirectory(prefix=prefix)


def exe_from_argv(runner_name):
    if len(sys.argv) != 2:
        print(f"usage: {PYTHON} {sys.argv[0]} DYAD_EXE", file=sys.stderr)
        sys.exit(2)
    exe = Path(sys.argv[1]).resolve()
    if not (exe.is_file() and os.access(exe, os.X_OK)):
        print(f"{runner_name}: {exe} is not an executable file", file=sys.stderr)
        sys.exit(2)
    return exe


def small_config(output, *, days=10, couples=20, seed=7, record="daily",
                 pairings="secure-secure, secure-anxious, anxious-avoidant", extra=""):
    """A small valid config text."""
    return (f"# script test config\n"
            f"[run]\n"
            f"days = {days}\n"
            f"couples = {couples}\n"
            f"seed = {seed}\n"
            f"output = {output}\n"
            f"record = {record}\n"
            f"\n"
            f"[pairings]\n"
            f"list = {pairings}\n"
            f"{extra}")
