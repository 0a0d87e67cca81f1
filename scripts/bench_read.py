#!/usr/bin/python3
"""Times the two ways researchers read a `record = daily` Dyad file with h5py:

  trajectories   all days of a block of consecutive couples (a pairing's first N)
  cross-section  one day of every couple

for one (day, couple) variable and for all of them, from a cold page cache (the file's
pages dropped with posix_fadvise, no root needed) and warm (median of three). Prints the
chunks each read touches and their bytes, which is what the chunk shape decides
(docs/output.md "Chunking").

    /usr/bin/python3 scripts/bench_read.py results/run.h5 [--couples 1000] [--metric tension]
"""
import argparse
import os
import statistics
import sys
import time

import h5py


def drop_page_cache(path):
    os.sync()  # dirty pages cannot be dropped
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def timed(path, read):
    drop_page_cache(path)
    with h5py.File(path, "r") as f:  # h5py's default chunk cache: 1 MiB per dataset
        start = time.perf_counter()
        read(f)
        cold = time.perf_counter() - start
    warm = []
    for _ in range(3):
        with h5py.File(path, "r") as f:
            start = time.perf_counter()
            read(f)
            warm.append(time.perf_counter() - start)
    return cold, statistics.median(warm)


def chunks_touched(chunk, rows, cols):
    """Chunks a (rows, cols) selection of a 2-D chunked variable touches."""
    def span(sel, size):
        return (sel.stop - 1) // size - sel.start // size + 1
    return span(rows, chunk[0]) * span(cols, chunk[1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file")
    parser.add_argument("--couples", type=int, default=1000, help="couples in the trajectory block")
    parser.add_argument("--metric", default="tension", help="the variable read alone")
    args = parser.parse_args()

    with h5py.File(args.file, "r") as f:
        # (day, couple) variables: the only 2-D ones with a dyad_kind (docs/output.md)
        daily = [name for name, v in f.items()
                 if isinstance(v, h5py.Dataset) and v.ndim == 2 and "dyad_kind" in v.attrs]
        if args.metric not in daily:
            sys.exit(f"{args.file}: no (day, couple) variable {args.metric}: was it run with record = daily?")
        days, couples = f[args.metric].shape
        chunk = f[args.metric].chunks
        per_pairing = int(f.attrs["couples_per_pairing"])
        n_pairings = len(f["pairing"])
    first = (n_pairings // 2) * per_pairing
    block = slice(first, min(couples, first + args.couples))
    all_days, one_day = slice(0, days), slice(days // 2, days // 2 + 1)

    print(f"{args.file}: {days} days x {couples} couples, chunks {chunk[0]} days x {chunk[1]} couples "
          f"({chunk[0] * chunk[1] * 4 / 1024:.0f} KiB), {len(daily)} daily variables")
    print(f"{'read':<56} {'chunks':>7} {'MB of chunks':>13} {'MB wanted':>10} {'cold s':>8} {'warm s':>8}")
    for label, rows, cols in [(f"trajectories: all days of {block.stop - block.start} couples", all_days, block),
                              ("cross-section: one day of every couple", one_day, slice(0, couples))]:
        for names in ([args.metric], daily):
            n_chunks = chunks_touched(chunk, rows, cols) * len(names)
            wanted = (rows.stop - rows.start) * (cols.stop - cols.start) * 4 * len(names)
            cold, warm = timed(args.file, lambda f: [f[name][rows, cols] for name in names])
            what = f"{label}, {names[0] if len(names) == 1 else 'all variables'}"
            print(f"{what:<56} {n_chunks:>7} {n_chunks * chunk[0] * chunk[1] * 4 / 1e6:>13.1f} "
                  f"{wanted / 1e6:>10.2f} {cold:>8.3f} {warm:>8.3f}")


if __name__ == "__main__":
    main()
