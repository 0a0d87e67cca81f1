#!/usr/bin/python3
"""Schema v1 of Dyad output files, read back the way users read them.

    /usr/bin/python3 tests/scripts/test_schema.py build/dyad

Runs `dyad run` on a small config (3 pairings including secure-secure, 20 couples per
pairing, 40 days, record = daily) in a temporary directory, then checks the file with
xarray (h5netcdf), netCDF4, ncdump and h5py, with every Python warning an error:
dimensions, variables (dims and dtypes), flag meanings, the per-pairing daily means and
sds against numpy over the per-couple daily values, the run summaries against the daily
values, root attributes, the data hash of `dyad inspect` (equal for --threads 1/3 and
--block-size 7, and for `dyad run --from`), `dyad summarize` (csv and json) against
numpy, scripts/plot_pairings.py and scripts/bench_read.py on the file. Prints one line per check and
`N passed, M failed` last.
"""
import csv
import io
import json
import math
import shutil
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

import h5py  # noqa: E402
import netCDF4  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

try:
    from scipy.stats import t as student_t  # noqa: E402
except ImportError:  # pragma: no cover - Debian's python3-scipy is normally there
    student_t = None

# Every warning from here on (xarray decoding, netCDF4, h5py, numpy) is a failure.
warnings.simplefilter("error")

# 40 days: the (day, couple) chunks hold 20, so the file is written in two day blocks.
DAYS, COUPLES, SEED = 40, 20, 7
PAIRINGS = ["secure-secure", "secure-anxious", "anxious-avoidant"]
STYLES = ["secure", "anxious", "avoidant", "fearful"]
N_PAIRINGS = len(PAIRINGS)
N_COUPLES = N_PAIRINGS * COUPLES

COUNT_METRICS = ["bids_connection", "bids_autonomy", "turned_toward", "turned_away",
                 "turned_against", "conflicts", "conflict_ticks", "positive_turns",
                 "negative_turns", "demand_withdraw", "demand_withdraw_a", "stonewalls",
                 "crisis_bids", "crisis_toward", "unmet_a", "unmet_b"]
LEVEL_METRICS = ["tension", "distress_a", "distress_b", "narrative_a", "narrative_b",
                 "satisfaction_a", "satisfaction_b"]
RATE_METRICS = ["turn_toward_rate"]
DAILY_METRICS = ["bids_connection", "bids_autonomy", "turned_toward", "turned_away",
                 "turned_against", "turn_toward_rate", "conflicts", "conflict_ticks",
                 "positive_turns", "negative_turns", "demand_withdraw", "demand_withdraw_a",
                 "stonewalls", "crisis_bids", "crisis_toward", "tension", "distress_a",
                 "distress_b", "narrative_a", "narrative_b", "satisfaction_a", "satisfaction_b",
                 "unmet_a", "unmet_b"]
RUN_METRICS = DAILY_METRICS + ["conflicts_per_week", "pos_neg_ratio", "dw_anxious_share", "dissolution_day",
                               "demand_withdraw_b"]
TRAITS = ["anxiety_a", "avoidance_a", "anxiety_b", "avoidance_b"]
ROOT_ATTRIBUTES = ["Conventions", "title", "source", "history", "dyad_schema_version",
                   "dyad_version", "git_commit", "created", "model", "seed", "seed_text", "config", "status",
                   "days", "days_completed", "couples_per_pairing", "record"]
CSV_HEADER = ("pairing,metric,n,mean,sd,ci95_low,ci95_high,d_vs_secure_secure,together_share,median_days_to_parting,"
              "paired_n,paired_diff,paired_ci95_low,paired_ci95_high,paired_d")

T = common.Runner("schema")


# --- numpy references, written so that empty or all-NaN groups give NaN without warnings

def nan_mean(x, axis=None):
    x = np.asarray(x, dtype=np.float64)
    ok = ~np.isnan(x)
    n = ok.sum(axis=axis)
    s = np.where(ok, x, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, s / np.maximum(n, 1), np.nan)


def nan_sd(x, axis=None):
    x = np.asarray(x, dtype=np.float64)
    ok = ~np.isnan(x)
    n = ok.sum(axis=axis)
    m = nan_mean(x, axis=axis)
    mb = np.expand_dims(m, axis) if axis is not None else m
    sq = np.where(ok, (x - mb) ** 2, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 1, np.sqrt(sq / np.maximum(n - 1, 1)), np.nan)


def close(a, b, rtol, atol=0.0):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))


def worst(a, b):
    """Where two arrays differ most, for a failure message."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return f"shapes {a.shape} vs {b.shape}"
    with np.errstate(invalid="ignore"):
        diff = np.where(np.isnan(a) & np.isnan(b), 0.0, np.abs(a - b))
    diff = np.where(np.isnan(diff), np.inf, diff)
    i = np.unravel_index(int(np.argmax(diff)), diff.shape)
    return f"largest difference at {tuple(int(k) for k in i)}: file {a[i]!r} vs numpy {b[i]!r}"


def attr_scalar(value):
    if isinstance(value, bytes):
        return value.decode()
    arr = np.asarray(value)
    if arr.dtype.kind in "SO" and arr.size == 1:
        v = arr.ravel()[0]
        return v.decode() if isinstance(v, bytes) else v
    if arr.size == 1:
        return arr.ravel()[0].item()
    return value


def hash_of(exe, path):
    proc = common.run([exe, "inspect", path])
    return common.data_hash(proc.stdout), proc


# --- the checks ----------------------------------------------------------------------

def make_run(exe, tmp):
    cfg = common.write(tmp / "small.ini", common.small_config(
        tmp / "unused.h5", days=DAYS, couples=COUPLES, seed=SEED, record="daily",
        pairings=", ".join(PAIRINGS)))
    out = tmp / "small.h5"
    proc = common.run([exe, "run", cfg, "-o", out, "--quiet"], timeout=120)
    ok = T.check("dyad run on the small config exits 0", proc.returncode == 0, common.describe(proc))
    ok &= T.check("the output exists and no .partial is left",
                  out.is_file() and not Path(str(out) + ".partial").exists(),
                  f"listing: {sorted(p.name for p in tmp.iterdir())}")
    return (cfg, out) if ok else (cfg, None)


def check_xarray(path):
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        ds.load()
        T.check("xarray (h5netcdf) opens the file without warnings", True)
        sizes = dict(ds.sizes)
        for dim, size in [("couple", N_COUPLES), ("day", DAYS), ("pairing", N_PAIRINGS)]:
            T.check(f"xarray: dimension {dim} has size {size}", sizes.get(dim) == size,
                    f"sizes: {sizes}")
        T.check("xarray: dimension style exists (size 4: the default styles)",
                sizes.get("style") == len(STYLES), f"sizes: {sizes}")
        phony = [d for d in sizes if d.startswith("phony_dim")]
        T.check("xarray: no phony dimensions (every variable is attached to dimension scales)",
                not phony, f"phony dims: {phony}")

        expected = {
            "couple": (("couple",), "i", 8),
            "day": (("day",), "i", 4),
            "couple_pairing": (("couple",), "i", 4),
            "style_a": (("couple",), "i", 1),
            "style_b": (("couple",), "i", 1),
        }
        for t in TRAITS:
            expected[t] = (("couple",), "f", 4)
        for m in RUN_METRICS:
            expected[f"run_{m}"] = (("couple",), "f", 8)
        for m in DAILY_METRICS:
            expected[f"{m}_mean"] = (("day", "pairing"), "f", 8)
            expected[f"{m}_sd"] = (("day", "pairing"), "f", 8)
            expected[m] = (("day", "couple"), "f", 4)
        for m in RATE_METRICS:
            expected[f"{m}_n"] = (("day", "pairing"), "iu", None)
        expected["replicate"] = (("couple",), "iu", None)
        expected["intact_n"] = (("day", "pairing"), "i", 4)
        bad = []
        for name, (dims, kind, size) in expected.items():
            if name not in ds.variables:
                bad.append(f"{name}: missing")
                continue
            v = ds[name]
            if v.dims != dims:
                bad.append(f"{name}: dims {v.dims}, expected {dims}")
            if v.dtype.kind not in kind or (size is not None and v.dtype.itemsize != size):
                bad.append(f"{name}: dtype {v.dtype}, expected kind {kind!r} size {size}")
        T.check(f"xarray: all {len(expected)} expected variables exist with the right dims "
                "and dtype", not bad, "; ".join(bad))
        for name in ("pairing", "style"):
            ok = name in ds.variables and ds[name].dims == (name,) and \
                ds[name].dtype.kind in "OSU"
            T.check(f"xarray: coordinate {name} holds strings", ok,
                    f"{ds[name].dtype if name in ds.variables else 'missing'}")
        T.check("xarray: pairing coordinate is the configured pairings in order",
                "pairing" in ds.variables and [str(p) for p in ds["pairing"].values] == PAIRINGS,
                f"{ds['pairing'].values if 'pairing' in ds.variables else None}")
        T.check("xarray: style coordinate names the default styles",
                "style" in ds.variables and [str(s) for s in ds["style"].values] == STYLES,
                f"{ds['style'].values if 'style' in ds.variables else None}")
        T.check("xarray: couple and day coordinates are 0..n-1 and day has units 'day'",
                np.array_equal(ds["couple"].values, np.arange(N_COUPLES))
                and np.array_equal(ds["day"].values, np.arange(DAYS))
                and ds["day"].attrs.get("units") == "day",
                f"day attrs {dict(ds['day'].attrs)}")
        missing_meta = [v for v in list(expected) if v in ds.variables and v not in ("couple", "day")
                        and not ds[v].attrs.get("long_name")]
        T.check("xarray: every data variable has a long_name", not missing_meta,
                f"without long_name: {missing_meta}")

        T.guard("flag checks", check_flags, ds)
        T.guard("string labels", check_labels, ds)
        T.guard("per-pairing daily statistics", check_pairing_stats, ds)
        T.guard("run summaries", check_run_summaries, ds)
        T.guard("traits", check_traits, ds)


def flag_map(var):
    values = np.atleast_1d(np.asarray(var.attrs.get("flag_values", [])))
    meanings = var.attrs.get("flag_meanings", "")
    if isinstance(meanings, bytes):
        meanings = meanings.decode()
    names = str(meanings).split()
    return {int(v): n for v, n in zip(values, names)} if len(values) == len(names) else None


def check_labels(ds):
    """couple_pairing_name: the names xarray groups by, named in `coordinates`."""
    names = ds["couple_pairing_name"] if "couple_pairing_name" in ds.variables else None
    T.check("couple_pairing_name: a string per couple, the pairing's name",
            names is not None and names.dims == ("couple",) and names.dtype.kind in "OU"
            and [str(x) for x in names.values] == [PAIRINGS[i] for i in ds["couple_pairing"].values],
            f"{names}")
    without = [v for v in ds.variables if ds[v].dims and ds[v].dims[-1] == "couple"
               and v not in ("couple", "couple_pairing_name")
               and "couple_pairing_name" not in ds[v].encoding.get("coordinates", "")]
    T.check("every other per-couple variable names couple_pairing_name in `coordinates`", not without,
            f"without: {without}")
    grouped = ds.run_conflicts_per_week.groupby("couple_pairing_name").mean()
    T.check("xarray: groupby('couple_pairing_name') groups by the pairing names",
            sorted(str(x) for x in grouped["couple_pairing_name"].values) == sorted(PAIRINGS),
            f"{grouped['couple_pairing_name'].values}")
    seed = ds.attrs.get("seed")
    T.check("seed_text is the seed in decimal", str(ds.attrs.get("seed_text")) == str(int(seed)),
            f"seed {seed!r} seed_text {ds.attrs.get('seed_text')!r}")
    T.check("history records the command line (dyad run ...)",
            " dyad run " in str(ds.attrs.get("history")), f"{ds.attrs.get('history')!r}")


def check_flags(ds):
    cp = flag_map(ds["couple_pairing"])
    T.check("couple_pairing: flag_values/flag_meanings decode to the pairing names",
            cp == dict(enumerate(PAIRINGS)), f"{dict(ds['couple_pairing'].attrs)}")
    for side in ("style_a", "style_b"):
        m = flag_map(ds[side])
        T.check(f"{side}: flag_values/flag_meanings decode to the style names",
                m == dict(enumerate(STYLES)), f"{dict(ds[side].attrs)}")
    pairing = np.asarray(ds["couple_pairing"].values)
    T.check("couple_pairing is pairing-major (couple id = pairing * couples + replicate)",
            np.array_equal(pairing, np.repeat(np.arange(N_PAIRINGS), COUPLES)), f"{pairing}")
    T.check("replicate is the index within the pairing",
            np.array_equal(np.asarray(ds["replicate"].values), np.tile(np.arange(COUPLES), N_PAIRINGS)),
            f"{ds['replicate'].values}")
    a = np.asarray(ds["style_a"].values).astype(int)
    b = np.asarray(ds["style_b"].values).astype(int)
    names = [f"{STYLES[a[i]]}-{STYLES[b[i]]}" for i in range(N_COUPLES)]
    T.check("style_a/style_b of every couple spell its pairing",
            names == [PAIRINGS[p] for p in pairing], f"first: {names[:3]}")


def check_pairing_stats(ds):
    pairing = np.asarray(ds["couple_pairing"].values)
    mean_bad, sd_bad, n_bad = [], [], []
    for m in DAILY_METRICS:
        daily = np.asarray(ds[m].values, dtype=np.float64)  # (day, couple)
        want_mean = np.stack([nan_mean(daily[:, pairing == p], axis=1) for p in range(N_PAIRINGS)], 1)
        want_sd = np.stack([nan_sd(daily[:, pairing == p], axis=1) for p in range(N_PAIRINGS)], 1)
        got_mean = ds[f"{m}_mean"].values
        got_sd = ds[f"{m}_sd"].values
        if not close(got_mean, want_mean, rtol=1e-9, atol=1e-12):
            mean_bad.append(f"{m}: {worst(got_mean, want_mean)}")
        if not close(got_sd, want_sd, rtol=1e-6, atol=1e-9):
            sd_bad.append(f"{m}: {worst(got_sd, want_sd)}")
        if m in RATE_METRICS:
            want_n = np.stack([(~np.isnan(daily[:, pairing == p])).sum(axis=1)
                               for p in range(N_PAIRINGS)], 1)
            if not np.array_equal(np.asarray(ds[f"{m}_n"].values), want_n):
                n_bad.append(f"{m}: {worst(ds[f'{m}_n'].values, want_n)}")
    # The case the brief names, reported on its own: tension on one day.
    day = DAYS // 2
    t = np.asarray(ds["tension"].values, dtype=np.float64)[day]
    want = [float(np.mean(t[pairing == p])) for p in range(N_PAIRINGS)]
    got = [float(x) for x in ds["tension_mean"].values[day]]
    T.check(f"tension_mean on day {day} equals numpy's mean over the couples of each pairing",
            close(got, want, rtol=1e-9), f"file {got} vs numpy {want}")
    r = np.asarray(ds["turn_toward_rate"].values, dtype=np.float64)[day]
    want = [float(nan_mean(r[pairing == p])) for p in range(N_PAIRINGS)]
    got = [float(x) for x in ds["turn_toward_rate_mean"].values[day]]
    T.check(f"turn_toward_rate_mean on day {day} equals numpy's NaN-skipping mean",
            close(got, want, rtol=1e-9), f"file {got} vs numpy {want}")
    T.check("every <metric>_mean equals numpy's (NaN-skipping) mean over the couples of each "
            "pairing, every day", not mean_bad, "; ".join(mean_bad))
    T.check("every <metric>_sd equals numpy's sd (ddof 1, NaN-skipping), every day",
            not sd_bad, "; ".join(sd_bad))
    T.check("turn_toward_rate_n counts the couples with a rate (not NaN), every day",
            not n_bad, "; ".join(n_bad))
    intact = np.asarray(ds["intact_n"].values)
    T.check("intact_n: every couple is together every day (the model has no parting)",
            np.array_equal(intact, np.full((DAYS, N_PAIRINGS), COUPLES))
            and ds["intact_n"].attrs.get("units") == "1", f"{intact[:3]} {dict(ds['intact_n'].attrs)}")
    has_nan = bool(np.isnan(np.asarray(ds["turn_toward_rate"].values)).any())
    print(f"  note: per-couple turn_toward_rate has NaN days: {has_nan}", flush=True)


def check_run_summaries(ds):
    def daily(name):
        return np.asarray(ds[name].values, dtype=np.float64)  # (day, couple)

    def run(name):
        return np.asarray(ds[f"run_{name}"].values, dtype=np.float64)

    T.check("run_conflicts_per_week == run_conflicts / days * 7",
            close(run("conflicts_per_week"), run("conflicts") / DAYS * 7, rtol=1e-12),
            worst(run("conflicts_per_week"), run("conflicts") / DAYS * 7))
    bad = [f"{m}: {worst(run(m), daily(m).sum(axis=0))}" for m in COUNT_METRICS
           if not close(run(m), daily(m).sum(axis=0), rtol=1e-12)]
    T.check("run_<count> is the total of the daily values of each couple", not bad, "; ".join(bad))
    bad = [f"{m}: {worst(run(m), daily(m).mean(axis=0))}" for m in LEVEL_METRICS
           if not close(run(m), daily(m).mean(axis=0), rtol=1e-9, atol=1e-12)]
    T.check("run_<level> is the mean over days of each couple", not bad, "; ".join(bad))

    def ratio(num, den):
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)

    toward = daily("turned_toward").sum(axis=0)
    bids = daily("bids_connection").sum(axis=0)
    want = ratio(toward, bids)
    T.check("run_turn_toward_rate == total turned_toward / total bids_connection (NaN if none)",
            close(run("turn_toward_rate"), want, rtol=1e-12), worst(run("turn_toward_rate"), want))
    want = ratio(daily("positive_turns").sum(axis=0), daily("negative_turns").sum(axis=0))
    T.check("run_pos_neg_ratio == total positive / total negative turns (NaN if none negative)",
            close(run("pos_neg_ratio"), want, rtol=1e-12), worst(run("pos_neg_ratio"), want))
    dw = daily("demand_withdraw").sum(axis=0)
    dw_a = daily("demand_withdraw_a").sum(axis=0)
    a_more = np.asarray(ds["anxiety_a"].values) >= np.asarray(ds["anxiety_b"].values)
    want = ratio(np.where(a_more, dw_a, dw - dw_a), dw)
    T.check("run_dw_anxious_share == share of demand-withdraw led by the more anxious partner",
            close(run("dw_anxious_share"), want, rtol=1e-12), worst(run("dw_anxious_share"), want))


def check_traits(ds):
    values = {t: np.asarray(ds[t].values, dtype=np.float64) for t in TRAITS}
    T.check("traits are in [0, 1]",
            all(((v >= 0) & (v <= 1)).all() for v in values.values()),
            {t: (float(v.min()), float(v.max())) for t, v in values.items()})
    a = np.asarray(ds["style_a"].values).astype(int)
    centroid = {"secure": (0.15, 0.15), "anxious": (0.80, 0.20), "avoidant": (0.20, 0.80)}
    bad = []
    for s, (anx, avo) in centroid.items():
        sel = a == STYLES.index(s)
        if sel.any():
            m1, m2 = values["anxiety_a"][sel].mean(), values["avoidance_a"][sel].mean()
            if abs(m1 - anx) > 0.08 or abs(m2 - avo) > 0.08:
                bad.append(f"{s}: mean anxiety {m1:.3f}, avoidance {m2:.3f}")
    T.check("partner a's mean traits lie near the centroid of its style", not bad, "; ".join(bad))


def check_netcdf4(path):
    with netCDF4.Dataset(path) as nc:
        T.check("netCDF4.Dataset opens the file without warnings", True)
        dims = {k: len(v) for k, v in nc.dimensions.items()}
        T.check("netCDF4: dimensions couple/day/pairing/style with the right sizes",
                all(dims.get(k) == v for k, v in
                    [("couple", N_COUPLES), ("day", DAYS), ("pairing", N_PAIRINGS),
                     ("style", len(STYLES))]), f"{dims}")
        attrs = set(nc.ncattrs())
        missing = [a for a in ROOT_ATTRIBUTES if a not in attrs]
        T.check("netCDF4: every root attribute of schema v1 is there", not missing,
                f"missing: {missing}")
        get = lambda a: attr_scalar(nc.getncattr(a)) if a in attrs else None  # noqa: E731
        checks = {
            "dyad_schema_version": (get("dyad_schema_version"), 1),
            "status": (get("status"), "complete"),
            "days": (get("days"), DAYS),
            "days_completed": (get("days_completed"), DAYS),
            "couples_per_pairing": (get("couples_per_pairing"), COUPLES),
            "record": (get("record"), "daily"),
            "model": (get("model"), "attachment"),
            "seed": (get("seed"), SEED),
        }
        wrong = {k: v for k, (v, want) in checks.items() if v != want}
        T.check("netCDF4: root attribute values (schema version, status, days, couples, record, "
                "model, seed)", not wrong, f"wrong: {wrong}")
        conv = str(get("Conventions") or "")
        T.check("netCDF4: Conventions names CF", conv.startswith("CF-"), repr(conv))
        config = str(get("config") or "")
        T.check("netCDF4: config attribute is the resolved config (has [run] days and the pairings)",
                "[run]" in config and f"{DAYS}" in config and "secure-anxious" in config,
                config[:300])
        created = str(get("created") or "")
        T.check("netCDF4: created is ISO 8601 UTC", len(created) >= 19 and created[4] == "-"
                and "T" in created, repr(created))
        pairing = nc.variables["pairing"][:]
        T.check("netCDF4: the pairing coordinate reads as strings",
                [str(p) for p in np.asarray(pairing).ravel()] == PAIRINGS, f"{pairing!r}")
        tension = nc.variables["tension_mean"]
        T.check("netCDF4: tension_mean has dims (day, pairing)",
                tension.dimensions == ("day", "pairing"), f"{tension.dimensions}")


def check_ncdump(path):
    if shutil.which("ncdump") is None:
        T.skip("ncdump -h", "ncdump not installed")
        return
    proc = common.run(["ncdump", "-h", path])
    T.check("ncdump -h exits 0 with nothing on stderr",
            proc.returncode == 0 and proc.stderr.strip() == "", common.describe(proc))
    out = proc.stdout
    T.check("ncdump -h lists the dimensions",
            "dimensions:" in out and f"couple = {N_COUPLES}" in out and f"day = {DAYS}" in out
            and f"pairing = {N_PAIRINGS}" in out, out[:500])
    T.check("ncdump -h lists tension_mean(day, pairing) and tension(day, couple)",
            "tension_mean(day, pairing)" in out and "tension(day, couple)" in out, out[:2000])
    proc = common.run(["ncdump", path])
    T.check("ncdump (all data) exits 0 with nothing on stderr",
            proc.returncode == 0 and proc.stderr.strip() == "", common.describe(proc))


def check_h5py(path):
    with h5py.File(path, "r") as f:
        version = attr_scalar(f.attrs.get("dyad_schema_version"))
        status = attr_scalar(f.attrs.get("status"))
        T.check("h5py: dyad_schema_version == 1", version == 1, repr(version))
        T.check("h5py: status == 'complete'", status == "complete", repr(status))
        scales = [d for d in ("couple", "day", "pairing", "style")
                  if d in f and not h5py.h5ds.is_scale(f[d].id)]
        T.check("h5py: couple/day/pairing/style are HDF5 dimension scales", not scales,
                f"not scales: {scales}")


def check_chunks_and_bench_read(path):
    with h5py.File(path, "r") as f:
        chunks = {name: f[name].chunks for name in DAILY_METRICS}
    T.check("h5py: every (day, couple) chunk holds 20 days of every couple (two day blocks)",
            set(chunks.values()) == {(20, N_COUPLES)}, repr(set(chunks.values())))
    script = Path(__file__).resolve().parents[2] / "scripts" / "bench_read.py"
    proc = common.run([sys.executable, str(script), str(path), "--couples", "5"])
    rows = [line for line in proc.stdout.splitlines() if line.startswith(("trajectories", "cross-section"))]
    # all days of 5 couples: 2 chunks (one per block of days); one day of all: 1 chunk
    touched = [int(line.split()[-5]) for line in rows]
    T.check("bench_read.py exits 0 and prints the chunks each read touches",
            proc.returncode == 0 and touched == [2, 2 * len(DAILY_METRICS), 1, len(DAILY_METRICS)],
            f"{touched}; {common.describe(proc)}")


def check_hashes(exe, tmp, cfg, out):
    ref, proc = hash_of(exe, out)
    if not T.check("dyad inspect exits 0 and prints 'data hash: <16 hex>'",
                   proc.returncode == 0 and ref is not None, common.describe(proc)):
        return
    text = proc.stdout
    T.check("dyad inspect shows status, the dimensions and the variables",
            "complete" in text and all(d in text for d in ("couple", "day", "pairing"))
            and "run_tension" in text and "tension_mean" in text, text[:600])

    again = tmp / "again.h5"
    proc = common.run([exe, "run", "--from", out, "-o", again, "--quiet"])
    if T.check("dyad run --from FILE -o OTHER exits 0", proc.returncode == 0, common.describe(proc)):
        h, p2 = hash_of(exe, again)
        T.check("dyad run --from gives the same data hash (bit-identical repeat)", h == ref,
                f"{h} vs {ref}; {common.describe(p2)}")
        with h5py.File(out, "r") as f1, h5py.File(again, "r") as f2:
            c1, c2 = attr_scalar(f1.attrs.get("config")), attr_scalar(f2.attrs.get("config"))
            T.check("the repeat stores the same resolved config (bar run.output)",
                    _strip_output(c1) == _strip_output(c2), f"{c1!r}\n vs {c2!r}")

    hashes = {}
    for label, extra in [("threads1", ["--threads", "1"]),
                         ("threads3_block7", ["--threads", "3", "--block-size", "7"])]:
        o = tmp / f"{label}.h5"
        proc = common.run([exe, "run", cfg, "-o", o, "--quiet"] + extra)
        if T.check(f"dyad run {' '.join(extra)} exits 0", proc.returncode == 0, common.describe(proc)):
            hashes[label] = hash_of(exe, o)[0]
    T.check("--threads 1 and --threads 3 --block-size 7 give the reference data hash",
            len(hashes) == 2 and set(hashes.values()) == {ref}, f"{hashes}, reference {ref}")

    o = tmp / "seed8.h5"
    proc = common.run([exe, "run", cfg, "-o", o, "--quiet", "--set", f"run.seed={SEED + 1}"])
    if T.check("dyad run --set run.seed=... exits 0", proc.returncode == 0, common.describe(proc)):
        T.check("another seed gives another data hash (the hash sees the data)",
                hash_of(exe, o)[0] not in (None, ref))


def _strip_output(config):
    return "\n".join(l for l in str(config).splitlines() if not l.replace(" ", "").startswith("output="))


def check_summary_record(exe, tmp, cfg, out):
    """record = summary: no per-couple daily variables, the same numbers otherwise."""
    o = tmp / "summary_record.h5"
    proc = common.run([exe, "run", cfg, "-o", o, "--quiet", "--set", "run.record=summary"])
    if not T.check("dyad run --set run.record=summary exits 0", proc.returncode == 0,
                   common.describe(proc)):
        return None
    with xr.open_dataset(o, engine="h5netcdf") as s, xr.open_dataset(out, engine="h5netcdf") as d:
        present = [m for m in DAILY_METRICS if m in s.variables]
        T.check("record = summary: no per-couple daily variables", not present, f"{present}")
        T.check("record = summary: root attribute record is 'summary'",
                attr_scalar(s.attrs.get("record")) == "summary", repr(s.attrs.get("record")))
        diff = [n for n in d.variables if n not in DAILY_METRICS and n in s.variables
                and not np.array_equal(np.asarray(s[n].values), np.asarray(d[n].values),
                                       equal_nan=np.asarray(d[n].values).dtype.kind == "f")]
        missing = [n for n in d.variables if n not in DAILY_METRICS and n not in s.variables]
        T.check("record = summary: every other variable is there and bit-equal to the daily run",
                not diff and not missing, f"differ: {diff}; missing: {missing}")
    return o


def check_summarize(exe, out):
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        pairing = np.asarray(ds["couple_pairing"].values)
        runs = {n[4:]: np.asarray(ds[n].values, dtype=np.float64)
                for n in ds.variables if n.startswith("run_")}
    proc = common.run([exe, "summarize", out, "--format", "csv"])
    if not T.check("dyad summarize --format csv exits 0", proc.returncode == 0, common.describe(proc)):
        return
    lines = proc.stdout.splitlines()
    T.check("csv header is exactly " + CSV_HEADER, lines[:1] == [CSV_HEADER], f"{lines[:1]}")
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    keys = {(r["pairing"], r["metric"]) for r in rows}
    want_keys = {(p, m) for p in PAIRINGS for m in runs}
    T.check(f"csv: one row per pairing x run metric ({len(want_keys)} rows)",
            len(rows) == len(want_keys) and keys == want_keys,
            f"{len(rows)} rows; missing {sorted(want_keys - keys)[:5]}; extra {sorted(keys - want_keys)[:5]}")
    T.check("csv: run metrics are all the schema's", set(runs) == set(RUN_METRICS),
            f"file has {sorted(set(runs) ^ set(RUN_METRICS))} beyond/without the schema's")

    bad = {"n": [], "mean": [], "sd": [], "ci": [], "d": [], "d_ref": []}
    ref = {m: v[pairing == PAIRINGS.index("secure-secure")] for m, v in runs.items()}
    for r in rows:
        m, p = r["metric"], r["pairing"]
        if m not in runs or p not in PAIRINGS:
            continue
        x = runs[m][pairing == PAIRINGS.index(p)]
        x = x[~np.isnan(x)]
        n = len(x)
        mean = float(nan_mean(x)) if n else math.nan
        sd = float(nan_sd(x)) if n else math.nan
        got = {k: float(r[k]) for k in ("mean", "sd", "ci95_low", "ci95_high", "d_vs_secure_secure")}
        if int(r["n"]) != n:
            bad["n"].append(f"{p}/{m}: {r['n']} vs {n}")
        if not close(got["mean"], mean, rtol=1e-10, atol=1e-13):
            bad["mean"].append(f"{p}/{m}: {got['mean']!r} vs {mean!r}")
        if not close(got["sd"], sd, rtol=1e-8, atol=1e-12):
            bad["sd"].append(f"{p}/{m}: {got['sd']!r} vs {sd!r}")
        if student_t is not None and n >= 2:
            half = student_t.ppf(0.975, n - 1) * sd / math.sqrt(n)
            if not (close(got["ci95_low"], mean - half, rtol=1e-7, atol=1e-12)
                    and close(got["ci95_high"], mean + half, rtol=1e-7, atol=1e-12)):
                bad["ci"].append(f"{p}/{m}: [{got['ci95_low']}, {got['ci95_high']}] vs "
                                 f"[{mean - half}, {mean + half}]")
        y = ref[m][~np.isnan(ref[m])]
        if p == "secure-secure":
            # Cohen's d of a group against itself: 0, or NaN where it is undefined (n < 2).
            if not (got["d_vs_secure_secure"] == 0 or (n < 2 and math.isnan(got["d_vs_secure_secure"]))):
                bad["d_ref"].append(f"{m}: {got['d_vs_secure_secure']!r} (n {n})")
        elif n >= 2 and len(y) >= 2:
            pooled = math.sqrt(((n - 1) * sd ** 2 + (len(y) - 1) * float(nan_sd(y)) ** 2)
                               / (n + len(y) - 2))
            if pooled > 0:
                d = (mean - float(nan_mean(y))) / pooled
                if not close(got["d_vs_secure_secure"], d, rtol=1e-7, atol=1e-12):
                    bad["d"].append(f"{p}/{m}: {got['d_vs_secure_secure']!r} vs {d!r}")
    T.check("csv: n is the count of non-NaN run values per pairing", not bad["n"], "; ".join(bad["n"][:6]))
    T.check("csv: mean matches numpy's NaN-skipping mean of run_<metric> per pairing",
            not bad["mean"], "; ".join(bad["mean"][:6]))
    T.check("csv: sd matches numpy's sd (ddof 1)", not bad["sd"], "; ".join(bad["sd"][:6]))
    if student_t is None:
        T.skip("csv: 95% CI is the Student t interval", "scipy not available")
    else:
        T.check("csv: 95% CI is the Student t interval of the mean", not bad["ci"], "; ".join(bad["ci"][:6]))
    T.check("csv: d_vs_secure_secure is 0 for the secure-secure rows", not bad["d_ref"],
            "; ".join(bad["d_ref"][:6]))
    T.check("csv: d_vs_secure_secure is Cohen's d with the pooled sd", not bad["d"], "; ".join(bad["d"][:6]))

    proc = common.run([exe, "summarize", out, "--format", "json"])
    parsed = None
    try:
        parsed = json.loads(proc.stdout)
    except ValueError as e:
        T.check("dyad summarize --format json prints valid JSON", False, f"{e}; {common.describe(proc)}")
    if parsed is not None:
        T.check("dyad summarize --format json prints valid JSON (json.loads)", proc.returncode == 0)
        same = isinstance(parsed, list) and len(parsed) == len(rows) and all(
            j.get("pairing") == c["pairing"] and j.get("metric") == c["metric"]
            and int(j.get("n")) == int(c["n"])
            and close(math.nan if j.get("mean") is None else j["mean"], float(c["mean"]), rtol=1e-12)
            for j, c in zip(parsed, rows))
        T.check("json: the same rows and numbers as the csv", same,
                f"json[0] {parsed[0] if parsed else None}, csv[0] {rows[0] if rows else None}")
    proc = common.run([exe, "summarize", out])
    T.check("dyad summarize (table) exits 0 and names every pairing",
            proc.returncode == 0 and all(p in proc.stdout for p in PAIRINGS), common.describe(proc))


def check_plots(tmp, out, summary_file):
    for label, path in [("record = daily", out), ("record = summary", summary_file)]:
        if path is None:
            continue
        outdir = tmp / f"plots_{path.stem}"
        outdir.mkdir()
        proc = common.run([common.PYTHON, common.PLOT_SCRIPT, path, "--outdir", outdir], timeout=120)
        names = [f"{path.stem}_{k}.png" for k in ("tension", "turn_toward", "conflicts_per_week")]
        T.check(f"plot_pairings.py ({label}) exits 0", proc.returncode == 0, common.describe(proc))
        files = [outdir / n for n in names]
        ok = all(f.is_file() and f.stat().st_size > 1000 and f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
                 for f in files)
        T.check(f"plot_pairings.py ({label}) writes the three non-empty PNGs and prints their paths",
                ok and all(str(f) in proc.stdout for f in files),
                f"files: {sorted(p.name for p in outdir.iterdir())}; stdout {proc.stdout!r}")

    # An incomplete file: same data, marked interrupted after 6 of 10 days.
    partial = tmp / "cut.h5"
    shutil.copy(out, partial)
    with h5py.File(partial, "r+") as f:
        f.attrs["status"] = "interrupted"
        f.attrs["days_completed"] = np.int32(6)
    outdir = tmp / "plots_cut"
    outdir.mkdir()
    proc = common.run([common.PYTHON, common.PLOT_SCRIPT, partial, "--outdir", outdir], timeout=120)
    T.check("plot_pairings.py on a file marked interrupted exits 0 and writes three PNGs",
            proc.returncode == 0 and len(list(outdir.glob("*.png"))) == 3, common.describe(proc))

    bogus = common.write(tmp / "not_dyad.h5", "just text\n")
    proc = common.run([common.PYTHON, common.PLOT_SCRIPT, bogus, "--outdir", tmp], timeout=60)
    T.check("plot_pairings.py on a file that is not a Dyad output exits 2 naming the file",
            proc.returncode == 2 and "not_dyad.h5" in proc.stderr and "Traceback" not in proc.stderr,
            common.describe(proc))
    plain = tmp / "plain.h5"
    with h5py.File(plain, "w") as f:
        f["x"] = np.arange(3)
    proc = common.run([common.PYTHON, common.PLOT_SCRIPT, plain, "--outdir", tmp], timeout=60)
    T.check("plot_pairings.py on an HDF5 file without Dyad attributes exits 2",
            proc.returncode == 2 and "plain.h5" in proc.stderr and "Traceback" not in proc.stderr,
            common.describe(proc))

    # plot_dynamics.py shares plot_pairings.open_dyad: any model's file, refusals alike.
    dynamics = Path(common.PLOT_SCRIPT).with_name("plot_dynamics.py")
    outdir = tmp / "plots_dynamics"
    outdir.mkdir()
    proc = common.run([common.PYTHON, dynamics, out, "--outdir", outdir], timeout=120)
    png = outdir / f"{Path(out).stem}_daily.png"
    T.check("plot_dynamics.py writes <stem>_daily.png and prints its path",
            proc.returncode == 0 and png.is_file() and png.stat().st_size > 0 and str(png) in proc.stdout,
            common.describe(proc))
    for path in (bogus, plain):
        proc = common.run([common.PYTHON, dynamics, path, "--outdir", tmp], timeout=60)
        T.check(f"plot_dynamics.py on {path.name} (not a Dyad output) exits 2 naming the file",
                proc.returncode == 2 and path.name in proc.stderr and "Traceback" not in proc.stderr,
                common.describe(proc))


def main():
    exe = common.exe_from_argv("test_schema.py")
    with common.temp_dir("dyad_schema_") as d:
        tmp = Path(d)
        cfg, out = T.guard("dyad run", make_run, exe, tmp) or (None, None)
        if out is not None:
            T.guard("xarray checks", check_xarray, out)
            T.guard("netCDF4 checks", check_netcdf4, out)
            T.guard("ncdump checks", check_ncdump, out)
            T.guard("h5py checks", check_h5py, out)
            T.guard("chunk checks", check_chunks_and_bench_read, out)
            T.guard("data hash checks", check_hashes, exe, tmp, cfg, out)
            summary_file = T.guard("record = summary checks", check_summary_record, exe, tmp, cfg, out)
            T.guard("summarize checks", check_summarize, exe, out)
            T.guard("plot checks", check_plots, tmp, out, summary_file)
    T.finish()


if __name__ == "__main__":
    main()
