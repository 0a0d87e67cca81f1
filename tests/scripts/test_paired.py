#!/usr/bin/python3
"""`dyad summarize`: --reference and the paired differences of common random numbers.

    /usr/bin/python3 tests/scripts/test_paired.py build/dyad

configs/secure_vs_mixed.ini (the main example) at 400 couples per pairing (a year, about
3 s): every paired column against numpy/scipy (pairs where both values are finite, the t
interval, d = mean / sd of the differences) to 1e-9; the paired interval narrower than the
independent-samples (Welch) interval of the same difference; --reference; a file without
secure-secure (a note, d against the first pairing); a file without common random numbers
(a note, the paired columns nan). Prints one line per check and `N passed, M failed`.
"""
import csv
import io
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

import h5py  # noqa: E402
import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

T = common.Runner("paired")
CONFIG = common.REPO / "configs" / "secure_vs_mixed.ini"
COUPLES = 400
# Metrics on which common random numbers must pay in every pairing (they share the
# outside world: work demands, illness, crises, trait deviates).
HEADLINE = ["conflicts_per_week", "satisfaction_a", "turn_toward_rate", "crisis_bids"]


def close(a, b, tol=1e-9):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= tol * max(1.0, abs(b))


def summarize_csv(exe, path, *extra):
    proc = common.run([exe, "summarize", path, "--format", "csv", *extra])
    rows = list(csv.DictReader(io.StringIO(proc.stdout))) if proc.returncode == 0 else []
    return proc, rows


def numpy_paired(x, y):
    ok = np.isfinite(x) & np.isfinite(y)
    d = x[ok] - y[ok]
    n = len(d)
    if n < 2:
        return n, (d.mean() if n else math.nan), math.nan, math.nan, math.nan
    m, sd = d.mean(), d.std(ddof=1)
    half = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
    return n, m, m - half, m + half, (m / sd if sd > 0 else math.nan)


def check_main_example(exe, tmp):
    out = tmp / "main.h5"
    proc = common.run([exe, "run", CONFIG, "--set", f"run.couples={COUPLES}", "-o", out, "--quiet"], timeout=300)
    if not T.check("the main example at 400 couples per pairing runs", proc.returncode == 0, common.describe(proc)):
        return
    proc, rows = summarize_csv(exe, out)
    if not T.check("summarize --format csv exits 0", proc.returncode == 0, common.describe(proc)):
        return
    header = proc.stdout.splitlines()[0].split(",")
    T.check("csv: the paired columns come last, after today's",
            header[-5:] == ["paired_n", "paired_diff", "paired_ci95_low", "paired_ci95_high", "paired_d"]
            and header[:8] == ["pairing", "metric", "n", "mean", "sd", "ci95_low", "ci95_high",
                               "d_vs_secure_secure"], header)
    with h5py.File(out, "r") as f:
        names = list(f["pairing"].asstr()[:])
        pairing = f["couple_pairing"][:]
        replicate = f["replicate"][:]
        values = {k[4:]: f[k][:] for k in f if k.startswith("run_")}
    ref = names.index("secure-secure")
    bad, checked, widths = [], 0, {}
    for r in rows:
        p = names.index(r["pairing"])
        got = [int(r["paired_n"])] + [float(r[k]) for k in ("paired_diff", "paired_ci95_low",
                                                             "paired_ci95_high", "paired_d")]
        if p == ref:
            if got[0] != 0 or not all(math.isnan(v) for v in got[1:]):
                bad.append(f"reference row {r['metric']}: {got}")
            continue
        x, y = values[r["metric"]][pairing == p], values[r["metric"]][pairing == ref]
        # pairs by replicate: pairing-major ids put replicate k at the same offset
        assert np.array_equal(replicate[pairing == p], replicate[pairing == ref])
        want = numpy_paired(x, y)
        checked += 1
        if got[0] != want[0] or not all(close(a, b) for a, b in zip(got[1:], want[1:])):
            bad.append(f"{r['pairing']}/{r['metric']}: {got} vs numpy {want}")
        # the independent-samples interval of the same difference (Welch)
        xf, yf = x[~np.isnan(x)], y[~np.isnan(y)]
        if len(xf) < 2 or len(yf) < 2:
            continue
        se = math.sqrt(xf.var(ddof=1) / len(xf) + yf.var(ddof=1) / len(yf))
        if se > 0 and got[0] >= 2:
            df = se ** 4 / ((xf.var(ddof=1) / len(xf)) ** 2 / (len(xf) - 1)
                            + (yf.var(ddof=1) / len(yf)) ** 2 / (len(yf) - 1))
            welch = 2 * stats.t.ppf(0.975, df) * se
            widths[(r["pairing"], r["metric"])] = (got[3] - got[2], welch)
    T.check(f"paired_n/diff/ci/d of all {checked} rows agree with numpy to 1e-9", checked > 0 and not bad,
            "; ".join(bad[:5]))
    narrower = [k for k in widths if k[1] in HEADLINE and widths[k][0] < widths[k][1]]
    headline = [k for k in widths if k[1] in HEADLINE]
    T.check(f"the paired interval is narrower than the unpaired one for {', '.join(HEADLINE)} in "
            "every pairing", len(headline) == 9 * len(HEADLINE) and len(narrower) == len(headline),
            f"not narrower: {sorted(set(headline) - set(narrower))}")
    ratios = np.array([p / u for p, u in widths.values()])
    print(f"     paired / unpaired width: median {np.median(ratios):.3f} over {len(ratios)} rows; "
          + ", ".join(f"{m} {np.median([widths[k][0] / widths[k][1] for k in widths if k[1] == m]):.3f}"
                      for m in HEADLINE), flush=True)
    T.check("over every row the median paired / unpaired width is below 0.9", np.median(ratios) < 0.9,
            f"{np.median(ratios)}")
    proc = common.run([exe, "summarize", out])
    T.check("the table shows the paired columns under common random numbers",
            proc.returncode == 0 and "paired diff" in proc.stdout and "paired d" in proc.stdout,
            common.describe(proc))
    proc = common.run([exe, "summarize", out, "--format", "json"])
    doc = json.loads(proc.stdout) if proc.returncode == 0 else []
    T.check("json rows carry paired_n .. paired_d", doc and all(
        k in doc[0] for k in ("paired_n", "paired_diff", "paired_ci95_low", "paired_ci95_high", "paired_d")),
        common.describe(proc))

    proc, rows = summarize_csv(exe, out, "--reference", "anxious-avoidant")
    header = proc.stdout.splitlines()[0].split(",") if proc.stdout else []
    aa = [r for r in rows if r["pairing"] == "anxious-avoidant"]
    ss = [r for r in rows if r["pairing"] == "secure-secure" and r["metric"] == "conflicts_per_week"]
    T.check("--reference anxious-avoidant: the d column is d_vs_anxious_avoidant, its own rows 0 and "
            "paired_n 0", proc.returncode == 0 and "d_vs_anxious_avoidant" in header and aa
            and all(float(r["d_vs_anxious_avoidant"]) in (0.0,) or math.isnan(float(r["d_vs_anxious_avoidant"]))
                    for r in aa) and all(r["paired_n"] == "0" for r in aa), common.describe(proc))
    if ss:
        x = values["conflicts_per_week"][pairing == names.index("secure-secure")]
        y = values["conflicts_per_week"][pairing == names.index("anxious-avoidant")]
        T.check("--reference: secure-secure's paired_diff is against anxious-avoidant",
                close(float(ss[0]["paired_diff"]), numpy_paired(x, y)[1]), f"{ss[0]}")
    proc = common.run([exe, "summarize", out, "--reference", "secure-nobody"])
    T.check("--reference of a pairing the file lacks -> exit 2 naming the pairings",
            proc.returncode == 2 and "secure-nobody" in proc.stderr and "anxious-avoidant" in proc.stderr,
            common.describe(proc))


def check_notes(exe, tmp):
    text = common.small_config(tmp / "nosecure.h5", days=20, couples=30, record="summary",
                               pairings="anxious-avoidant, secure-anxious")
    cfg = common.write(tmp / "nosecure.ini", text)
    out = tmp / "nosecure.h5"
    common.run([exe, "run", cfg, "-o", out, "--quiet"])
    proc, rows = summarize_csv(exe, out)
    d_col = "d_vs_anxious_avoidant"
    T.check("no secure-secure: a note names the reference used, d is against the first pairing",
            proc.returncode == 0 and "no secure-secure" in proc.stderr and "anxious-avoidant" in proc.stderr
            and rows and d_col in rows[0]
            and any(not math.isnan(float(r[d_col])) for r in rows if r["pairing"] == "secure-anxious"),
            common.describe(proc))
    cfg = common.write(tmp / "nocrn.ini", common.small_config(
        tmp / "nocrn.h5", days=20, couples=30, record="summary",
        extra="").replace("[run]\n", "[run]\ncommon_random_numbers = false\n"))
    out = tmp / "nocrn.h5"
    proc = common.run([exe, "run", cfg, "-o", out, "--quiet"])
    proc, rows = summarize_csv(exe, out)
    T.check("without common random numbers: a note, the paired columns nan, paired_n 0",
            proc.returncode == 0 and "common random numbers" in proc.stderr and rows
            and all(r["paired_n"] == "0" and r["paired_diff"] == "nan" for r in rows), common.describe(proc))


def main():
    exe = common.exe_from_argv("test_paired")
    with common.temp_dir("dyad-paired-") as tmp:
        tmp = Path(tmp)
        T.guard("main example", check_main_example, exe, tmp)
        T.guard("notes", check_notes, exe, tmp)
    T.finish()


if __name__ == "__main__":
    main()
