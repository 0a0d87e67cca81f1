#!/usr/bin/python3
"""Nothing lost: corrupt and foreign files, and a file-size limit, through the executable.

    /usr/bin/python3 tests/scripts/test_reliability.py build/dyad

Corrupt-file table: `summarize`, `inspect` and `run --resume` on a zero-length file,
random bytes, a Dyad output cut at several lengths, an HDF5 file of someone else, a
Dyad file of another schema version and one with a variable missing: each must exit 2
with a message naming the file, never an HDF5 error stack, a sanitizer report or a
signal. File-size limit: a run under `prlimit --fsize` ends with status 1 and a clear
message, leaves the earlier output untouched and the points it had flushed readable.
Prints one line per check and `N passed, M failed` last.
"""
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

import h5py  # noqa: E402
import numpy as np  # noqa: E402

T = common.Runner("reliability")
STACK_MARKERS = ("HDF5-DIAG", "terminate called", "AddressSanitizer", "runtime error:", "Traceback")


def clean_failure(proc, name):
    """Exit 2, the file named, no stack dump, no signal."""
    problems = []
    if proc.returncode != 2:
        problems.append(f"exit {proc.returncode}, expected 2")
    if name not in proc.stderr:
        problems.append(f"stderr does not name {name}")
    for marker in STACK_MARKERS:
        if marker in proc.stderr:
            problems.append(f"'{marker}' on stderr")
    return problems


def make_files(exe, tmp):
    cfg = common.write(tmp / "run.ini", common.small_config(tmp / "unused.h5", days=6, couples=30,
                                                            record="daily"))
    good = tmp / "good.h5"
    proc = common.run([exe, "run", cfg, "-o", good, "--quiet"])
    if not T.check("a small run to corrupt exits 0", proc.returncode == 0, common.describe(proc)):
        return cfg, {}
    data = good.read_bytes()
    files = {"zero-length": b"", "random bytes": bytes(np.random.default_rng(1).integers(0, 256, 4096,
                                                                                        dtype=np.uint8))}
    for fraction in (0.02, 0.3, 0.7, 0.98):
        files[f"a Dyad output cut at {fraction:.0%}"] = data[: int(len(data) * fraction)]
    paths = {}
    for what, content in files.items():
        path = tmp / (what.replace(" ", "_").replace("%", "pc") + ".h5")
        path.write_bytes(content)
        paths[what] = path
    foreign = tmp / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["temperature"] = np.arange(10.0)
        f.attrs["title"] = "not a Dyad file"
    paths["an HDF5 file of someone else"] = foreign
    version = tmp / "schema_v9.h5"
    shutil.copy(good, version)
    with h5py.File(version, "r+") as f:
        f.attrs["dyad_schema_version"] = np.int32(9)
    paths["a Dyad file of schema version 9"] = version
    missing = tmp / "missing_variable.h5"
    shutil.copy(good, missing)
    with h5py.File(missing, "r+") as f:
        del f["run_tension"]
    paths["a Dyad file without run_tension"] = missing
    return cfg, paths


def check_corrupt_table(exe, tmp):
    cfg, paths = make_files(exe, tmp)
    for what, path in paths.items():
        for command in (["summarize", path, "--format", "csv"], ["inspect", path],
                        ["run", cfg, "--resume", path, "--quiet"]):
            before = path.read_bytes()
            proc = common.run([exe, *command], timeout=60)
            problems = clean_failure(proc, path.name)
            if path.read_bytes() != before:
                problems.append("the file was changed")
            T.check(f"corrupt: {command[0]} on {what} -> exit 2 naming it, no stack, file untouched",
                    not problems, "; ".join(problems) + "\n" + common.describe(proc))


def check_file_size_limit(exe, tmp):
    if shutil.which("prlimit") is None:
        T.skip("file-size limit", "prlimit not installed")
        return
    text = common.small_config(tmp / "unused.h5", days=200, couples=2000, record="daily",
                               pairings="secure-secure, anxious-avoidant")
    cfg = common.write(tmp / "big.ini", text)
    out = tmp / "limited.h5"
    out.write_bytes(b"an earlier result\n")
    limit = 20_000_000
    proc = subprocess.run(["prlimit", f"--fsize={limit}", str(exe), "run", str(cfg), "-o", str(out),
                           "--overwrite", "--quiet"], capture_output=True, text=True, timeout=300)
    T.check("file-size limit: the run ends with exit 1 and a message naming the file and the cause",
            proc.returncode == 1 and "limited.h5.partial" in proc.stderr and "large" in proc.stderr
            and not any(m in proc.stderr for m in STACK_MARKERS), common.describe(proc))
    T.check("file-size limit: the earlier output is untouched", out.read_bytes() == b"an earlier result\n")
    partial = Path(str(out) + ".partial")
    proc = common.run([exe, "inspect", partial])
    T.check("file-size limit: the .partial stays readable and says it is incomplete",
            proc.returncode == 0 and proc.stdout.split("\n")[1].startswith("status: ")
            and not proc.stdout.split("\n")[1].startswith("status: complete"), common.describe(proc))


def main():
    exe = common.exe_from_argv("test_reliability.py")
    with common.temp_dir("dyad_reliability_") as d:
        tmp = Path(d)
        T.guard("corrupt-file table", check_corrupt_table, exe, tmp)
        T.guard("file-size limit", check_file_size_limit, exe, tmp)
    T.finish()


if __name__ == "__main__":
    main()
