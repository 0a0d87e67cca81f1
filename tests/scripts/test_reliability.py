#!/usr/bin/python3
"""Nothing lost: corrupt and foreign files, and a file-size limit, through the executable.

    /usr/bin/python3 tests/scripts/test_reliability.py build/dyad

Corrupt-file table: `summarize`, `inspect` and `run --resume` on a zero-length file,
random bytes, a Dyad output cut at several lengths, an HDF5 file of someone else, a
Dyad file of another schema version and one with a variable missing: each must exit 2
with a message naming the file, never an HDF5 error stack, a sanitizer report or a
signal. File-size limit: a run under `prlimit --fsize` ends with status 1 and a clear
message, leaves the earlier output untouched and the points it had flushed readable.
One output, one run: two runs to one output at random offsets (seed printed,
DYAD_TEST_SEED repeats it; DYAD_CONCURRENT_TRIALS=200 for the larger sweep), a claim
left by a SIGKILLed run taken over, a FILE made during a run kept. A chunk index moved by
one flipped bit: --resume never calls the file complete. Randomized trials
(tests/scripts/crash_trials.py, the same seed): SIGKILL / SIGTERM at random times, file-size
limits, byte flips then --resume; counts DYAD_KILL_TRIALS, DYAD_FSIZE_TRIALS, DYAD_FLIP_TRIALS.
Prints one line per check and `N passed, M failed` last.
"""
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
import crash_trials  # noqa: E402

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
    # The skeleton holds all the space of the file, so a limit below it stops the run
    # before any day is claimed: no FILE.partial (nothing done), no skeleton left.
    partial = Path(str(out) + ".partial")
    T.check("file-size limit below the whole file: nothing claimed done is left behind (no .partial, no "
            ".partial.new)", not partial.exists() and not Path(str(out) + ".partial.new").exists())


def concurrent_config(tmp):
    # About 0.6 s on one idle core: long enough for the second run to start during the
    # first at most offsets, short enough for ten trials to cost ~15 s.
    return common.write(tmp / "concurrent.ini",
                        common.small_config(tmp / "unused.h5", days=150, couples=1000, seed=3,
                                            record="summary", pairings="secure-secure, anxious-avoidant"))


def inspect_hash(exe, path):
    proc = common.run([exe, "inspect", path])
    status = next((l for l in proc.stdout.splitlines() if l.startswith("status: ")), "")
    return proc.returncode, status, common.data_hash(proc.stdout)


def check_concurrent_runs(exe, tmp, rng, trials):
    """Two runs with --overwrite to one output, the second started at a random offset.

    Each trial must end with exactly one run owning the file at any time: a run that
    found the output claimed exits 2 naming the holder's pid; the other exits 0. Both
    may exit 0 only one after the other (the second started after the first released
    the claim). Either way the file is complete, reads, and has the reference hash, and
    no .partial or lock file is left behind.
    """
    cfg = concurrent_config(tmp)
    ref = tmp / "concurrent_ref.h5"
    proc = common.run([exe, "run", cfg, "-o", ref, "--quiet", "--threads", "1"])
    if not T.check("concurrent: the reference run exits 0", proc.returncode == 0, common.describe(proc)):
        return
    _, _, reference = inspect_hash(exe, ref)
    out = tmp / "shared.h5"
    outcomes = {}
    bad = []
    for trial in range(trials):
        offset = rng.uniform(0.0, 0.8)
        args = [str(exe), "run", str(cfg), "-o", str(out), "--overwrite", "--quiet", "--threads", "1"]
        first = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(offset)
        second = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        err = {}
        for name, p in (("first", first), ("second", second)):
            _, err[name] = p.communicate(timeout=120)
        codes = (first.returncode, second.returncode)
        problems = []
        pids = {"first": second.pid, "second": first.pid}  # the pid each refusal must name
        for name, p in (("first", first), ("second", second)):
            if p.returncode == 2:
                if "another run is writing this output" not in err[name] or f"pid {pids[name]}" not in err[name]:
                    problems.append(f"the {name} run's refusal does not name pid {pids[name]}: {err[name]!r}")
            elif p.returncode != 0:
                problems.append(f"the {name} run exited {p.returncode}: {err[name]!r}")
        if codes == (2, 2):
            problems.append("both runs refused")
        code, status, h = inspect_hash(exe, out)
        if code != 0 or status != "status: complete (150 of 150 days written)" or h != reference:
            problems.append(f"the file: inspect exit {code}, {status!r}, hash {h} (reference {reference})")
        left = sorted(p.name for p in tmp.iterdir() if p.name.startswith("shared.h5."))
        if left:
            problems.append(f"left behind: {left}")
        outcome = {(0, 2): "second refused", (2, 0): "first refused", (0, 0): "one after the other"}.get(codes, str(codes))
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if problems:
            bad.append(f"trial {trial} (offset {offset:.3f} s, exits {codes}): " + "; ".join(problems))
        out.unlink(missing_ok=True)
    counts = ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items()))
    T.check(f"concurrent: {trials} trials of two --overwrite runs to one output: one owner at a time, the file "
            f"complete with the reference hash, nothing left behind ({counts})", not bad, "\n".join(bad[:5]))


def check_claim_taken_over(exe, tmp):
    """A run killed by SIGKILL leaves its claim; the next run takes it over and says so."""
    cfg = concurrent_config(tmp)
    out = tmp / "killed.h5"
    args = [str(exe), "run", str(cfg), "-o", str(out), "--quiet", "--threads", "1"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lock = Path(str(out) + ".partial.lock")
    deadline = time.time() + 10
    while time.time() < deadline and not Path(str(out) + ".partial").exists():
        time.sleep(0.01)
    proc.kill()
    proc.wait()
    T.check("stale claim: a SIGKILLed run leaves FILE.partial.lock naming its pid",
            lock.exists() and f"pid {proc.pid}" in lock.read_text(), lock.read_text() if lock.exists() else "none")
    again = common.run([*args, "--overwrite"])
    code, status, _ = inspect_hash(exe, out)
    T.check("stale claim: the next run with --overwrite takes it over (saying whose), completes, removes the lock",
            again.returncode == 0 and f"pid {proc.pid}" in again.stderr and "took over" in again.stderr
            and code == 0 and status.startswith("status: complete") and not lock.exists(), common.describe(again))


def check_file_appeared(exe, tmp):
    """A FILE made during a run without --overwrite is kept; the result stays in .partial."""
    cfg = concurrent_config(tmp)
    out = tmp / "appeared.h5"
    partial = Path(str(out) + ".partial")
    proc = subprocess.Popen([str(exe), "run", str(cfg), "-o", str(out), "--quiet", "--threads", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 10
    while time.time() < deadline and not partial.exists():
        time.sleep(0.005)
    out.write_bytes(b"made by someone else during the run\n")
    _, err = proc.communicate(timeout=120)
    code, status, _ = inspect_hash(exe, partial)
    T.check("a FILE that appeared during a run without --overwrite: kept byte for byte, exit 1 naming it, "
            "the complete result in FILE.partial",
            proc.returncode == 1 and "appeared" in err and out.read_bytes() == b"made by someone else during the run\n"
            and code == 0 and status.startswith("status: complete"), f"exit {proc.returncode}; {err!r}; {status}")


def check_moved_chunk_address(exe, tmp, shard=()):
    """A chunk index (a version 1 B-tree, no checksum) that points point 0's chunk of a variable
    64 KiB away: --resume recomputes point 0 and HDF5 writes it there, over live data on disk,
    while the writer's caches still read whole (crash_trials.py flip, DYAD_TEST_SEED=149225,
    trial 146). The run must not call the file complete. A shard's file (shard=("--shard",
    "1/1")) has no digests: reading it back checks its chunks' Fletcher32 sums."""
    what = "moved chunk, shard" if shard else "moved chunk"
    cfg, out, data, reference = crash_trials.flip_base(exe, tmp, shard)
    partial = Path(str(out) + ".partial")
    partial.write_bytes(data)
    with h5py.File(partial, "r") as f:
        address = f["bids_autonomy_sd"].id.get_chunk_info(0).byte_offset
    where = data.find(address.to_bytes(8, "little"))
    if not T.check(f"{what}: the B-tree's address of the chunk is in the file once",
                   where >= 0 and data.find(address.to_bytes(8, "little"), where + 1) < 0, f"address {address}"):
        return
    flipped = bytearray(data)
    flipped[where + 2] ^= 1  # + 65536
    crash_trials.clear(out)
    partial.write_bytes(bytes(flipped))
    proc = common.run([exe, "run", cfg, *shard, "--resume", out, "--quiet"], timeout=120)
    code, status, h = inspect_hash(exe, out) if out.exists() else (None, "", None)
    T.check(f"{what}: --resume ends in the reference data or exit 1 naming the file, never a complete file "
            "that reads back damaged",
            (proc.returncode == 0 and h == reference) or
            (proc.returncode == 1 and str(partial) in proc.stderr and not out.exists()),
            f"{common.describe(proc)}; then inspect: exit {code}, {status}, hash {h} (reference {reference})")


def check_root_header_stays(exe, tmp):
    """What changes in the root object header after the file is published (status, history)
    is rewritten in place: deleted and created again, "status" moved from the header's first
    chunk to a new continuation chunk at the end of the file, and a SIGKILL during that
    flush left a header without it (crash_trials.py kill, DYAD_TEST_SEED=496788, trial 15,
    CI of 2026-12-03). An unfinished file resumed to completion keeps both messages where
    they were."""
    cfg, out, data, reference = crash_trials.flip_base(exe, tmp)
    partial = Path(str(out) + ".partial")
    partial.write_bytes(data)

    def where(blob):
        return {name: [m.start() for m in re.finditer(re.escape(name) + b"\x00", blob)][:3]
                for name in (b"status", b"history")}

    before = where(data)
    proc = common.run([exe, "run", cfg, "--resume", out, "--quiet"], timeout=120)
    after = where(out.read_bytes()) if out.exists() else None
    T.check("root header: --resume to completion leaves the status and history messages where they were",
            proc.returncode == 0 and after == before and all(len(v) == 1 for v in before.values()),
            f"{common.describe(proc)}; before {before}, after {after}")


def last_global_heap_objects(data):
    """(offset of the size field, size, payload) of the last object of each of the file's
    global heap collections ("GCOL", HDF5 file format specification, "Global Heap"; object
    index 0 is the free space after them)."""
    last, at = [], data.find(b"GCOL")
    while at >= 0:
        end, p, found = at + int.from_bytes(data[at + 8:at + 16], "little"), at + 16, None
        while p + 16 <= end:
            index, size = int.from_bytes(data[p:p + 2], "little"), int.from_bytes(data[p + 8:p + 16], "little")
            if index == 0:
                break
            found = (p + 8, size, data[p + 16:p + 16 + size])
            p += 16 + (size + 7) // 8 * 8
        if found:
            last.append(found)
        at = data.find(b"GCOL", at + 4)
    return last


def check_dimension_list_heap(exe, tmp):
    """A DIMENSION_LIST (a variable-length attribute: its references live in a global heap
    collection, which has no checksum) whose heap object, the last of its collection,
    claims 2^28 more bytes: libhdf5 1.10 copies that many in H5HG_read (crash_trials.py flip,
    DYAD_TEST_SEED=232937, trial 20, under H5DSget_num_scales: AddressSanitizer under ASan, a
    SIGSEGV caught by the guard in release). `inspect` names the dimensions from the scales'
    REFERENCE_LIST, so it reads the file or says it is damaged, and HDF5 does not crash."""
    cfg, out, data, reference = crash_trials.flip_base(exe, tmp)
    partial = Path(str(out) + ".partial")
    partial.write_bytes(data)
    with h5py.File(partial, "r") as f:
        scales = {h5py.h5o.get_info(f[name].id).addr.to_bytes(8, "little") for name in ("day", "couple", "pairing")}
    references = [o for o in last_global_heap_objects(data) if o[1] == 8 and o[2] in scales]
    if not T.check("DIMENSION_LIST heap: a global heap collection ends with a reference to a dimension scale",
                   references, f"last objects: {last_global_heap_objects(data)}"):
        return
    flipped = bytearray(data)
    for size_field, size, _ in references:
        flipped[size_field:size_field + 8] = (size | 1 << 28).to_bytes(8, "little")
    partial.write_bytes(bytes(flipped))
    proc = common.run([exe, "inspect", partial], timeout=120)
    named = re.search(r"^  bids_connection_mean +float64 +\(day, pairing\)", proc.stdout, re.M) is not None
    T.check("DIMENSION_LIST heap: inspect lists the variables with their dimensions, or exit 2 saying the file is "
            "damaged; never a crash in HDF5",
            "Sanitizer" not in proc.stderr and "crashed" not in proc.stderr and
            ((proc.returncode == 0 and named) or (proc.returncode == 2 and "is damaged" in proc.stderr)),
            common.describe(proc))

def main():
    exe = common.exe_from_argv("test_reliability.py")
    seed = int(os.environ.get("DYAD_TEST_SEED", time.time_ns() % 1_000_000))
    trials = int(os.environ.get("DYAD_CONCURRENT_TRIALS", 10))
    print(f"  note: concurrent-run offsets drawn with seed {seed} (DYAD_TEST_SEED={seed} repeats them); "
          f"{trials} trials (DYAD_CONCURRENT_TRIALS)", flush=True)
    rng = random.Random(seed)
    with common.temp_dir("dyad_reliability_") as d:
        tmp = Path(d)
        T.guard("corrupt-file table", check_corrupt_table, exe, tmp)
        T.guard("file-size limit", check_file_size_limit, exe, tmp)
        T.guard("concurrent runs", check_concurrent_runs, exe, tmp, rng, trials)
        T.guard("stale claim", check_claim_taken_over, exe, tmp)
        T.guard("a file that appeared", check_file_appeared, exe, tmp)
        T.guard("moved chunk", check_moved_chunk_address, exe, tmp)
        T.guard("moved chunk, shard", check_moved_chunk_address, exe, tmp, ("--shard", "1/1"))
        T.guard("DIMENSION_LIST heap", check_dimension_list_heap, exe, tmp)
        T.guard("root header", check_root_header_stays, exe, tmp)

    def report(name, trials, counts, bad, seconds):
        T.check(f"randomized {name}: {trials} trials in {seconds:.0f} s, none left a file that lies or a crash "
                f"({dict(sorted(counts.items()))}; seed {seed})", crash_trials.bad_count(counts) == 0, "\n".join(bad[:10]))

    T.guard("randomized trials", crash_trials.run_classes, exe, list(crash_trials.CLASSES), seed, report)
    T.finish()


if __name__ == "__main__":
    main()
