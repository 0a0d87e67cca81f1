#!/usr/bin/python3
"""Randomized crash trials: random SIGKILL / SIGTERM times, file-size limits and byte flips.

    DYAD_TEST_SEED=1 /usr/bin/python3 tests/scripts/crash_trials.py build/dyad [kill fsize flip]

Each trial is classed by what it leaves; a class marked BAD breaks docs/reliability.md:
  kill:  complete (FILE, reference hash) | resumed (an inspectable FILE.partial whose
         --resume gives the reference hash) | nothing (no FILE.partial: a fresh run) |
         BAD (a .partial that inspect or --resume refuses, a wrong hash, a crash)
  fsize: complete | resumed | nothing | BAD (as above; the run itself must exit 0 or 1)
  flip:  detected (--resume exits 1 or 2 naming the file) | resumed (the reference hash) |
         BAD (exit 0 with another hash: a silently wrong complete file; or a crash)
Counts: DYAD_KILL_TRIALS, DYAD_FSIZE_TRIALS, DYAD_FLIP_TRIALS (defaults: the CI sizes);
DYAD_TRIALS_KEEP=DIR keeps a BAD flip trial's file there.
test_reliability.py runs these at the CI sizes and requires no BAD outcome.
"""
import collections
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

# glibc's "free(): invalid pointer" from inside libhdf5 may appear on stderr: the reader ran in
# a child (commands.cpp guarded), so it ends in exit 2 naming the file, which is what counts.
CRASH_MARKERS = ("AddressSanitizer", "runtime error:", "terminate called")


def sweep_config(tmp, name, days, couples, points):
    values = ", ".join(f"{0.1 + 0.4 * i / max(1, points - 1):.3f}" for i in range(points))
    return common.write(tmp / f"{name}.ini",
                        common.small_config(tmp / "unused.h5", days=days, couples=couples, seed=5,
                                            record="daily", pairings="secure-secure, anxious-avoidant",
                                            extra=f"[sweep]\nmodel.work_load_b = {values}\n"))


def inspect(exe, path):
    proc = common.run([exe, "inspect", path], timeout=60)
    return proc, common.data_hash(proc.stdout) if proc.returncode == 0 else None


def crashed(proc):
    return proc.returncode < 0 or proc.returncode > 128 and proc.returncode not in (130, 143) or \
        any(m in proc.stderr for m in CRASH_MARKERS)


def settle(exe, cfg, out, reference):
    """What a stopped run left at `out`: (class, detail)."""
    partial = Path(str(out) + ".partial")
    if out.exists() and not partial.exists():
        proc, h = inspect(exe, out)
        return ("complete", "") if h == reference else ("BAD", f"complete file with hash {h}: {proc.stderr[-300:]}")
    if not partial.exists():
        return "nothing", ""
    proc, _ = inspect(exe, partial)
    if proc.returncode != 0:
        return "BAD", f"inspect of the .partial: exit {proc.returncode}: {proc.stderr[-300:]}"
    for _ in range(3):
        proc = common.run([exe, "run", cfg, "--resume", out, "--quiet"], timeout=120)
        if crashed(proc):
            return "BAD", f"--resume crashed: {common.describe(proc)}"
        if proc.returncode == 0 and out.exists():
            break
    _, h = inspect(exe, out)
    return ("resumed", "") if h == reference else ("BAD", f"resumed to hash {h}, reference {reference}: "
                                                          f"last --resume: {common.describe(proc)}")


def reference_hash(exe, cfg, out, shard=()):
    """The data hash of a complete run of cfg to out (with shard: its shard file, out)."""
    start = time.monotonic()
    target = out.parent / (out.name.split(".shard-")[0] + ".h5") if shard else out
    proc = common.run([exe, "run", cfg, "-o", target, *shard, "--quiet", "--overwrite"], timeout=300)
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        raise RuntimeError(f"reference run failed: {common.describe(proc)}")
    _, h = inspect(exe, out)
    out.unlink()
    return h, seconds


def clear(out):
    for suffix in ("", ".partial", ".partial.new", ".partial.lock"):
        Path(str(out) + suffix).unlink(missing_ok=True)


def kill_trials(exe, tmp, rng, trials):
    cfg = sweep_config(tmp, "kill", days=20, couples=40, points=3)
    out = tmp / "kill.h5"
    reference, seconds = reference_hash(exe, cfg, out)
    counts, bad = collections.Counter(), []
    for trial in range(trials):
        clear(out)
        sig = rng.choice([signal.SIGKILL, signal.SIGTERM])
        delay = rng.uniform(0, 1.3 * seconds)
        run = subprocess.Popen([str(exe), "run", str(cfg), "-o", str(out), "--quiet"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        run.send_signal(sig)
        _, err = run.communicate(timeout=60)
        if run.returncode not in (0, 143, -signal.SIGKILL, -signal.SIGTERM) or any(m in err for m in CRASH_MARKERS):
            counts["BAD"] += 1
            bad.append(f"trial {trial}: {sig.name} at {delay:.3f}s: run exit {run.returncode}: {err[-300:]}")
            continue
        what, detail = settle(exe, cfg, out, reference)
        counts[f"{sig.name} {what}"] += 1
        if what == "BAD":
            bad.append(f"trial {trial}: {sig.name} at {delay:.3f}s: {detail}")
    return counts, bad


def fsize_trials(exe, tmp, rng, trials):
    cfg = sweep_config(tmp, "fsize", days=32, couples=2000, points=4)
    out = tmp / "fsize.h5"
    reference, _ = reference_hash(exe, cfg, out)
    counts, bad = collections.Counter(), []
    for trial in range(trials):
        clear(out)
        limit = int(2 ** rng.uniform(16, 25))  # 64 KiB .. 32 MiB

        def limited(limit=limit):
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        proc = subprocess.run([str(exe), "run", str(cfg), "-o", str(out), "--quiet"], preexec_fn=limited,
                              capture_output=True, text=True, timeout=300)
        if proc.returncode not in (0, 1) or any(m in proc.stderr for m in CRASH_MARKERS):
            counts["BAD"] += 1
            bad.append(f"trial {trial}: limit {limit}: run exit {proc.returncode}: {proc.stderr[-300:]}")
            continue
        what, detail = settle(exe, cfg, out, reference)
        counts[what] += 1
        if what == "BAD":
            bad.append(f"trial {trial}: limit {limit}: {detail}")
    return counts, bad


def flip_base(exe, tmp, shard=()):
    """The file flips are made in: (config, output, its .partial's bytes, the reference hash).
    shard: ("--shard", "1/1") for a shard's file (the output is then the shard's name)."""
    cfg = sweep_config(tmp, "flip", days=20, couples=100, points=4)
    out = tmp / "flip.h5"
    if shard:
        out = tmp / f"flip.shard-{shard[1].replace('/', '-of-')}.h5"
    reference, seconds = reference_hash(exe, cfg, out, shard)
    # An unfinished run, made the same way every time so that a seed repeats the trials:
    # the complete file with points 2 and 3 marked pending and its status "running",
    # both written in place (the same types and sizes, so HDF5 moves nothing).
    import h5py
    import numpy as np
    clear(out)
    proc = common.run([exe, "run", cfg, "-o", tmp / "flip.h5", *shard, "--quiet"], timeout=300)
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(common.describe(proc))
    base = tmp / "flip_base.h5.partial"
    os.replace(out, base)
    with h5py.File(base, "r+") as f:
        status = f["point_status"][...]
        status[2:] = 0
        f["point_status"][...] = status
        days = f["point_days_completed"][...]
        days[2:] = 0
        f["point_days_completed"][...] = days
        attr = h5py.h5a.open(f.id, b"status")
        attr.write(np.array(b"running", dtype=attr.dtype))
    return cfg, out, base.read_bytes(), reference


def flip_trials(exe, tmp, rng, trials):
    """A .partial with some points done, one byte flipped at a random offset, then --resume."""
    cfg, out, data, reference = flip_base(exe, tmp)
    counts, bad = collections.Counter(), []
    for trial in range(trials):
        clear(out)
        offset = rng.randrange(len(data))
        flipped = bytearray(data)
        flipped[offset] ^= 1 << rng.randrange(8)
        Path(str(out) + ".partial").write_bytes(bytes(flipped))
        proc, _ = inspect(exe, Path(str(out) + ".partial"))
        if crashed(proc):
            counts["BAD"] += 1
            bad.append(f"trial {trial}: offset {offset}: inspect crashed: {common.describe(proc)}{kept(flipped, trial)}")
            continue
        proc = common.run([exe, "run", cfg, "--resume", out, "--quiet"], timeout=120)
        if crashed(proc):
            counts["BAD"] += 1
            bad.append(f"trial {trial}: offset {offset}: --resume crashed: {common.describe(proc)}{kept(flipped, trial)}")
        elif proc.returncode != 0:
            counts["detected"] += 1
        else:
            check, h = inspect(exe, out)
            if h == reference:
                counts["resumed"] += 1
            else:
                counts["BAD"] += 1
                bad.append(f"trial {trial}: offset {offset}: --resume exit 0 with hash {h}, reference {reference}; "
                           f"then inspect: {common.describe(check)}{kept(flipped, trial)}")
    return counts, bad


def kept(flipped, trial):
    """Where a BAD trial's flipped file was kept (DYAD_TRIALS_KEEP=DIR), for a message: the
    base file carries the run's time and paths, so a seed alone may not remake its bytes."""
    keep = os.environ.get("DYAD_TRIALS_KEEP")
    if not keep:
        return ""
    path = Path(keep) / f"flip_trial{trial}.h5.partial"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(flipped))
    return f"; flipped file kept as {path}"


CLASSES = {"kill": (kill_trials, "DYAD_KILL_TRIALS", 100), "fsize": (fsize_trials, "DYAD_FSIZE_TRIALS", 8),
           "flip": (flip_trials, "DYAD_FLIP_TRIALS", 40)}


def bad_count(counts):
    # kill trials count outcomes per signal ("SIGKILL BAD"), the others plainly ("BAD")
    return sum(n for outcome, n in counts.items() if outcome.split()[-1] == "BAD")


def run_classes(exe, names, seed, report):
    results = {}
    for name in names:
        fn, env, default = CLASSES[name]
        trials = int(os.environ.get(env, default))
        with tempfile.TemporaryDirectory(prefix=f"dyad_{name}_") as tmp:
            start = time.monotonic()
            counts, bad = fn(Path(exe).resolve(), Path(tmp), random.Random(f"{seed}-{name}"), trials)
            report(name, trials, counts, bad, time.monotonic() - start)
            results[name] = (counts, bad)
    return results


def main():
    exe = sys.argv[1]
    names = sys.argv[2:] or list(CLASSES)
    seed = int(os.environ.get("DYAD_TEST_SEED", time.time_ns() % 1_000_000))
    print(f"seed {seed} (DYAD_TEST_SEED={seed} repeats it)")

    def report(name, trials, counts, bad, seconds):
        print(f"{name}: {trials} trials in {seconds:.0f} s: {dict(sorted(counts.items()))}")
        for line in bad[:10]:
            print(f"  {line}")

    results = run_classes(exe, names, seed, report)
    return 1 if any(bad_count(counts) for counts, _ in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
