#!/usr/bin/python3
"""scripts/plot_sensitivity.py and configs/sensitivity.ini through the real executable.

    /usr/bin/python3 tests/scripts/test_plot_sensitivity.py build/dyad

Small Ishigami sweeps (docs/models.md "ishigami"; seconds): a sobol design with a dummy
key and a morris design are run and plotted (a PNG written, its path printed, the
default name beside the file); a grid sweep, a plain run, a file that is not HDF5 and an
unfinished sobol sweep are refused with exit 2 and a message, no traceback. The example
configs/sensitivity.ini must pass `dyad plan` as a sobol design with its dummy key (it is
not run here: it takes minutes).
Prints one line per check and `N passed, M failed` last.
"""
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

import h5py  # noqa: E402

T = common.Runner("plot_sensitivity")
PLOT = common.REPO / "scripts" / "plot_sensitivity.py"
EXAMPLE = common.REPO / "configs" / "sensitivity.ini"
PI = "3.141592653589793"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def ishigami(out, sweep, dummy=True):
    keys = "".join(f"model.x{i} = -{PI}:{PI}\n" for i in (1, 2, 3))
    return (f"[run]\nmodel = ishigami\ndays = 1\ncouples = 1\nseed = 1\noutput = {out}\n\n"
            f"[pairings]\nlist = secure-secure\n\n[sweep]\n{sweep}{keys}"
            + ("dummy.noise = 0:1\n" if dummy else ""))


def plot(exe, *args):
    return common.run([common.PYTHON, PLOT, *args, "--dyad", exe], timeout=300)


def is_png(path):
    return path.is_file() and path.read_bytes()[:8] == PNG_MAGIC


def refused(proc, says):
    return proc.returncode == 2 and says in proc.stderr and "Traceback" not in proc.stderr


def run_sweep(exe, tmp, name, sweep, dummy=True):
    out = tmp / f"{name}.h5"
    cfg = common.write(tmp / f"{name}.ini", ishigami(out, sweep, dummy))
    proc = common.run([exe, "run", cfg, "-q", "--threads", "1"], timeout=600)
    ok = T.check(f"{name}: the small ishigami sweep runs", proc.returncode == 0 and out.exists(),
                 common.describe(proc))
    return out if ok else None


def check_sobol(exe, tmp):
    out = run_sweep(exe, tmp, "sobol", "mode = sobol\nsamples = 64\n")
    if out is None:
        return
    png = tmp / "sobol_y.png"
    proc = plot(exe, out, "y", "-o", png, "--bootstrap", "100", "--seed", "3")
    T.check("sobol: plot_sensitivity.py FILE y -o OUT writes a PNG and prints its path",
            proc.returncode == 0 and is_png(png) and str(png) in proc.stdout, common.describe(proc))
    default = tmp / "sobol_sensitivity_y.png"
    proc = plot(exe, out, "run_y", "--bootstrap", "100")
    T.check("sobol: without -o, <stem>_sensitivity_<METRIC>.png beside FILE (run_ prefix accepted)",
            proc.returncode == 0 and is_png(default) and str(default) in proc.stdout, common.describe(proc))
    proc = plot(exe, out, "no_such_metric")
    T.check("sobol: an unknown metric is exit 2 naming the file's metrics",
            refused(proc, "no_such_metric") and "there: y" in proc.stderr, common.describe(proc))

    # Unfinished: a copy with two points pending; dyad sensitivity's refusal comes through.
    partial = tmp / "unfinished.h5"
    shutil.copy(out, partial)
    with h5py.File(partial, "r+") as f:
        f["point_status"][5] = 0
        f["point_status"][77] = 0
    proc = plot(exe, partial, "y", "-o", tmp / "unfinished.png")
    T.check("an unfinished sobol sweep: exit 2 naming the points not done, no PNG",
            refused(proc, "unfinished") and "5, 77" in proc.stderr and not (tmp / "unfinished.png").exists(),
            common.describe(proc))


def check_sobol_without_dummy(exe, tmp):
    out = run_sweep(exe, tmp, "nodummy", "mode = sobol\nsamples = 32\n", dummy=False)
    if out is None:
        return
    png = tmp / "nodummy.png"
    proc = plot(exe, out, "y", "-o", png, "--bootstrap", "50")
    T.check("sobol without a dummy key: a PNG all the same (no noise floor)",
            proc.returncode == 0 and is_png(png), common.describe(proc))


def check_morris(exe, tmp):
    out = run_sweep(exe, tmp, "morris", "mode = morris\ntrajectories = 10\nlevels = 4\nseed = 2\n")
    if out is None:
        return
    png = tmp / "morris_y.png"
    proc = plot(exe, out, "y", "-o", png, "--bootstrap", "100")
    T.check("morris: plot_sensitivity.py writes a PNG (mu* with its interval, sigma)",
            proc.returncode == 0 and is_png(png) and str(png) in proc.stdout, common.describe(proc))


def check_refusals(exe, tmp):
    grid = tmp / "grid.h5"
    cfg = (f"[run]\nmodel = ishigami\ncouples = 1\ndays = 1\noutput = {grid}\n[pairings]\nlist = secure-secure\n"
           f"[sweep]\nmodel.x1 = 0, 1\n")
    common.run([exe, "run", common.write(tmp / "grid.ini", cfg), "-q", "--threads", "1"])
    proc = plot(exe, grid, "y", "-o", tmp / "grid.png")
    T.check("a grid sweep: exit 2, not a sobol or morris sweep, no PNG",
            refused(proc, "not a sobol or morris sweep") and "grid" in proc.stderr
            and not (tmp / "grid.png").exists(), common.describe(proc))
    plain = tmp / "plain.h5"
    cfg = f"[run]\nmodel = ishigami\ncouples = 1\ndays = 1\noutput = {plain}\n"
    common.run([exe, "run", common.write(tmp / "plain.ini", cfg), "-q", "--threads", "1"])
    proc = plot(exe, plain, "y")
    T.check("a plain run: exit 2, not a sobol or morris sweep",
            refused(proc, "not a sobol or morris sweep") and "plain run" in proc.stderr, common.describe(proc))
    text = common.write(tmp / "notes.h5", "not HDF5\n")
    proc = plot(exe, text, "y")
    T.check("a file that is not HDF5: exit 2", refused(proc, "not an HDF5 file"), common.describe(proc))
    proc = plot(exe, tmp / "missing.h5", "y")
    T.check("a missing file: exit 2", refused(proc, "no such file"), common.describe(proc))
    proc = common.run([common.PYTHON, PLOT, tmp / "plain.h5", "y", "--dyad", tmp / "no_dyad"])
    T.check("--dyad naming no file: exit 2", refused(proc, "--dyad"), common.describe(proc))


def check_example(exe, tmp):
    """configs/sensitivity.ini: a sobol design with dummy.noise, secure-secure and anxious-avoidant."""
    proc = common.run([exe, "plan", EXAMPLE], timeout=120)
    T.check("configs/sensitivity.ini passes dyad plan as a sobol design",
            proc.returncode == 0 and "sweep: sobol" in proc.stdout and "Saltelli" in proc.stdout,
            common.describe(proc))
    resolved = common.run([exe, "validate", EXAMPLE], timeout=120)
    text = resolved.stdout
    sweep = text[text.find("[sweep]"):] if "[sweep]" in text else ""
    model_keys = [line.split("=")[0].strip() for line in sweep.splitlines() if line.startswith("model.")]
    T.check("configs/sensitivity.ini: about ten model keys and the dummy key dummy.noise",
            resolved.returncode == 0 and 8 <= len(model_keys) <= 12 and "dummy.noise" in sweep,
            common.describe(resolved))
    T.check("configs/sensitivity.ini: secure-secure and anxious-avoidant couples",
            "secure-secure" in text and "anxious-avoidant" in text, text[:600])


def main():
    exe = common.exe_from_argv("test_plot_sensitivity")
    # tmpfs when there is one: a point's flushes cost milliseconds on a disk
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="dyad_plot_sens_", dir=base) as d:
        tmp = Path(d)
        T.guard("sobol", check_sobol, exe, tmp)
        T.guard("sobol without a dummy key", check_sobol_without_dummy, exe, tmp)
        T.guard("morris", check_morris, exe, tmp)
        T.guard("refusals", check_refusals, exe, tmp)
        T.guard("example config", check_example, exe, tmp)
    T.finish()


if __name__ == "__main__":
    main()
