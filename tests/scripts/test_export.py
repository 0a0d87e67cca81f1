#!/usr/bin/python3
"""`dyad export`: the flat tables, read by pandas, R (read.csv, ncdf4), xarray and netCDF4,
compared with the HDF5 file through h5py.

    /usr/bin/python3 tests/scripts/test_export.py build/dyad

Inputs: a plain run (configs/quick.ini, shortened) and a two-point sweep, both with
couples that part (NaN summaries). Checks: both layouts in both formats against the
file, value for value (float32 traits exactly, NaN where the file has NaN); the types
pandas and R infer; the README's "Tidy export" snippets run as written; default names,
no clobbering without --overwrite, bad options exit 2. R is Debian's r-base-core with
r-cran-ncdf4 (scripts/setup.sh installs both); without Rscript the R checks are skipped
with a message. Prints one line per check and `N passed, M failed`.
"""
import math
import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

import h5py  # noqa: E402
import netCDF4  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xarray as xr  # noqa: E402

T = common.Runner("export")
RSCRIPT = shutil.which("Rscript")
SWEEP = """
[sweep]
model.work_load_b = 0.1, 0.6
"""


def read_h5(path):
    """The file's per-couple columns, as the export should render them."""
    with h5py.File(path, "r") as f:
        pairings = list(f["pairing"].asstr()[:])
        styles = list(f["style"].asstr()[:])
        d = {"couple": f["couple"][:], "pairing": np.array(pairings)[f["couple_pairing"][:]],
             "replicate": f["replicate"][:],
             "style_a": np.array(styles)[f["style_a"][:]], "style_b": np.array(styles)[f["style_b"][:]]}
        if "couple_point" in f:
            d["point"] = f["couple_point"][:]
            for key in f.attrs["sweep_keys"].decode().split():
                name = key.replace(".", "_")
                d[name] = f[name][:][d["point"]]
        for t in ("anxiety_a", "avoidance_a", "anxiety_b", "avoidance_b"):
            d[t] = f[t][:]
        for k in f:
            if k.startswith("run_"):
                d[k] = f[k][:]
        d["_labels"] = f["couple_pairing_name"].asstr()[:]
    return d


def same(a, b):
    """Equal arrays, NaN equal to NaN; floats compared in the file's own precision."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind in "OUS" or b.dtype.kind in "OUS":
        return a.shape == b.shape and all(str(x) == str(y) for x, y in zip(a, b))
    if b.dtype == np.float32:
        a = a.astype(np.float32)
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


def expect_person(h):
    """The pairwise layout built by hand from the file: rows a, b of every couple."""
    n = len(h["couple"])
    rows = np.repeat(np.arange(n), 2)
    side = np.tile([0, 1], n)
    e = {"person": 2 * h["couple"][rows] + side, "couple": h["couple"][rows],
         "partner": np.where(side == 0, "a", "b")}
    per_partner = {"couple", "style_a", "style_b", "anxiety_a", "anxiety_b", "avoidance_a", "avoidance_b"}
    for k in h:  # pairing, replicate and, in a sweep, the point and the swept values
        if not k.startswith(("run_", "_")) and k not in per_partner:
            e[k] = h[k][rows]
    for stem, a, b in [("style", "style_a", "style_b"), ("anxiety", "anxiety_a", "anxiety_b"),
                       ("avoidance", "avoidance_a", "avoidance_b")]:
        e[stem] = np.where(side == 0, h[a][rows], h[b][rows])
        e["partner_" + stem] = np.where(side == 0, h[b][rows], h[a][rows])
    for k in list(h):
        if k.startswith("run_") and k.endswith("_a") and k[:-2] + "_b" in h:
            stem = k[:-2]
            e[stem] = np.where(side == 0, h[k][rows], h[stem + "_b"][rows])
            e["partner_" + stem] = np.where(side == 0, h[stem + "_b"][rows], h[k][rows])
    for k in list(h):
        if k.startswith("run_") and not (k[:-2] in e and k[-2:] in ("_a", "_b")):
            e[k + "_couple" if k in e else k] = h[k][rows]
    return e


def compare(label, table, expected):
    """Every expected column present and equal; no column beyond them."""
    cols = list(table.keys()) if isinstance(table, dict) else list(table.columns)
    missing = [k for k in expected if not k.startswith("_") and k not in cols]
    extra = [c for c in cols if c not in expected and c != "row"]
    bad = [k for k in expected if not k.startswith("_") and k in cols and not same(table[k], expected[k])]
    T.check(f"{label}: every column equals the HDF5 file's values", not missing and not extra and not bad,
            f"missing {missing} extra {extra} differ {bad[:6]}")


def check_file(exe, tmp, name, h5, h):
    couple_csv = tmp / f"{name}.csv"
    proc = common.run([exe, "export", h5])
    T.check(f"{name}: export with no options writes {couple_csv.name} beside the file",
            proc.returncode == 0 and couple_csv.exists(), common.describe(proc))
    # round_trip: pandas' default parser can be 1 ulp off; this one is exact
    df = pd.read_csv(couple_csv, float_precision="round_trip")
    compare(f"{name}: csv couple layout (pandas)", df, h)
    fast = pd.read_csv(couple_csv)
    # pandas 1.5's default ("high") parser is off by up to ~1e-13 relative (measured)
    T.check(f"{name}: pandas' default parser reads the same values to 1e-12 relative",
            np.allclose(fast["run_tension"], df["run_tension"], rtol=1e-12, atol=0, equal_nan=True), "")
    T.check(f"{name}: pandas types: ids int64, labels str, traits and summaries float",
            df["couple"].dtype == np.int64 and df["replicate"].dtype == np.int64
            and df["pairing"].dtype == object and df["anxiety_a"].dtype == np.float64
            and df["run_dissolution_day"].dtype == np.float64 and df["run_tension"].dtype == np.float64,
            f"{df.dtypes.to_dict()}")
    T.check(f"{name}: the file has parted couples (NaN summaries), read as NaN",
            np.isnan(h["run_dissolution_day"]).any() and (~np.isnan(h["run_dissolution_day"])).any(),
            "the fixture needs both")

    person_csv = tmp / f"{name}_person.csv"
    proc = common.run([exe, "export", h5, "--layout", "person"])
    T.check(f"{name}: --layout person writes {person_csv.name}", proc.returncode == 0 and person_csv.exists(),
            common.describe(proc))
    ep = expect_person(h)
    dp = pd.read_csv(person_csv, float_precision="round_trip")
    compare(f"{name}: csv person layout (pandas)", dp, ep)
    T.check(f"{name}: person layout has run_demand_withdraw own/partner and the couple total",
            {"run_demand_withdraw", "partner_run_demand_withdraw", "run_demand_withdraw_couple"} <= set(dp.columns),
            f"{list(dp.columns)}")

    for layout, expected, stem in [("couple", h, name), ("person", ep, name + "_person")]:
        nc = tmp / f"{stem}.nc"
        proc = common.run([exe, "export", h5, "--layout", layout, "--format", "netcdf"])
        if not T.check(f"{name}: --format netcdf --layout {layout} writes {nc.name}",
                       proc.returncode == 0 and nc.exists(), common.describe(proc)):
            continue
        with xr.open_dataset(nc, engine="h5netcdf") as ds:
            compare(f"{name}: netcdf {layout} layout (xarray h5netcdf)", {k: ds[k].values for k in ds.variables},
                    expected)
            T.check(f"{name}: netcdf {layout}: one dimension `row`, strings as str, CF attributes",
                    list(ds.sizes) == ["row"] and ds["pairing"].dtype.kind == "O"
                    and ds.attrs.get("Conventions") == "CF-1.8" and "dyad export" in ds.attrs.get("history", "")
                    and ds["run_tension"].attrs.get("long_name"), f"{ds}")
        with netCDF4.Dataset(nc) as d:
            T.check(f"{name}: netCDF4-python reads the {layout} table (dims, a string, a float)",
                    list(d.dimensions) == ["row"] and d["pairing"][0] == str(expected["pairing"][0])
                    and same(np.ma.filled(d["run_tension"][:], np.nan), expected["run_tension"]),
                    f"{d}")

    if RSCRIPT:
        check_r(tmp, name, couple_csv, person_csv, h, ep)
    return df


R_CHECK = r"""
args <- commandArgs(trailingOnly = TRUE)
df <- read.csv(args[1])
cat("classes", sapply(df[, c("couple", "pairing", "anxiety_a", "run_dissolution_day", "run_tension")], class), "\n")
cat("rows", nrow(df), "\n")
cat("nan", sum(is.na(df$run_dissolution_day)), "\n")
cat("tension", sprintf("%.17g", sum(df$run_tension)), "\n")
p <- read.csv(args[2])
cat("person", nrow(p), sum(p$partner == "a"), "\n")
library(ncdf4)
nc <- nc_open(args[3])
cat("ncpairing", ncvar_get(nc, "pairing")[1], "\n")
cat("nctension", sprintf("%.17g", sum(ncvar_get(nc, "run_tension"))), "\n")
cat("ncnan", sum(is.na(ncvar_get(nc, "run_dissolution_day"))), "\n")
nc_close(nc)
"""


def check_r(tmp, name, couple_csv, person_csv, h, ep):
    script = common.write(tmp / "check.R", R_CHECK)
    proc = common.run([RSCRIPT, "--vanilla", script, couple_csv, person_csv, tmp / f"{name}.nc"], timeout=120)
    out = proc.stdout
    if not T.check(f"{name}: R reads the csv and the netCDF (read.csv, ncdf4)", proc.returncode == 0,
                   common.describe(proc)):
        return
    fields = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}
    T.check(f"{name}: R types: couple integer, pairing character, traits and summaries numeric "
            "(an all-NaN column stays numeric)",
            fields.get("classes") == ["integer", "character", "numeric", "numeric", "numeric"], out)
    n_nan = int(np.isnan(h["run_dissolution_day"]).sum())
    tension = float(np.sum(h["run_tension"]))
    T.check(f"{name}: R: rows, NaN count and the sum of run_tension match h5py",
            fields.get("rows") == [str(len(h["couple"]))] and fields.get("nan") == [str(n_nan)]
            and math.isclose(float(fields["tension"][0]), tension, rel_tol=1e-12), out)
    T.check(f"{name}: R: person layout has two rows per couple, half of them partner a",
            fields.get("person") == [str(2 * len(h["couple"])), str(len(h["couple"]))], out)
    T.check(f"{name}: R ncdf4: strings, floats and fill values as in the file",
            fields.get("ncpairing") == [str(h["pairing"][0])] and fields.get("ncnan") == [str(n_nan)]
            and math.isclose(float(fields["nctension"][0]), tension, rel_tol=1e-12), out)


def check_rules(exe, tmp, h5):
    default = tmp / "plain.csv"
    before = default.read_bytes()
    proc = common.run([exe, "export", h5])
    T.check("an existing output is not replaced without --overwrite (exit 2, file untouched)",
            proc.returncode == 2 and "--overwrite" in proc.stderr and default.read_bytes() == before,
            common.describe(proc))
    proc = common.run([exe, "export", h5, "--overwrite"])
    T.check("--overwrite replaces it", proc.returncode == 0 and default.read_bytes() == before, common.describe(proc))
    proc = common.run([exe, "export", h5, "-o", tmp / "named.csv"])
    T.check("-o names the output", proc.returncode == 0 and (tmp / "named.csv").exists(), common.describe(proc))
    for args, key in [(["--layout", "dyad"], "--layout"), (["--format", "xlsx"], "--format")]:
        proc = common.run([exe, "export", h5, *args])
        T.check(f"export {' '.join(args)} -> exit 2 naming {key}", proc.returncode == 2 and key in proc.stderr,
                common.describe(proc))
    proc = common.run([exe, "export", tmp / "missing.h5"])
    T.check("export of a missing file -> exit 2 naming it", proc.returncode == 2 and "missing.h5" in proc.stderr,
            common.describe(proc))
    proc = common.run([exe, "export", h5, "-o", h5, "--overwrite"])
    T.check("export onto its own input -> exit 2", proc.returncode == 2, common.describe(proc))
    T.check("no .partial left behind", not list(tmp.glob("*.partial")), f"{list(tmp.glob('*.partial'))}")


def readme_snippets(section):
    text = (common.REPO / "README.md").read_text()
    m = re.search(r"^## Tidy export\n(.*?)(?=^## )", text, re.S | re.M)
    if not m:
        return None, None
    blocks = re.findall(r"```(\w+)\n(.*?)```", m.group(1), re.S)
    return ([b for lang, b in blocks if lang == "python"], [b for lang, b in blocks if lang == "r"])


def check_readme(exe, tmp, h5):
    """The README's snippets, run as written from a directory holding results/NAME.h5."""
    py, r = readme_snippets("Tidy export")
    if not T.check("README has a 'Tidy export' section with Python and R snippets", py and r, "none found"):
        return
    work = tmp / "readme"
    (work / "results").mkdir(parents=True)
    shutil.copy(h5, work / "results" / "secure_vs_mixed.h5")
    for block in re.findall(r"^build/dyad (.*)$", (common.REPO / "README.md").read_text().split("## Tidy export")[1]
                            .split("\n## ")[0], re.M):
        proc = common.run([exe, *block.split("#")[0].split()], cwd=work)
        T.check(f"README: dyad {block.split('#')[0].strip()} exits 0", proc.returncode == 0, common.describe(proc))
    for i, code in enumerate(py):
        proc = common.run([common.PYTHON, "-c", code], cwd=work, timeout=120)
        T.check(f"README: Python snippet {i + 1} runs", proc.returncode == 0, common.describe(proc))
    if RSCRIPT:
        for i, code in enumerate(r):
            proc = common.run([RSCRIPT, "--vanilla", "-e", code], cwd=work, timeout=120)
            T.check(f"README: R snippet {i + 1} runs", proc.returncode == 0, common.describe(proc))


def main():
    exe = common.exe_from_argv("test_export")
    if not RSCRIPT:
        T.skip("R checks", "Rscript not found (Debian r-base-core and r-cran-ncdf4; scripts/setup.sh installs them)")
    with common.temp_dir("dyad-export-") as tmp:
        tmp = Path(tmp)
        quick = (common.REPO / "configs" / "quick.ini").read_text()
        # parting is rare at quick.ini's size: a higher commitment midpoint (K3) parts some
        base = ["--set", "run.days=120", "--set", "run.couples=60", "--set", "model.c_mid=0.5", "--quiet"]
        cfg = common.write(tmp / "quick.ini", quick)
        plain = tmp / "plain.h5"
        proc = common.run([exe, "run", cfg, "-o", plain, *base], timeout=300)
        if T.check("the plain fixture runs", proc.returncode == 0, common.describe(proc)):
            T.guard("plain run", check_file, exe, tmp, "plain", plain, read_h5(plain))
            T.guard("rules", check_rules, exe, tmp, plain)
            T.guard("README", check_readme, exe, tmp, plain)
        sweep_cfg = common.write(tmp / "sweep.ini", quick + SWEEP)
        sweep = tmp / "sweep.h5"
        proc = common.run([exe, "run", sweep_cfg, "-o", sweep, *base], timeout=300)
        if T.check("the sweep fixture runs", proc.returncode == 0, common.describe(proc)):
            h = read_h5(sweep)
            df = T.guard("sweep", check_file, exe, tmp, "sweep", sweep, h)
            if df is not None:
                T.check("sweep: point and the swept value are columns",
                        {"point", "model_work_load_b"} <= set(df.columns)
                        and sorted(set(df["model_work_load_b"])) == [0.1, 0.6], f"{list(df.columns)[:8]}")
    T.finish()


if __name__ == "__main__":
    main()
