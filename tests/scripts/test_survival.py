#!/usr/bin/python3
"""Couples that part: `dyad summarize`'s together_share and median_days_to_parting, and
scripts/plot_survival.py, on a file with run_dissolution_day.

    /usr/bin/python3 tests/scripts/test_survival.py build/dyad

The input is `dyad run configs/quick.ini` into a temporary directory. A model whose
couples part writes run_dissolution_day itself; until the run has it, the fixture adds
one with h5py (NaN for most couples, parting days for the others, with the dims and
attributes of the other run_* variables), so that the checks run either way. Then:
the Kaplan-Meier estimate of plot_survival.py against a hand-computed example,
summarize (csv, json, table) against numpy, the plot written, and the refusals of a
file without run_dissolution_day. Prints one line per check and `N passed, M failed`.
"""
import csv
import io
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

sys.path.insert(0, str(common.REPO / "scripts"))
import plot_survival  # noqa: E402

import h5py  # noqa: E402
import numpy as np  # noqa: E402

T = common.Runner("survival")
PLOT = common.REPO / "scripts" / "plot_survival.py"
# Share of each pairing's couples the fixture lets part: one pairing's median is not
# reached, the others' are.
PART_SHARE = [0.2, 0.55, 0.8]


def add_dissolution(path):
    """Writes designed parting days into run_dissolution_day (replacing the model's, which
    at quick.ini's size rarely reach a median), so that the checks know what to expect."""
    with h5py.File(path, "r+") as f:
        if "run_dissolution_day" in f:
            del f["run_dissolution_day"]
        # The run's digest of its data (docs/reliability.md) would name the file damaged:
        # a file changed on purpose drops it.
        if "dyad_run_digest" in f.attrs:
            del f.attrs["dyad_run_digest"]
        pairing = f["couple_pairing"][:]
        days = int(f.attrs["days"])
        rng = np.random.default_rng(2026)
        values = np.full(pairing.shape, np.nan)
        for p, share in enumerate(PART_SHARE):
            ids = np.nonzero(pairing == p)[0]
            parted = ids[rng.random(ids.size) < share]
            # Ties on purpose: parting days from a few values.
            values[parted] = rng.integers(0, days, parted.size) // 3 * 3
        # A parting on the first and one on the last day, in the first pairing.
        first = np.nonzero(pairing == 0)[0]
        values[first[0]], values[first[1]] = 0, days - 1
        template = f["run_tension"]
        ds = f.create_dataset("run_dissolution_day", data=values, dtype="<f8",
                              fillvalue=np.nan)
        ds.attrs["_FillValue"] = np.float64(np.nan)
        ds.attrs["long_name"] = np.bytes_("day on which the couple parted (NaN: together at the end)")
        ds.attrs["units"] = np.bytes_("day")
        ds.attrs["dyad_kind"] = np.bytes_("level")
        ds.dims[0].attach_scale(f["couple"])
        T.check("fixture: run_dissolution_day has the dims and dtype of the other run_* "
                "variables", ds.shape == template.shape and ds.dtype == template.dtype)


def km_reference(parting, censor):
    """Kaplan-Meier by its definition, a couple at a time: (together share, median)."""
    parting = np.asarray(parting, dtype=float)
    together = float(np.mean(np.isnan(parting))) if parting.size else math.nan
    s, median = 1.0, math.nan
    for t in sorted(set(parting[~np.isnan(parting)])):
        at_risk = np.sum(np.isnan(parting) & (censor >= t)) + np.sum(parting >= t)
        s *= 1 - np.sum(parting == t) / at_risk
        if s <= 0.5 + 1e-12:
            median = t
            break
    return together, median


def same(a, b):
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 1e-12 * max(1.0, abs(b))


def check_kaplan_meier():
    nan = math.nan
    # 10 couples, 4 together at the end (censored on day 30). By hand: day 2: 2 of 10
    # part, S = 0.8; day 5: 1 of 8, S = 0.7; day 7: 3 of 7, S = 0.4 (median day 7).
    # Greenwood sums: 2/(10*8) = 0.025; + 1/(8*7); + 3/(7*4).
    km = plot_survival.kaplan_meier([7, 2, nan, 5, 7, nan, 2, 7, nan, nan], 30)
    T.check("KM by hand: parting days, at risk, parted",
            list(km["day"]) == [2, 5, 7] and list(km["at_risk"]) == [10, 8, 7]
            and list(km["parted"]) == [2, 1, 3], repr(km))
    T.check("KM by hand: S = 0.8, 0.7, 0.4; median day 7; 4 of 10 together",
            np.allclose(km["survival"], [0.8, 0.7, 0.4], rtol=0, atol=1e-15)
            and km["median"] == 7 and km["together"] == 4 and km["n"] == 10, repr(km))
    low, high = [], []
    for s, g in ((0.8, 0.025), (0.7, 0.025 + 1 / 56), (0.4, 0.025 + 1 / 56 + 3 / 28)):
        se = math.sqrt(g) / abs(math.log(s))
        low.append(s ** math.exp(1.959963984540054 * se))
        high.append(s ** math.exp(-1.959963984540054 * se))
    T.check("KM by hand: 95% log-log Greenwood band (day 2: [0.4087, 0.9459])",
            np.allclose(km["low"], low, rtol=1e-12) and np.allclose(km["high"], high, rtol=1e-12)
            and abs(low[0] - 0.4087) < 5e-4 and abs(high[0] - 0.9459) < 5e-4,
            f"{km['low']} {km['high']} vs {low} {high}")
    T.check("KM: S = 1/2 exactly reaches the median; 2/3 does not; all parted gives S = 0",
            plot_survival.kaplan_meier([4, nan, 1, nan], 30)["median"] == 4
            and math.isnan(plot_survival.kaplan_meier([nan, 3, nan], 30)["median"])
            and list(plot_survival.kaplan_meier([0, 0], 30)["survival"]) == [0.0]
            and list(plot_survival.kaplan_meier([0, 0], 30)["low"]) == [0.0])


def check_summarize(exe, path):
    with h5py.File(path, "r") as f:
        parting = f["run_dissolution_day"][:]
        pairing = f["couple_pairing"][:]
        names = list(f["pairing"].asstr()[:])
        days = int(f.attrs["days"])
    want = {names[p]: km_reference(parting[pairing == p], days) for p in range(len(names))}
    print(f"  note: together share and median per pairing: {want}", flush=True)
    T.check("the fixture's pairings differ: a median reached and one not",
            any(math.isnan(m) for _, m in want.values())
            and any(not math.isnan(m) for _, m in want.values()), repr(want))

    proc = common.run([exe, "summarize", path, "--format", "csv"])
    if not T.check("summarize --format csv exits 0", proc.returncode == 0, common.describe(proc)):
        return
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    T.check("csv: together_share and median_days_to_parting follow d_vs_secure_secure (the paired "
            "columns come after them)",
            list(rows[0])[7:10] == ["d_vs_secure_secure", "together_share", "median_days_to_parting"]
            and list(rows[0])[-5:] == ["paired_n", "paired_diff", "paired_ci95_low", "paired_ci95_high",
                                       "paired_d"], list(rows[0]))
    bad = []
    for r in rows:
        share, median = want[r["pairing"]]
        if not (same(float(r["together_share"]), share) and same(float(r["median_days_to_parting"]), median)):
            bad.append(f"{r['pairing']}/{r['metric']}: {r['together_share']}, "
                       f"{r['median_days_to_parting']} vs {share}, {median}")
    T.check("csv: together_share and median_days_to_parting equal numpy's on every row of "
            "every pairing", not bad and {r["pairing"] for r in rows} == set(want), "; ".join(bad[:5]))
    dissolution = [r for r in rows if r["metric"] == "dissolution_day"]
    T.check("csv: a dissolution_day row per pairing, n = the couples that parted",
            len(dissolution) == len(names) and all(
                int(r["n"]) == int(np.sum(~np.isnan(parting[pairing == names.index(r["pairing"])])))
                for r in dissolution), repr(dissolution))

    proc = common.run([exe, "summarize", path, "--format", "json"])
    if T.check("summarize --format json exits 0 and parses", proc.returncode == 0, common.describe(proc)):
        data = json.loads(proc.stdout)
        bad = []
        for r in data:
            share, median = want[r["pairing"]]
            got = r.get("median_days_to_parting", "missing")
            if not (same(r.get("together_share", math.inf), share)
                    and ((got is None and math.isnan(median)) or (got not in (None, "missing") and same(got, median)))):
                bad.append(f"{r['pairing']}/{r['metric']}: {r.get('together_share')}, {got}")
        T.check("json: together_share and median_days_to_parting (null: not reached) equal numpy's",
                not bad, "; ".join(bad[:5]))

    proc = common.run([exe, "summarize", path])
    text = proc.stdout
    lines = [line for line in text.splitlines() if "together_share" in line]
    T.check("table: one together_share / median_days_to_parting line per pairing, "
            "'not reached' where the median is",
            proc.returncode == 0 and len(lines) == len(names)
            and all("median_days_to_parting" in line for line in lines)
            and sum("not reached" in line for line in lines)
            == sum(math.isnan(m) for _, m in want.values()), text[:1500])


def check_plot(path, tmp):
    out = tmp / "km.png"
    proc = common.run([common.PYTHON, PLOT, path, "-o", out], timeout=120)
    T.check("plot_survival.py FILE -o OUT.png exits 0, writes a PNG and prints its path",
            proc.returncode == 0 and out.is_file() and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            and proc.stdout.strip() == str(out), common.describe(proc))
    proc = common.run([common.PYTHON, PLOT, path], timeout=120)
    default = Path(path).with_name(Path(path).stem + "_survival.png")
    T.check("plot_survival.py FILE writes <stem>_survival.png beside FILE",
            proc.returncode == 0 and default.is_file() and default.stat().st_size > 10000,
            common.describe(proc))


def check_without(exe, plain):
    proc = common.run([common.PYTHON, PLOT, plain, "-o", plain.with_suffix(".png")], timeout=60)
    T.check("plot_survival.py on a file without run_dissolution_day exits 2 naming the file "
            "and the variable, no traceback, no PNG",
            proc.returncode == 2 and str(plain) in proc.stderr and "run_dissolution_day" in proc.stderr
            and "Traceback" not in proc.stderr and not plain.with_suffix(".png").exists(),
            common.describe(proc))
    proc = common.run([exe, "summarize", plain, "--format", "csv"])
    header = proc.stdout.splitlines()[0] if proc.stdout else ""
    T.check("summarize of a file without run_dissolution_day has no parting columns",
            proc.returncode == 0 and "together_share" not in proc.stdout
            and header.endswith(",d_vs_secure_secure,paired_n,paired_diff,paired_ci95_low,paired_ci95_high,paired_d"), header)
    missing = plain.with_name("missing.h5")
    proc = common.run([common.PYTHON, PLOT, missing], timeout=60)
    T.check("plot_survival.py on a missing file exits 2 naming it",
            proc.returncode == 2 and str(missing) in proc.stderr, common.describe(proc))


def main():
    exe = common.exe_from_argv("test_survival.py")
    T.guard("Kaplan-Meier by hand", check_kaplan_meier)
    with common.temp_dir("dyad_survival_") as d:
        tmp = Path(d)
        path = tmp / "quick.h5"
        proc = common.run([exe, "run", common.REPO / "configs" / "quick.ini", "-o", path, "--quiet"],
                          timeout=300)
        if not T.check("dyad run configs/quick.ini exits 0", proc.returncode == 0 and path.is_file(),
                       common.describe(proc)):
            T.finish()
        with h5py.File(path, "r") as f:
            T.check("the attachment model writes run_dissolution_day", "run_dissolution_day" in f)
        add_dissolution(path)
        T.guard("summarize", check_summarize, exe, path)
        T.guard("plot", check_plot, path, tmp)
        # A model without parting (gottman) writes no run_dissolution_day.
        plain = tmp / "plain.h5"
        proc = common.run([exe, "run", common.REPO / "configs" / "gottman.ini", "--set", "run.days=20",
                           "-o", plain, "--quiet"], timeout=300)
        if T.check("dyad run configs/gottman.ini exits 0", proc.returncode == 0, common.describe(proc)):
            T.guard("without run_dissolution_day", check_without, exe, plain)
    T.finish()


if __name__ == "__main__":
    main()
