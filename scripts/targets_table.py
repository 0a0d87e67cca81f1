#!/usr/bin/env python3
"""docs/model.md's "Validation figures" table from `dyad targets --format json`.

    build/dyad targets --format json > /tmp/targets.json
    /usr/bin/python3 scripts/targets_table.py /tmp/targets.json

One row a figure: its 180- and 730-day values side by side (F14's single horizon,
2,190 days, in the 730 column with the horizon named), "missed" where the band is not met,
and the count of rows that hold. Texts with figures in them are those of the first
horizon's row, as the docs say.
"""
import json
import re
import sys


def key(row):
    # A row's text may carry figures of its own horizon ("secure-anxious 4.34 between ..."):
    # rows of the two horizons pair up by the text with its numbers taken out.
    return row["id"], re.sub(r"-?\d+(\.\d+)?(e-?\d+)?", "#", row["what"])


def band(row):
    # as sim/app/targets.cpp words it (JSON has no infinity: an open end is null)
    low, high = row["low"], row["high"]
    if low is None:
        return f"<= {high:g}"
    if high is None:
        return f">= {low:g}"
    return f"{low:g} to {high:g}"


def cell(row):
    return f"{row['measured']:.3f}" + ("" if row["holds"] else " **missed**")


def main():
    rows = json.load(open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin)
    order, by_key = [], {}
    for r in rows:
        k = key(r)
        if k not in by_key:
            order.append(k)
            by_key[k] = {}
        by_key[k][r["horizon"]] = r
    held = sum(r["holds"] for r in rows)
    print(f"**{held} of {len(rows)} hold**\n")
    print("| target | figure | 180 days | 730 days | band |")
    print("|---|---|---|---|---|")
    for k in order:
        h = by_key[k]
        first = h[min(h)]
        what = first["what"].replace("|", "/")
        if set(h) == {2190}:
            print(f"| {first['id']} | {what} (2,190 days) | | {cell(first)} | {band(first)} |")
            continue
        c180 = cell(h[180]) if 180 in h else ""
        c730 = cell(h[730]) if 730 in h else ""
        print(f"| {first['id']} | {what} | {c180} | {c730} | {band(first)} |")


if __name__ == "__main__":
    main()
