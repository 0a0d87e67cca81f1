#!/usr/bin/python3
"""run.compression: shuffle + deflate on the (day, couple) variables of record = daily.

    /usr/bin/python3 tests/scripts/test_compression.py build/dyad

The same small daily run at levels 0 and 4: identical data hash, a smaller file, the
filters and the chunks where docs/output.md says (only the (day, couple) variables),
values equal through h5py, xarray, netCDF4 and (when Rscript is there) R's ncdf4; a
level outside 0 .. 9 -> exit 2 naming the key. Prints one line per check and
`N passed, M failed`.
"""
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

import h5py  # noqa: E402
import netCDF4  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

T = common.Runner("compression")


def main():
    exe = common.exe_from_argv("test_compression")
    with common.temp_dir("dyad-compression-") as tmp:
        tmp = Path(tmp)
        cfg = common.write(tmp / "c.ini", common.small_config(tmp / "c.h5", days=40, couples=300, record="daily"))
        paths = {}
        for level in (0, 4):
            out = tmp / f"c{level}.h5"
            proc = common.run([exe, "run", cfg, "--set", f"run.compression={level}", "-o", out, "--quiet"])
            T.check(f"run.compression={level} runs", proc.returncode == 0, common.describe(proc))
            paths[level] = out
        hashes = {}
        for level, out in paths.items():
            proc = common.run([exe, "inspect", out])
            hashes[level] = common.data_hash(proc.stdout)
        T.check("the data hash is the same at levels 0 and 4", hashes[0] and hashes[0] == hashes[4], f"{hashes}")
        size0, size4 = paths[0].stat().st_size, paths[4].stat().st_size
        T.check(f"level 4 is smaller ({size4 / 1e6:.2f} MB against {size0 / 1e6:.2f} MB)", size4 < 0.6 * size0,
                f"{size4} vs {size0}")
        with h5py.File(paths[4], "r") as f4, h5py.File(paths[0], "r") as f0:
            n = f4["couple"].shape[0]
            daily = [k for k in f4 if f4[k].ndim == 2 and f4[k].shape[1] == n]
            bad = [k for k in daily if not (f4[k].compression == "gzip" and f4[k].compression_opts == 4
                                            and f4[k].shuffle and f4[k].chunks == f0[k].chunks)]
            T.check(f"every (day, couple) variable ({len(daily)}) has shuffle + gzip 4 in level 0's chunks",
                    daily and not bad, f"{bad}")
            others = [k for k in f4 if k not in daily and f4[k].compression]
            T.check("no other variable is compressed", not others, f"{others}")
            plain = [k for k in f0 if f0[k].compression]
            T.check("level 0 compresses nothing", not plain, f"{plain}")
            unequal = [k for k in daily if not np.array_equal(f4[k][:], f0[k][:], equal_nan=True)]
            T.check("h5py: every daily value equal", not unequal, f"{unequal}")
        with xr.open_dataset(paths[4], engine="h5netcdf") as a, xr.open_dataset(paths[0], engine="h5netcdf") as b:
            T.check("xarray (h5netcdf): tension equal", np.array_equal(a.tension.values, b.tension.values,
                                                                        equal_nan=True), "")
        with netCDF4.Dataset(paths[4]) as a, netCDF4.Dataset(paths[0]) as b:
            x, y = np.ma.filled(a["tension"][:], np.nan), np.ma.filled(b["tension"][:], np.nan)
            T.check("netCDF4-python: tension equal, filters reported",
                    np.array_equal(x, y, equal_nan=True) and a["tension"].filters().get("zlib")
                    and a["tension"].filters().get("shuffle"), f"{a['tension'].filters()}")
        rscript = shutil.which("Rscript")
        if rscript:
            code = ('library(ncdf4); a <- ncvar_get(nc_open(commandArgs(TRUE)[1]), "tension"); '
                    'b <- ncvar_get(nc_open(commandArgs(TRUE)[2]), "tension"); '
                    'cat(identical(is.na(a), is.na(b)) && all(a[!is.na(a)] == b[!is.na(b)]), "\\n")')
            proc = common.run([rscript, "--vanilla", "-e", code, paths[4], paths[0]], timeout=120)
            T.check("R ncdf4: tension equal", proc.returncode == 0 and proc.stdout.strip() == "TRUE",
                    common.describe(proc))
        else:
            T.skip("R ncdf4", "Rscript not found (Debian r-base-core r-cran-ncdf4; scripts/setup.sh installs them)")
        for bad_level in ("10", "-1", "fast"):
            proc = common.run([exe, "run", cfg, "--set", f"run.compression={bad_level}", "-o", tmp / "bad.h5",
                               "--quiet"])
            T.check(f"run.compression={bad_level} -> exit 2 naming run.compression",
                    proc.returncode == 2 and "run.compression" in proc.stderr and not (tmp / "bad.h5").exists(),
                    common.describe(proc))
    T.finish()


if __name__ == "__main__":
    main()
