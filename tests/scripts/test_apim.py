#!/usr/bin/python3
"""`dyad apim` against statsmodels, through the real executable.

    /usr/bin/python3 tests/scripts/test_apim.py build/dyad

Runs configs/population.ini (styles at population prevalence, random pairing, and the
secure-secure reference) for 60 days, then fits the APIM with `dyad apim --format csv`
and independently with pandas and statsmodels (stack both partners, standardize the five
columns, `smf.ols(...).fit(cov_type='cluster', cov_kwds={'groups': couple})`): estimates
must agree to 1e-6 and the bounds of the 95% intervals to 1e-4, for the default outcomes
(satisfaction person-level, conflicts_per_week couple-level), one pairing (--pairing), an
outcome with missing values and every point of a small sweep. The R^2 interval is a
couple bootstrap that statsmodels does not offer: it must contain the estimate. Then the
table and JSON formats and the bad-input rows (exit 2, the file named).
Prints one line per check and `N passed, M failed` last.
"""
import csv
import io
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import statsmodels.formula.api as smf  # noqa: E402

T = common.Runner("apim")
TERMS = {  # dyad's term -> the statsmodels column
    "actor_anxiety": "own_anx", "actor_avoidance": "own_avo",
    "partner_anxiety": "partner_anx", "partner_avoidance": "partner_avo",
}
COUPLES = 1500  # per pairing: 3,000 couples, 6,000 persons, about a second


def read_csv(text, sweep_columns=0):
    """{(point or None, outcome, term): (estimate, low, high)} of `dyad apim --format csv`."""
    rows = list(csv.reader(io.StringIO(text)))
    out = {}
    for r in rows[1:]:
        point = int(r[0]) if sweep_columns else None
        outcome, term, est, lo, hi = r[sweep_columns:]
        out[(point, outcome, term)] = (float(est), float(lo), float(hi))
    return rows[0], out


def statsmodels_fit(f, outcome, couples):
    """The APIM as a dyadic researcher fits it: pandas stacking, z-scores, cluster SE."""
    traits = {k: f[k][:].astype(np.float64)[couples] for k in ("anxiety_a", "avoidance_a", "anxiety_b", "avoidance_b")}
    if f"run_{outcome}_a" in f and f"run_{outcome}_b" in f:
        ya, yb = f[f"run_{outcome}_a"][:][couples], f[f"run_{outcome}_b"][:][couples]
    else:
        ya = yb = f[f"run_{outcome}"][:][couples]
    ids = np.arange(len(ya))
    a = pd.DataFrame({"couple": ids, "own_anx": traits["anxiety_a"], "own_avo": traits["avoidance_a"],
                      "partner_anx": traits["anxiety_b"], "partner_avo": traits["avoidance_b"], "y": ya})
    b = pd.DataFrame({"couple": ids, "own_anx": traits["anxiety_b"], "own_avo": traits["avoidance_b"],
                      "partner_anx": traits["anxiety_a"], "partner_avo": traits["avoidance_a"], "y": yb})
    df = pd.concat([a, b], ignore_index=True).replace([np.inf, -np.inf], np.nan).dropna()
    cols = ["own_anx", "own_avo", "partner_anx", "partner_avo", "y"]
    df[cols] = (df[cols] - df[cols].mean()) / df[cols].std()
    fit = smf.ols("y ~ own_anx + own_avo + partner_anx + partner_avo", data=df).fit(
        cov_type="cluster", cov_kwds={"groups": df["couple"]})
    return fit, len(df), df["couple"].nunique()


def compare(label, got, point, outcome, fit):
    """Estimates to 1e-6, interval bounds to 1e-4; R^2 to 1e-6, its interval around it."""
    ci = fit.conf_int()
    worst_est = worst_ci = 0.0
    for term, column in TERMS.items():
        est, lo, hi = got[(point, outcome, term)]
        worst_est = max(worst_est, abs(est - fit.params[column]))
        worst_ci = max(worst_ci, abs(lo - ci.loc[column, 0]), abs(hi - ci.loc[column, 1]))
    T.check(f"{label}: estimates agree with statsmodels to 1e-6 (worst {worst_est:.1e})", worst_est < 1e-6)
    T.check(f"{label}: 95% CI bounds agree with statsmodels to 1e-4 (worst {worst_ci:.1e})", worst_ci < 1e-4)
    r2, lo, hi = got[(point, outcome, "r_squared")]
    T.check(f"{label}: r_squared agrees ({r2:.6f} vs {fit.rsquared:.6f})", abs(r2 - fit.rsquared) < 1e-6)
    T.check(f"{label}: r_squared bootstrap interval [{lo:.4f}, {hi:.4f}] holds it", 0 <= lo < r2 < hi <= 1)


def main():
    exe = common.exe_from_argv("test_apim")
    with common.temp_dir("dyad-apim-") as tmp:
        tmp = Path(tmp)
        out = tmp / "population.h5"
        proc = common.run([exe, "run", common.REPO / "configs" / "population.ini", "--set", "run.days=60",
                           "--set", f"run.couples={COUPLES}", "-o", out, "-q"])
        if not T.check("dyad run configs/population.ini (60 days)", proc.returncode == 0, common.describe(proc)):
            return
        f = h5py.File(out, "r")
        pairings = list(f["pairing"].asstr()[:])
        every = np.arange(len(f["couple_pairing"]))

        proc = common.run([exe, "apim", out, "--format", "csv"])
        if T.check("dyad apim --format csv", proc.returncode == 0, common.describe(proc)):
            header, got = read_csv(proc.stdout)
            T.check("csv header", header == ["outcome", "term", "estimate", "ci95_low", "ci95_high"], header)
            T.check("csv: default outcomes and terms",
                    sorted({(o, t) for _, o, t in got}) == sorted(
                        (o, t) for o in ("satisfaction", "conflicts_per_week") for t in [*TERMS, "r_squared"]),
                    sorted(got))
            for outcome in ("satisfaction", "conflicts_per_week"):
                fit, _, _ = statsmodels_fit(f, outcome, every)
                compare(f"all couples, {outcome}", got, None, outcome, fit)
                if outcome == "satisfaction":
                    est = {t: got[(None, outcome, t)][0] for t in TERMS}
                    print("figures: APIM of satisfaction, population.ini, 60 days: "
                          + ", ".join(f"{t} {v:+.3f}" for t, v in est.items())
                          + f", R^2 {got[(None, outcome, 'r_squared')][0]:.3f}", flush=True)
            # A couple-level outcome is the same in both rows with the traits swapped:
            # actor and partner effects coincide.
            a = got[(None, "conflicts_per_week", "actor_anxiety")][0]
            p = got[(None, "conflicts_per_week", "partner_anxiety")][0]
            T.check("couple-level outcome: actor effect == partner effect", abs(a - p) < 1e-9, (a, p))

        random_ids = np.flatnonzero(f["couple_pairing"][:] == pairings.index("random"))
        proc = common.run([exe, "apim", out, "--format", "csv", "--pairing", "random", "--outcome", "distress",
                           "--outcome", "dw_anxious_share"])
        if T.check("dyad apim --pairing random --outcome distress --outcome dw_anxious_share",
                   proc.returncode == 0, common.describe(proc)):
            _, got = read_csv(proc.stdout)
            for outcome in ("distress", "dw_anxious_share"):
                fit, persons, couples = statsmodels_fit(f, outcome, random_ids)
                compare(f"pairing random, {outcome}", got, None, outcome, fit)
            missing = int(np.isnan(f["run_dw_anxious_share"][:][random_ids]).sum())
            T.check(f"dw_anxious_share has missing values to drop ({missing} couples)", missing > 0)

        proc = common.run([exe, "apim", out, "--format", "json"])
        if T.check("dyad apim --format json", proc.returncode == 0, common.describe(proc)):
            rows = T.guard("json parses", json.loads, proc.stdout)
            if rows is not None:
                T.check("json: a list of 10 objects with n_couples",
                        isinstance(rows, list) and len(rows) == 10 and all(r["n_couples"] == len(every) for r in rows),
                        proc.stdout[:400])
        proc = common.run([exe, "apim", out])
        T.check("table names the couples and every term",
                proc.returncode == 0 and f"{len(every)} couples" in proc.stdout
                and all(t in proc.stdout for t in [*TERMS, "r_squared"]), common.describe(proc))

        # A sweep: one fit per point, a point column and the swept key first.
        sweep_ini = common.write(tmp / "sweep.ini", (
            "[run]\ndays = 30\ncouples = 600\nseed = 11\noutput = unused.h5\n\n"
            "[pairings]\nlist = random\n\n[sweep]\nmodel.work_load_b = 0.1, 0.6\n"))
        sweep = tmp / "sweep.h5"
        proc = common.run([exe, "run", sweep_ini, "-o", sweep, "-q"])
        if T.check("dyad run (a two-point sweep)", proc.returncode == 0, common.describe(proc)):
            proc = common.run([exe, "apim", sweep, "--format", "csv", "--outcome", "satisfaction"])
            if T.check("dyad apim on a sweep", proc.returncode == 0, common.describe(proc)):
                header, got = read_csv(proc.stdout, sweep_columns=2)
                T.check("sweep csv header: point and the swept key first",
                        header == ["point", "model.work_load_b", "outcome", "term", "estimate", "ci95_low",
                                   "ci95_high"], header)
                with h5py.File(sweep, "r") as s:
                    for point in (0, 1):
                        ids = np.flatnonzero(s["couple_point"][:] == point)
                        fit, _, _ = statsmodels_fit(s, "satisfaction", ids)
                        compare(f"sweep point {point}", got, point, "satisfaction", fit)

        # Bad input: exit 2, the file (or option) named, nothing on stdout.
        incomplete = tmp / "incomplete.h5"
        shutil.copy(out, incomplete)
        with h5py.File(incomplete, "r+") as g:
            del g.attrs["status"]  # a fixed-length string of its own length, as the writer's
            g.attrs.create("status", np.bytes_("interrupted"))
        f.close()
        bad = [
            ("unknown outcome", [out, "--outcome", "happiness"], [str(out), "happiness", "satisfaction",
                                                                   "conflicts_per_week"]),
            ("unknown pairing", [out, "--pairing", "secure-fearful"], [str(out), "secure-fearful", "random"]),
            ("incomplete file", [incomplete], [str(incomplete), "interrupted"]),
            ("bad format", [out, "--format", "xml"], ["--format", "xml"]),
            ("no such file", [tmp / "missing.h5"], [str(tmp / "missing.h5")]),
            ("no file", [], ["FILE"]),
        ]
        for name, args, names in bad:
            proc = common.run([exe, "apim", *args])
            T.check(f"bad input, {name}: exit 2, message names {names}",
                    proc.returncode == 2 and all(n in proc.stderr for n in names) and not proc.stdout,
                    common.describe(proc))
        proc = common.run([exe, "apim", "--help"])
        T.check("dyad apim --help lists its options",
                proc.returncode == 0 and all(o in proc.stdout for o in ("--outcome", "--pairing", "--format")),
                common.describe(proc))


if __name__ == "__main__":
    T.guard("test_apim", main)
    T.finish()
