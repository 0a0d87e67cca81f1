#!/usr/bin/python3
"""The SLURM scripts (scripts/slurm/) against a real SLURM on this machine.

    /usr/bin/python3 tests/scripts/test_slurm.py build/dyad

Starts munged and slurmctld/slurmd on localhost (../shared/CLUSTER.md: a private munge
socket, private ports, state and logs in a temporary directory), submits a four-shard
array of a tiny config through submit.sh with one shard made to fail (a directory
where its file goes), checks that the chained merge did not run and that `dyad merge
--check` names the shard, resubmits that shard alone (--array 3) with a new merge,
and checks that the merged data hash equals a one-process run's. The daemons are ended
by their pids. Skips, saying why, only if slurm-wlm and munge are neither installed
nor installable (apt-get, as root). Needs root (SlurmUser=root).
"""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

T = common.Runner("slurm")
SCRIPTS = common.REPO / "scripts" / "slurm"
BINARIES = ("/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/sbin/munged", "/usr/bin/sbatch")


def installed():
    return all(Path(b).exists() for b in BINARIES)


def try_install():
    if installed():
        return None
    if os.geteuid() != 0:
        return "slurm-wlm/munge are not installed and this is not root (scripts/setup.sh installs them)"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"],
                ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "slurm-wlm", "munge"]):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
        if proc.returncode != 0:
            return f"slurm-wlm is not installable here: {' '.join(cmd)}: {proc.stderr.strip()[-300:]}"
    return None if installed() else "slurm-wlm installed but its daemons are missing"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """munged + slurmctld + slurmd on localhost, everything under `root`."""

    def __init__(self, root):
        self.root = root
        self.pids = {}
        self.env = dict(os.environ, SLURM_CONF=str(root / "slurm.conf"))

    def start(self):
        r = self.root
        munge_dir = r / "munge"
        munge_dir.mkdir()
        munge = pwd.getpwnam("munge")
        os.chown(munge_dir, munge.pw_uid, munge.pw_gid)
        # munged runs as munge: every directory above its own must be traversable.
        os.chmod(r, 0o755)
        os.chmod(r.parent, 0o755)
        self.socket = munge_dir / "munge.socket"
        proc = subprocess.run(
            ["runuser", "-u", "munge", "--", "/usr/sbin/munged", f"--socket={self.socket}",
             f"--pid-file={munge_dir / 'munged.pid'}", f"--log-file={munge_dir / 'munged.log'}",
             f"--seed-file={munge_dir / 'munged.seed'}"], capture_output=True, text=True, timeout=30)
        if proc.returncode != 0:
            raise RuntimeError(f"munged: {proc.stderr.strip()}")
        self.pids["munged"] = self.read_pid(munge_dir / "munged.pid")
        for d in ("state", "spool"):
            (r / d).mkdir()
        ctld_port, d_port = free_port(), free_port()
        (r / "slurm.conf").write_text(f"""ClusterName=dyadtest
SlurmctldHost=localhost
SlurmUser=root
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.socket}
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
SlurmdParameters=config_overrides
MpiDefault=none
ReturnToService=2
StateSaveLocation={r / 'state'}
SlurmdSpoolDir={r / 'spool'}
SlurmctldLogFile={r / 'slurmctld.log'}
SlurmdLogFile={r / 'slurmd.log'}
SlurmctldPidFile={r / 'slurmctld.pid'}
SlurmdPidFile={r / 'slurmd.pid'}
NodeName=localhost NodeAddr=127.0.0.1 CPUs={os.cpu_count() or 1} State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
""")
        conf = str(r / "slurm.conf")
        for name, cmd in (("slurmctld", ["/usr/sbin/slurmctld", "-f", conf]),
                          ("slurmd", ["/usr/sbin/slurmd", "-f", conf, "-N", "localhost"])):
            proc = subprocess.run(cmd, capture_output=True, text=True, env=self.env, timeout=30)
            if proc.returncode != 0:
                raise RuntimeError(f"{name}: {proc.stderr.strip()} {self.log(name)}")
            self.pids[name] = self.read_pid(r / f"{name}.pid")
        deadline = time.time() + 30
        while time.time() < deadline:
            proc = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, env=self.env)
            if proc.returncode == 0 and proc.stdout.strip() in ("idle", "mixed", "allocated"):
                return
            time.sleep(0.5)
        raise RuntimeError(f"the node never became idle: {self.log('slurmctld')} {self.log('slurmd')}")

    def log(self, name):
        p = self.root / f"{name}.log"
        return p.read_text()[-1500:] if p.exists() else ""

    @staticmethod
    def read_pid(path):
        deadline = time.time() + 10
        while time.time() < deadline:
            if path.exists() and path.read_text().strip():
                return int(path.read_text().strip())
            time.sleep(0.1)
        raise RuntimeError(f"no pid file {path}")

    def stop(self):
        if "slurmctld" in self.pids:
            try:
                subprocess.run(["scontrol", "shutdown"], capture_output=True, env=self.env, timeout=20)
            except subprocess.TimeoutExpired:
                pass
        for name in ("slurmd", "slurmctld", "munged"):
            pid = self.pids.get(name)
            if pid is None:
                continue
            deadline = time.time() + 10
            while time.time() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                if name == "munged" or time.time() > deadline - 5:
                    os.kill(pid, signal.SIGTERM)
                time.sleep(0.2)

    def jobs(self):
        proc = subprocess.run(["squeue", "-h", "-o", "%i %T"], capture_output=True, text=True, env=self.env)
        return proc.stdout.split("\n") if proc.returncode == 0 else []


def wait_for(what, condition, cluster, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    print(f"  note: timed out waiting for {what}; queue: {cluster.jobs()}", flush=True)
    return False


def submit(cluster, exe, config, output, *extra):
    proc = common.run([SCRIPTS / "submit.sh", config, output, "4", "--throttle", "2", "--dyad", exe, *extra],
                      env=cluster.env, timeout=60)
    ids = dict(line.split() for line in proc.stdout.splitlines() if line.startswith(("array ", "merge ")))
    return proc, ids


def check_array(exe, tmp, cluster):
    config = common.write(tmp / "tiny.ini", common.small_config(
        "unused.h5", days=6, couples=12, seed=11, pairings="secure-secure, anxious-avoidant",
        extra="\n[sweep]\nmodel.work_load_b = 0.2, 0.5\n"))
    ref = tmp / "ref.h5"
    proc = common.run([exe, "run", config, "-o", ref, "-q"])
    if not T.check("one-process reference run", proc.returncode == 0, common.describe(proc)):
        return
    reference = common.data_hash(common.run([exe, "inspect", ref]).stdout)
    out_dir = tmp / "out"
    out_dir.mkdir()
    output = out_dir / "run.h5"
    shard = lambda i: out_dir / f"run.shard-{i}-of-4.h5"  # noqa: E731
    shard(3).mkdir()  # shard 3 fails: its output path is a directory

    proc, ids = submit(cluster, exe, config, output)
    if not T.check("submit.sh queues the array and the merge", proc.returncode == 0 and set(ids) == {"array", "merge"},
                   common.describe(proc)):
        return
    T.check("shards 1, 2 and 4 are written by the array",
            wait_for("shards 1, 2, 4", lambda: all(shard(i).is_file() for i in (1, 2, 4)), cluster))
    T.check("the array leaves the queue and the merge is not run (afterok on a failed task)",
            wait_for("the queue to empty", lambda: not any(line.strip() for line in cluster.jobs()), cluster)
            and not output.exists())
    log = out_dir / "run.slurm" / "shard-3.out"
    T.check("shard 3's task log says why it failed", log.exists() and "is a directory" in log.read_text(),
            log.read_text() if log.exists() else "no log")
    proc = common.run([exe, "merge", "--check", "--shards", "4", *[shard(i) for i in range(1, 5)]])
    T.check("dyad merge --check: '3'", proc.stdout.strip() == "3", common.describe(proc))

    shard(3).rmdir()
    proc, ids = submit(cluster, exe, config, output, "--array", "3")
    T.check("submit.sh --array 3 resubmits shard 3 alone with a new merge", proc.returncode == 0 and "array" in ids,
            common.describe(proc))
    T.check("the merged file appears",
            wait_for("the merge", lambda: output.is_file(), cluster, timeout=60))
    task_log = (out_dir / "run.slurm" / "shard-3.out").read_text()
    T.check("the resubmitted task ran shard 3 of 4 (DYAD_SHARDS, not SLURM_ARRAY_TASK_COUNT = 1)",
            "shard 3/4 exit 0" in task_log, task_log)
    if output.is_file():
        merged = common.data_hash(common.run([exe, "inspect", output]).stdout)
        T.check(f"merged data hash {merged} == one-process {reference}", merged == reference)


def main():
    exe = common.exe_from_argv("test_slurm.py")
    reason = try_install()
    if reason:
        T.skip("SLURM job array", reason)
        T.finish()
    if os.geteuid() != 0:
        T.skip("SLURM job array", "needs root (the test cluster runs SlurmUser=root)")
        T.finish()
    # slurmd runs the batch scripts from its spool: not on a noexec mount.
    base = Path("/tmp") if not (os.statvfs("/tmp").f_flag & os.ST_NOEXEC) else Path.cwd()
    import tempfile
    with tempfile.TemporaryDirectory(prefix="dyad_slurm_", dir=base) as d:
        tmp = Path(d)
        cluster = Cluster(tmp / "cluster")
        (tmp / "cluster").mkdir()
        try:
            T.guard("start munged, slurmctld, slurmd", cluster.start)
            if T.check("the local cluster is up", "slurmd" in cluster.pids):
                T.guard("array, failed shard, resubmission, merge", check_array, exe, tmp, cluster)
        finally:
            cluster.stop()
            shutil.rmtree(tmp / "cluster", ignore_errors=True)
    T.finish()


if __name__ == "__main__":
    main()
