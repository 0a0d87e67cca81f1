#!/usr/bin/python3
"""Shards and their merge through the real executable (docs/cluster.md).

    /usr/bin/python3 tests/scripts/test_shard.py build/dyad

For a small sweep (4 points x 2 pairings, record = daily) and a one-pairing run of
28,772 couples (8 work units of up to 4,096 couples), every N in {1, 2, 3, 7} (and 4 for the one-pairing run): the N
shards run one by one, `dyad merge` joins them, and the merged data hash must equal the
one-process run's (golden-hash style). Then the merge's refusals: a missing, duplicated,
foreign, unfinished (.partial) or corrupt shard each exit 2 naming the file and leave no
output; `merge --check` prints a SLURM --array list; a bad --shard exits 2 naming it.
Prints one line per check and `N passed, M failed` last.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

T = common.Runner("shard")

SWEEP_EXTRA = """
[sweep]
model.work_load_b = 0.1, 0.3, 0.5, 0.65
"""


def inspect_hash(exe, path):
    proc = common.run([exe, "inspect", path])
    return common.data_hash(proc.stdout), proc


def shard_and_merge(exe, tmp, name, config, counts):
    whole = tmp / f"{name}.h5"
    proc = common.run([exe, "run", config, "-o", whole, "-q"])
    if not T.check(f"{name}: the one-process run", proc.returncode == 0, common.describe(proc)):
        return
    reference, _ = inspect_hash(exe, whole)
    print(f"  note: {name} one-process data hash {reference}", flush=True)
    for n in counts:
        out = tmp / f"{name}_n{n}"
        out.mkdir()
        ok = True
        for i in range(1, n + 1):
            proc = common.run([exe, "run", config, "-o", out / "run.h5", "-q", "--shard", f"{i}/{n}"])
            ok = T.check(f"{name}: shard {i}/{n} runs", proc.returncode == 0, common.describe(proc)) and ok
        if not ok:
            continue
        shards = sorted(out.glob(f"run.shard-*-of-{n}.h5"))
        T.check(f"{name}: {n} shard files named run.shard-I-of-{n}.h5", len(shards) == n, str(shards))
        for mode, flags in (("virtual", []), ("copy", ["--copy"])):
            target = out / f"merged_{mode}.h5"
            proc = common.run([exe, "merge", *shards, "-o", target, "-q", *flags])
            if not T.check(f"{name}: merge ({mode}) of {n} shards", proc.returncode == 0, common.describe(proc)):
                continue
            merged, _ = inspect_hash(exe, target)
            T.check(f"{name}: N = {n}, {mode}: merged data hash {merged} == one-process {reference}",
                    merged == reference)
    return reference


def check_shard_file(exe, tmp):
    import xarray as xr
    shard = tmp / "sweep_n3" / "run.shard-2-of-3.h5"
    proc = common.run([exe, "inspect", shard])
    T.check("dyad inspect reads a shard and shows shard 2/3", proc.returncode == 0 and "shard                    2/3" in proc.stdout,
            common.describe(proc))
    with xr.open_dataset(shard, engine="h5netcdf") as ds:
        T.check("xarray opens a shard: its points, global couple ids and unit partial sums",
                ds.attrs["shard_index"] == 2 and ds.attrs["shard_count"] == 3 and
                ds.unit_sum.dims == ("day", "unit", "metric") and int(ds.couple.values[0]) > 0 and
                ds.attrs["status"] == "complete", str(ds))


def check_virtual(exe, tmp):
    """A virtual merge reads from another directory, moves with its shards, and says when one is gone."""
    import numpy as np
    import shutil
    import xarray as xr
    src = tmp / "sweep_n3"
    moved = tmp / "moved"
    shutil.copytree(src, moved)
    merged = moved / "merged_virtual.h5"
    ref = tmp / "sweep.h5"
    with xr.open_dataset(merged, engine="h5netcdf") as a, xr.open_dataset(ref, engine="h5netcdf") as b:
        same = all(np.array_equal(a[v].values, b[v].values, equal_nan=a[v].dtype.kind == "f")
                   for v in b.data_vars)
        T.check("xarray reads the moved virtual merge (relative paths) as the one-process file", same)
    proc = common.run([exe, "inspect", merged])
    T.check("inspect: virtual datasets over 3 shards, 3 present", "over 3 shards beside the file (3 present)" in proc.stdout,
            common.describe(proc))
    (moved / "run.shard-2-of-3.h5").unlink()
    proc = common.run([exe, "inspect", merged])
    T.check("inspect names a missing virtual source", "MISSING virtual source" in proc.stdout and
            "run.shard-2-of-3.h5" in proc.stdout, common.describe(proc))
    proc = common.run([exe, "inspect", src / "merged_copy.h5"])
    T.check("inspect: a --copy merge is self-contained", "self-contained copy of 3 shards" in proc.stdout,
            common.describe(proc))


def check_refusals(exe, tmp, config):
    d = tmp / "refuse"
    d.mkdir()
    for i in (1, 2, 3):
        common.run([exe, "run", config, "-o", d / "run.h5", "-q", "--shard", f"{i}/3"])
    s1, s2, s3 = (d / f"run.shard-{i}-of-3.h5" for i in (1, 2, 3))
    out = d / "out.h5"

    def refused(label, args, needle):
        proc = common.run([exe, "merge", *args, "-o", out, "-q"])
        T.check(f"{label}: exit 2 naming {needle}, nothing written",
                proc.returncode == 2 and str(needle) in proc.stderr and not out.exists() and
                not Path(str(out) + ".partial").exists(), common.describe(proc))

    refused("a missing shard", [s1, s3], "run.shard-2-of-3.h5")
    refused("a duplicated shard", [s1, s2, s3, s2], s2)
    foreign = tmp / "foreign"
    foreign.mkdir()
    common.run([exe, "run", config, "-o", foreign / "run.h5", "-q", "--shard", "2/3", "--set", "run.seed=99"])
    refused("a shard of another config", [s1, foreign / "run.shard-2-of-3.h5", s3], foreign / "run.shard-2-of-3.h5")
    partial = d / "run.shard-2-of-3.h5.partial"
    partial.write_bytes(s2.read_bytes())
    # An unfinished shard: the file as a run leaves it before its rename (status running).
    import h5py
    with h5py.File(partial, "r+") as f:
        f.attrs.modify("status", "running")
    refused("an unfinished shard (.partial, status running)", [s1, partial, s3], partial)
    corrupt = d / "corrupt.h5"
    corrupt.write_bytes(s2.read_bytes()[:4096])
    refused("a corrupt (truncated) shard", [s1, corrupt, s3], corrupt)
    refused("a file that is not a shard", [s1, tmp / "sweep.h5", s3], tmp / "sweep.h5")

    proc = common.run([exe, "merge", "--check", s1, s3, partial, "-q"])
    T.check("merge --check lists the unfinished shard: '2'", proc.returncode == 0 and proc.stdout.strip() == "2",
            common.describe(proc))
    proc = common.run([exe, "merge", "--check", "--shards", "4", d / "none.shard-1-of-4.h5", "-q"])
    T.check("merge --check --shards 4 with nothing there: '1-4'", proc.returncode == 0 and proc.stdout.strip() == "1-4",
            common.describe(proc))
    four = tmp / "four"
    four.mkdir()
    common.run([exe, "run", config, "-o", four / "run.h5", "-q", "--shard", "2/4"])
    proc = common.run([exe, "merge", "--check", *four.glob("run.shard-*"), "-q"])
    T.check("merge --check with only shard 2 of 4: '1,3-4'", proc.returncode == 0 and proc.stdout.strip() == "1,3-4",
            common.describe(proc))
    proc = common.run([exe, "merge", s1, s2, s3, "-o", out, "-q"])
    T.check("the three shards merge", proc.returncode == 0 and out.exists(), common.describe(proc))
    proc = common.run([exe, "merge", s1, s2, s3, "-o", out, "-q"])
    T.check("an existing output without --overwrite: exit 2", proc.returncode == 2 and "--overwrite" in proc.stderr,
            common.describe(proc))
    for bad in ("0/3", "4/3", "1/0", "a/3", "3", "1/100"):
        proc = common.run([exe, "run", config, "-o", d / "bad.h5", "-q", "--shard", bad])
        T.check(f"--shard {bad}: exit 2 naming --shard", proc.returncode == 2 and "--shard" in proc.stderr,
                common.describe(proc))


def check_usr1_resume(exe, tmp):
    """SIGUSR1 (SLURM's warning before the wall time) stops a shard like SIGTERM."""
    import signal
    import subprocess
    import time
    config = common.write(tmp / "long.ini", common.small_config(
        "unused.h5", days=1500, couples=600, seed=8, record="summary", pairings="secure-anxious, anxious-avoidant"))
    d = tmp / "usr1"
    d.mkdir()
    ref = d / "ref.h5"
    proc = common.run([exe, "run", config, "-o", ref, "-q"])
    reference, _ = inspect_hash(exe, ref)
    proc = subprocess.Popen([str(exe), "run", str(config), "-o", str(d / "run.h5"), "-q", "--shard", "2/2"],
                            stderr=subprocess.PIPE, text=True)
    # Signalled as soon as the shard's .partial exists (the skeleton is published before
    # the first day), not after a fixed sleep: on an idle machine the run can end first.
    partial_file = d / "run.shard-2-of-2.h5.partial"
    deadline = time.time() + 30
    while not partial_file.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGUSR1)
    _, err = proc.communicate(timeout=60)
    partial = d / "run.shard-2-of-2.h5.partial"
    status = common.run([exe, "inspect", partial]).stdout
    T.check("SIGUSR1: exit 138 (128 + 10), the shard kept as .partial marked interrupted",
            proc.returncode == 138 and partial.exists() and "status: interrupted" in status, f"exit {proc.returncode} {err}")
    proc = common.run([exe, "run", config, "-o", d / "run.h5", "-q", "--shard", "1/2", "--resume",
                       d / "run.shard-2-of-2.h5"])
    T.check("--resume with another --shard: exit 2 naming --shard, the file still interrupted",
            proc.returncode == 2 and "--shard" in proc.stderr and
            "status: interrupted" in common.run([exe, "inspect", partial]).stdout, common.describe(proc))
    proc = common.run([exe, "run", config, "-o", d / "run.h5", "-q", "--resume", d / "run.shard-2-of-2.h5"])
    T.check("--resume of a shard without --shard: exit 2", proc.returncode == 2 and "--shard" in proc.stderr,
            common.describe(proc))
    proc = common.run([exe, "run", config, "-o", d / "run.h5", "-q", "--shard", "2/2", "--resume",
                       d / "run.shard-2-of-2.h5"])
    T.check("--resume completes the interrupted shard", proc.returncode == 0, common.describe(proc))
    proc = common.run([exe, "run", config, "-o", d / "run.h5", "-q", "--shard", "2/2", "--resume",
                       d / "run.shard-2-of-2.h5"])
    # as for any complete run (a pipeline may always pass --resume): nothing to do, exit 0
    T.check("--resume of a complete shard: exit 0, nothing to do",
            proc.returncode == 0 and "nothing to do" in proc.stderr, common.describe(proc))
    common.run([exe, "run", config, "-o", d / "run.h5", "-q", "--shard", "1/2"])
    proc = common.run([exe, "merge", d / "run.shard-1-of-2.h5", d / "run.shard-2-of-2.h5", "-o", d / "m.h5", "-q"])
    merged, _ = inspect_hash(exe, d / "m.h5")
    T.check(f"interrupted, resumed and merged: data hash {merged} == one-process {reference}",
            proc.returncode == 0 and merged == reference, common.describe(proc))


def main():
    exe = common.exe_from_argv("test_shard.py")
    with common.temp_dir("dyad_shard_") as dname:
        tmp = Path(dname)
        sweep = common.write(tmp / "sweep.ini", common.small_config(
            "unused.h5", days=8, couples=30, seed=3, pairings="secure-secure, anxious-avoidant", extra=SWEEP_EXTRA))
        one = common.write(tmp / "one.ini", common.small_config(
            "unused.h5", days=3, couples=7 * 4096 + 100, seed=4, record="summary", pairings="anxious-avoidant"))
        T.guard("sweep shards", shard_and_merge, exe, tmp, "sweep", sweep, (1, 2, 3, 7))
        T.guard("one-pairing shards", shard_and_merge, exe, tmp, "one", one, (1, 2, 3, 4, 7))
        T.guard("a shard file on its own", check_shard_file, exe, tmp)
        T.guard("a virtual merge", check_virtual, exe, tmp)
        T.guard("merge refusals", check_refusals, exe, tmp, sweep)
        T.guard("SIGUSR1 and --resume of a shard", check_usr1_resume, exe, tmp)
    T.finish()


if __name__ == "__main__":
    main()
