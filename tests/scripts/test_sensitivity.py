#!/usr/bin/python3
"""Sensitivity analysis through the real executable: design, run, file, indices.

    /usr/bin/python3 tests/scripts/test_sensitivity.py build/dyad

The Ishigami verification model (docs/models.md "ishigami") at N = 4,096 (20,480 points)
goes config -> dyad plan -> dyad run -> file -> dyad sensitivity; the 95% intervals must
cover the analytic S1 = 0.3139, 0.4424, 0 and ST = 0.5576, 0.4424, 0.2437. The same A, B
and AB_i rows, read from the file, go to OpenTURNS (Saltelli and Jansen estimators), whose
indices must lie within the intervals. Morris' mu, mu*, sigma are recomputed with numpy
from the file, Morris ranks Sobol's G function's inputs in their known order;
second order, the formats and the bad-input rows (exit 2) follow.
Prints one line per check and `N passed, M failed` last.
"""
import csv
import io
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

import h5py  # noqa: E402
import numpy as np  # noqa: E402

T = common.Runner("sensitivity")
PI = "3.141592653589793"
S1 = [0.3139, 0.4424, 0.0]
ST = [0.5576, 0.4424, 0.2437]
SOBOL_HEADER = "pairing,metric,key,S1,S1_low,S1_high,ST,ST_low,ST_high"
MORRIS_HEADER = "pairing,metric,key,mu,mu_star,mu_star_low,mu_star_high,sigma"


def config(out, sweep):
    keys = "".join(f"model.x{i} = -{PI}:{PI}\n" for i in (1, 2, 3))
    return (f"[run]\nmodel = ishigami\ndays = 1\ncouples = 1\nseed = 1\noutput = {out}\n\n"
            f"[pairings]\nlist = secure-secure\n\n[sweep]\n{sweep}{keys}")


def point_outputs(path):
    """Per point: the swept values [point][key] and the pairing mean of run_y."""
    with h5py.File(path, "r") as f:
        keys = f.attrs["sweep_keys"].decode().split() if isinstance(f.attrs["sweep_keys"], bytes) \
            else str(f.attrs["sweep_keys"]).split()
        x = np.column_stack([f[k.replace(".", "_")][()] for k in keys])
        y_couple = f["run_y"][()]
        cp = f["couple_point"][()]
        y = np.bincount(cp, weights=y_couple) / np.bincount(cp)
        design = {name: f[name][()] for name in ("design_role", "design_row", "design_step", "design_key")}
    return x, y, design


def run_sensitivity(exe, path, *extra):
    return common.run([exe, "sensitivity", path, *extra], timeout=600)


def check_sobol_path(exe, tmp):
    out = tmp / "ishigami.h5"
    cfg = common.write(tmp / "ishigami.ini", config(out, "mode = sobol\nsamples = 4096\n"))
    plan = common.run([exe, "plan", cfg], timeout=300)
    T.check("plan: a sobol design of N = 4096 and 3 keys is 20480 points",
            plan.returncode == 0 and "20480 points" in plan.stdout, common.describe(plan))
    run = common.run([exe, "run", cfg, "-q"], timeout=1800)
    if not T.check("run: the ishigami sobol sweep completes", run.returncode == 0 and out.exists(),
                   common.describe(run)):
        return
    x, y, design = point_outputs(out)
    k, n = 3, 4096
    T.check("file: design_role per point is A, AB_1..AB_3, B per base row",
            list(design["design_role"][:5]) == [0, 2, 2, 2, 1] and list(design["design_key"][:5]) == [-1, 0, 1, 2, -1]
            and int(design["design_row"][-1]) == n - 1)
    proc = run_sensitivity(exe, out, "--metric", "y", "--format", "csv")
    if not T.check("sensitivity --format csv exits 0", proc.returncode == 0, common.describe(proc)):
        return
    lines = proc.stdout.splitlines()
    T.check("csv header exactly " + SOBOL_HEADER, lines[0] == SOBOL_HEADER, lines[0])
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    T.check("csv: one row per key", [r["key"] for r in rows] == ["model.x1", "model.x2", "model.x3"], proc.stdout)
    ours = {}
    for i, r in enumerate(rows):
        v = {c: float(r[c]) for c in SOBOL_HEADER.split(",")[3:]}
        ours[i] = v
        print(f"  x{i + 1}: S1 {v['S1']:.4f} [{v['S1_low']:.4f}, {v['S1_high']:.4f}]  "
              f"ST {v['ST']:.4f} [{v['ST_low']:.4f}, {v['ST_high']:.4f}]", flush=True)
        T.check(f"x{i + 1}: the S1 interval covers the analytic {S1[i]}", v["S1_low"] <= S1[i] <= v["S1_high"], r)
        T.check(f"x{i + 1}: the ST interval covers the analytic {ST[i]}", v["ST_low"] <= ST[i] <= v["ST_high"], r)

    # The same design analysed by numpy, by the formulas of docs, and by OpenTURNS.
    stride = k + 2
    ya, yb = y[0::stride], y[stride - 1::stride]
    var = np.var(np.r_[ya, yb])
    for i in range(k):
        yab = y[1 + i::stride]
        s1 = np.mean(yb * (yab - ya)) / var
        st = 0.5 * np.mean((ya - yab) ** 2) / var
        T.check(f"x{i + 1}: S1 and ST equal numpy's Saltelli 2010 / Jansen on the file's y",
                abs(s1 - ours[i]["S1"]) < 1e-5 and abs(st - ours[i]["ST"]) < 1e-5, (s1, st, ours[i]))
    try:
        import openturns as ot
    except ImportError:
        T.skip("OpenTURNS comparison", "python3-openturns is not installed (scripts/setup.sh installs it)")
        return
    a, b = x[0::stride], x[stride - 1::stride]
    ab = [x[1 + i::stride] for i in range(k)]
    # OpenTURNS' layout (SobolIndicesExperiment): A, B, then E_i = A with column i from B.
    design_ot = ot.Sample(np.vstack([a, b, *ab]))
    out_ot = ot.Sample(np.concatenate([ya, yb, *[y[1 + i::stride] for i in range(k)]])[:, None])
    for name, algo in (("Saltelli", ot.SaltelliSensitivityAlgorithm), ("Jansen", ot.JansenSensitivityAlgorithm)):
        alg = algo(design_ot, out_ot, n)
        s1 = list(alg.getFirstOrderIndices())
        st = list(alg.getTotalOrderIndices())
        print(f"  OpenTURNS {name}: S1 {np.round(s1, 4)}, ST {np.round(st, 4)}", flush=True)
        for i in range(k):
            T.check(f"OpenTURNS {name}: S1 of x{i + 1} ({s1[i]:.4f}) within our interval",
                    ours[i]["S1_low"] <= s1[i] <= ours[i]["S1_high"], ours[i])
            T.check(f"OpenTURNS {name}: ST of x{i + 1} ({st[i]:.4f}) within our interval",
                    ours[i]["ST_low"] <= st[i] <= ours[i]["ST_high"], ours[i])

    table = run_sensitivity(exe, out, "--bootstrap", "200", "--seed", "3")
    T.check("table: names the method, B and the seed",
            table.returncode == 0 and "Saltelli et al. (2010)" in table.stdout and "Jansen (1999)" in table.stdout
            and "B = 200" in table.stdout and "seed 3" in table.stdout, common.describe(table))
    js = run_sensitivity(exe, out, "--format", "json", "--bootstrap", "100")
    ok = js.returncode == 0
    if ok:
        doc = json.loads(js.stdout)
        ok = len(doc["indices"]) == 3 and "method" in doc and abs(doc["indices"][0]["S1"] - ours[0]["S1"]) < 1e-4
    T.check("json: parses, three keys, the same S1", ok, common.describe(js))
    again = run_sensitivity(exe, out, "--metric", "y", "--format", "csv")
    T.check("seeded: the same command the same intervals", again.stdout == proc.stdout)

    # Unfinished: a copy with one point marked pending is refused, naming it.
    partial = tmp / "unfinished.h5"
    shutil.copy(out, partial)
    with h5py.File(partial, "r+") as f:
        status = f["point_status"]
        status[17] = 0
        status[4000] = 0
    bad = run_sensitivity(exe, partial)
    T.check("an unfinished sweep: exit 2 naming the points not done",
            bad.returncode == 2 and "17, 4000" in bad.stderr and "2 of 20480" in bad.stderr, common.describe(bad))


def check_second_order(exe, tmp):
    out = tmp / "second.h5"
    cfg = common.write(tmp / "second.ini", config(out, "mode = sobol\nsamples = 512\nsecond_order = true\n"))
    run = common.run([exe, "run", cfg, "-q"], timeout=600)
    if not T.check("second order: N (2k + 2) = 4096 points run", run.returncode == 0, common.describe(run)):
        return
    _, y, design = point_outputs(out)
    T.check("second order: BA rows in the file", y.size == 4096 and list(design["design_role"][:8]) == [0, 2, 2, 2, 3, 3, 3, 1])
    proc = run_sensitivity(exe, out, "--format", "json", "--bootstrap", "300")
    doc = json.loads(proc.stdout) if proc.returncode == 0 else {"indices": []}
    ok = len(doc["indices"]) == 3 and "S2" in doc["indices"][0]
    if ok:
        s13 = doc["indices"][0]["S2"]["model.x3"]
        print(f"  S2 x1 x3 = {s13[0]:.4f} [{s13[1]:.4f}, {s13[2]:.4f}] (analytic 0.2437)", flush=True)
        ok = s13[1] <= 0.2437 <= s13[2]
    T.check("second order: S2(x1, x3) interval covers 0.2437", ok, common.describe(proc))


def check_morris(exe, tmp):
    out = tmp / "morris.h5"
    cfg = common.write(tmp / "morris.ini", config(out, "mode = morris\ntrajectories = 50\nlevels = 4\nseed = 2\n"))
    plan = common.run([exe, "plan", cfg], timeout=300)
    T.check("plan: morris r = 50, k = 3 is 200 points", plan.returncode == 0 and "200 points" in plan.stdout,
            common.describe(plan))
    run = common.run([exe, "run", cfg, "-q"], timeout=600)
    if not T.check("morris: the sweep runs", run.returncode == 0, common.describe(run)):
        return
    x, y, design = point_outputs(out)
    proc = run_sensitivity(exe, out, "--format", "csv", "--bootstrap", "300")
    if not T.check("morris csv exits 0", proc.returncode == 0, common.describe(proc)):
        return
    T.check("morris csv header exactly " + MORRIS_HEADER, proc.stdout.splitlines()[0] == MORRIS_HEADER)
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    # numpy: elementary effects in the unit cube from the file's values and design_key
    k, delta = 3, 4 / (2 * 3)
    ee = [[] for _ in range(k)]
    unit = (x + np.pi) / (2 * np.pi)
    for q in range(len(y)):
        key = int(design["design_key"][q])
        if key < 0:
            continue
        step = unit[q, key] - unit[q - 1, key]
        ee[key].append((y[q] - y[q - 1]) / step)
        T.check(f"morris point {q}: one key moved by delta", abs(abs(step) - delta) < 1e-9) if q < 8 else None
    for i, r in enumerate(rows):
        e = np.array(ee[i])
        mu, mu_star, sigma = e.mean(), np.abs(e).mean(), e.std(ddof=1)
        print(f"  x{i + 1}: mu {float(r['mu']):.4g} mu* {float(r['mu_star']):.4g} "
              f"[{float(r['mu_star_low']):.4g}, {float(r['mu_star_high']):.4g}] sigma {float(r['sigma']):.4g}", flush=True)
        T.check(f"morris x{i + 1}: mu, mu*, sigma equal numpy's from the file",
                np.allclose([mu, mu_star, sigma], [float(r["mu"]), float(r["mu_star"]), float(r["sigma"])], rtol=1e-5),
                (mu, mu_star, sigma, r))
        T.check(f"morris x{i + 1}: the interval holds mu*",
                float(r["mu_star_low"]) <= float(r["mu_star"]) <= float(r["mu_star_high"]), r)


def check_morris_g(exe, tmp):
    """Morris on Sobol's G function (a = 0, 1, 4.5, 9, 99, 99): mu* ranks x1 > x2 > x3 > x4 > x5, x6."""
    out = tmp / "g.h5"
    keys = "".join(f"model.x{i} = 0:1\n" for i in range(1, 7))
    cfg = common.write(tmp / "g.ini", f"[run]\nmodel = g_function\ndays = 1\ncouples = 1\noutput = {out}\n\n"
                                      f"[pairings]\nlist = secure-secure\n\n[sweep]\nmode = morris\ntrajectories = 40\n"
                                      f"levels = 4\nseed = 7\n{keys}")
    run = common.run([exe, "run", cfg, "-q"], timeout=600)
    if not T.check("morris G function: 40 x 7 = 280 points run", run.returncode == 0, common.describe(run)):
        return
    proc = run_sensitivity(exe, out, "--format", "csv", "--bootstrap", "500")
    rows = list(csv.DictReader(io.StringIO(proc.stdout))) if proc.returncode == 0 else []
    star = [float(r["mu_star"]) for r in rows]
    print("  G function mu*: " + ", ".join(f"{v:.4f}" for v in star), flush=True)
    T.check("morris G function: mu* falls as a_i grows (x1 > x2 > x3 > x4 > x5, x6)",
            len(star) == 6 and star[0] > star[1] > star[2] > star[3] > max(star[4], star[5]), common.describe(proc))


def check_dummy(exe, tmp):
    """dummy.NAME is swept but read by no model: its indices are the noise floor (0 for ishigami)."""
    out = tmp / "dummy.h5"
    cfg = common.write(tmp / "dummy.ini", config(out, "mode = sobol\nsamples = 256\n") + "dummy.noise = 0:1\n")
    run = common.run([exe, "run", cfg, "-q"], timeout=600)
    if not T.check("dummy key: a sobol sweep with dummy.noise runs (4 keys, 1536 points)", run.returncode == 0,
                   common.describe(run)):
        return
    table = run_sensitivity(exe, out, "--bootstrap", "200")
    T.check("dummy key: the table names the noise floor", "noise floor" in table.stdout, common.describe(table))
    js = json.loads(run_sensitivity(exe, out, "--format", "json", "--bootstrap", "200").stdout)
    dummy = [r for r in js["indices"] if r["key"] == "dummy.noise"]
    x1 = [r for r in js["indices"] if r["key"] == "model.x1"]
    T.check("dummy key: its S1 and ST are 0 (no model reads it); x1 rises above it",
            len(dummy) == 1 and abs(dummy[0]["ST"]) < 1e-12 and abs(dummy[0]["S1"]) < 1e-12
            and x1 and x1[0]["within_noise"] is False, js)


def check_bad_input(exe, tmp):
    out = tmp / "bad.h5"
    cases = [
        ("N not a power of two", "mode = sobol\nsamples = 1000\n", "power of two"),
        ("odd levels", "mode = morris\ntrajectories = 4\nlevels = 3\n", "even"),
    ]
    for label, sweep, says in cases:
        proc = common.run([exe, "plan", common.write(tmp / "bad.ini", config(out, sweep))])
        T.check(f"{label}: exit 2 saying '{says}'", proc.returncode == 2 and says in proc.stderr, common.describe(proc))
    one_key = (f"[run]\nmodel = ishigami\noutput = {out}\n[sweep]\nmode = sobol\nsamples = 8\nsecond_order = true\n"
               f"model.x1 = -1:1\n")
    proc = common.run([exe, "plan", common.write(tmp / "bad.ini", one_key)])
    T.check("second_order with one key: exit 2", proc.returncode == 2 and "two swept keys" in proc.stderr,
            common.describe(proc))
    reversed_range = one_key.replace("second_order = true\n", "").replace("-1:1", "1:-1")
    proc = common.run([exe, "plan", common.write(tmp / "bad.ini", reversed_range)])
    T.check("low >= high: exit 2", proc.returncode == 2 and "low < high" in proc.stderr, common.describe(proc))
    grid = (f"[run]\nmodel = ishigami\ncouples = 1\ndays = 1\noutput = {tmp / 'grid.h5'}\n[pairings]\nlist = secure-secure\n"
            f"[sweep]\nmodel.x1 = 0, 1\n")
    common.run([exe, "run", common.write(tmp / "grid.ini", grid), "-q"])
    proc = run_sensitivity(exe, tmp / "grid.h5")
    T.check("sensitivity on a grid sweep: exit 2, not a sobol or morris sweep",
            proc.returncode == 2 and "not a sobol or morris sweep" in proc.stderr, common.describe(proc))


def main():
    exe = common.exe_from_argv("test_sensitivity")
    # tmpfs when there is one: a point's flushes cost milliseconds on a disk
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="dyad_sens_", dir=base) as d:
        tmp = Path(d)
        T.guard("sobol path", check_sobol_path, exe, tmp)
        T.guard("second order", check_second_order, exe, tmp)
        T.guard("morris", check_morris, exe, tmp)
        T.guard("morris on the G function", check_morris_g, exe, tmp)
        T.guard("dummy key", check_dummy, exe, tmp)
        T.guard("bad input", check_bad_input, exe, tmp)
    T.finish()


if __name__ == "__main__":
    main()
