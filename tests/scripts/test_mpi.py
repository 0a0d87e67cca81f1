#!/usr/bin/python3
"""`mpirun -np R dyad run` through the real executable and OpenMPI (docs/cluster.md "MPI").

    /usr/bin/python3 tests/scripts/test_mpi.py build/dyad

For a sweep (3 points x 2 pairings x 5,000 couples: 4 work units a point, two of them
uneven, record = daily) and a one-point run, `mpirun -np R` for R in 1, 2, 3 must
write one file whose data hash equals the one-process run's. Then a killed rank: one
worker of three is sent SIGKILL once a point is done; mpirun must end the job (no
hang), OUT.partial must say which points are done, and `--resume` with mpirun and,
on a copy, without it must finish with the one-process hash. Last, --shard with two
ranks exits 2 naming --shard.

Exits 77 (CTest's SKIP_RETURN_CODE for this test) only when `dyad --version` says the
binary was built without MPI; with MPI built, a missing mpirun is a failure.
"""
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

T = common.Runner("mpi")
MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe"]

SWEEP = """
[sweep]
model.work_load_b = 0.1, 0.35, 0.6
"""
# Long enough that a rank can be killed with points done and points left (a few
# seconds on 2 cores), short enough for the test's budget.
KILL_SWEEP = """
[sweep]
model.work_load_b = 0.1, 0.2, 0.3, 0.4, 0.5, 0.6
"""


def data_hash(exe, path):
    proc = common.run([exe, "inspect", path])
    return common.data_hash(proc.stdout)


def rank_pids(mpirun_pid):
    """pid of each rank mpirun started, by OMPI_COMM_WORLD_RANK."""
    out = subprocess.run(["pgrep", "-P", str(mpirun_pid)], capture_output=True, text=True).stdout.split()
    ranks = {}
    for pid in out:
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        for entry in env:
            if entry.startswith(b"OMPI_COMM_WORLD_RANK="):
                ranks[int(entry.split(b"=", 1)[1])] = int(pid)
    return ranks


def points_done(exe, partial):
    proc = common.run([exe, "inspect", partial])
    for line in proc.stdout.splitlines():
        if line.startswith("points done:"):
            return int(line.split()[2])
    return -1


def equal_hashes(exe, tmp, name, config_text):
    config = common.write(tmp / f"{name}.ini", config_text)
    one = tmp / f"{name}_one.h5"
    proc = common.run([exe, "run", config, "-o", one, "-q"])
    if not T.check(f"{name}: the one-process run (built with MPI, no mpirun)", proc.returncode == 0,
                   common.describe(proc)):
        return
    reference = data_hash(exe, one)
    print(f"  note: {name} one-process data hash {reference}", flush=True)
    for ranks in (1, 2, 3):
        out = tmp / f"{name}_np{ranks}.h5"
        proc = common.run([*MPIRUN, "-np", ranks, exe, "run", config, "-o", out, "-q", "--threads", "1"])
        if not T.check(f"{name}: mpirun -np {ranks} runs", proc.returncode == 0, common.describe(proc)):
            continue
        T.check(f"{name}: -np {ranks} wrote one file, no .partial left",
                out.is_file() and not Path(f"{out}.partial").exists() and
                sorted(p.name for p in tmp.glob(f"{name}_np{ranks}*")) == [out.name],
                str(sorted(tmp.glob(f"{name}_np{ranks}*"))))
        got = data_hash(exe, out)
        T.check(f"{name}: -np {ranks} data hash {got} == one-process {reference}", got == reference)


def killed_rank(exe, tmp):
    config = common.write(tmp / "kill.ini", common.small_config(tmp / "kill.h5", days=150, couples=2000,
                                                                 record="summary",
                                                                 pairings="secure-secure, secure-anxious",
                                                                 extra=KILL_SWEEP))
    one = tmp / "kill_one.h5"
    proc = common.run([exe, "run", config, "-o", one, "-q"])
    if not T.check("kill: the one-process run", proc.returncode == 0, common.describe(proc)):
        return
    reference = data_hash(exe, one)
    out = tmp / "kill.h5"
    partial = Path(f"{out}.partial")
    job = subprocess.Popen([*MPIRUN, "-np", "3", str(exe), "run", str(config), "-o", str(out), "-q", "--threads", "1"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and job.poll() is None and not (partial.exists() and points_done(exe, partial) >= 1):
        time.sleep(0.2)
    victims = rank_pids(job.pid)
    if not T.check("kill: a point done while the job runs, and its three ranks found",
                   job.poll() is None and len(victims) == 3, f"ranks {victims}, exit {job.poll()}"):
        job.kill()
        job.communicate()
        return
    os.kill(victims[2], signal.SIGKILL)
    killed_at = time.monotonic()
    try:
        _, stderr = job.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        job.kill()
        job.communicate()
        T.check("kill: mpirun ends the job after SIGKILL of rank 2 (no hang)", False, "still running after 60 s")
        return
    T.check(f"kill: mpirun ends the job {time.monotonic() - killed_at:.1f} s after SIGKILL of rank 2, exit != 0",
            job.returncode != 0, f"exit {job.returncode}")
    T.check("kill: OUT absent, OUT.partial kept", partial.exists() and not out.exists(), stderr[-800:])
    done = points_done(exe, partial)
    T.check(f"kill: OUT.partial says {done} of 6 points done (some, not all)", 1 <= done < 6, stderr[-800:])
    copy = tmp / "kill_copy.h5"
    shutil.copy(partial, f"{copy}.partial")
    proc = common.run([*MPIRUN, "-np", "2", exe, "run", config, "--resume", out, "-q", "--threads", "1"])
    if T.check("kill: mpirun -np 2 ... --resume OUT finishes", proc.returncode == 0, common.describe(proc)):
        got = data_hash(exe, out)
        T.check(f"kill: resumed under mpirun, data hash {got} == one-process {reference}", got == reference)
    proc = common.run([exe, "run", config, "--resume", copy, "-q"])
    if T.check("kill: dyad run --resume (no mpirun) of a copy finishes", proc.returncode == 0, common.describe(proc)):
        got = data_hash(exe, copy)
        T.check(f"kill: resumed in one process, data hash {got} == one-process {reference}", got == reference)


def refusals(exe, tmp):
    config = common.write(tmp / "bad.ini", common.small_config(tmp / "bad.h5", record="summary"))
    proc = common.run([*MPIRUN, "-np", "2", exe, "run", config, "--shard", "1/2", "-q"])
    T.check("--shard with mpirun -np 2: exit 2 naming --shard, no file",
            proc.returncode == 2 and "'--shard'" in proc.stderr and "mpirun" in proc.stderr and
            not list(tmp.glob("bad*.h5*")), common.describe(proc))
    proc = common.run([*MPIRUN, "-np", "2", exe, "run", tmp / "absent.ini", "-q"])
    T.check("a missing config under mpirun -np 2: exit 2 naming it (every rank ends)",
            proc.returncode == 2 and "absent.ini" in proc.stderr, common.describe(proc))


def main():
    exe = common.exe_from_argv("test_mpi")
    version = common.run([exe, "--version"]).stdout
    if "mpi: yes" not in version:
        print(f"SKIP test_mpi: {exe} was built without MPI ({version.strip()!r}); "
              "install libopenmpi-dev (scripts/setup.sh does) and build again", flush=True)
        sys.exit(77)
    if not shutil.which("mpirun"):
        T.check("mpirun is on PATH (openmpi-bin; the binary was built with MPI)", False, os.environ.get("PATH", ""))
        T.finish()
    start = time.monotonic()
    with common.temp_dir("dyad_mpi_") as tmp_name:
        tmp = Path(tmp_name)
        T.guard("sweep", equal_hashes, exe, tmp, "sweep",
                common.small_config(tmp / "sweep.h5", days=40, couples=5000, pairings="secure-secure, anxious-avoidant",
                                    extra=SWEEP))
        T.guard("plain", equal_hashes, exe, tmp, "plain",
                common.small_config(tmp / "plain.h5", days=30, couples=9000, record="summary",
                                    pairings="secure-secure"))
        T.guard("kill", killed_rank, exe, tmp)
        T.guard("refusals", refusals, exe, tmp)
    print(f"  note: {time.monotonic() - start:.1f} s", flush=True)
    T.finish()


if __name__ == "__main__":
    main()
