#!/usr/bin/python3
"""Plots how long couples stay together, per pairing, from a Dyad output file whose
model lets couples part (run_dissolution_day; docs/output.md "Couples that part").

    /usr/bin/python3 scripts/plot_survival.py FILE.h5 [-o OUT.png]

writes OUT.png (default: <stem>_survival.png beside FILE) and prints its path: one
Kaplan-Meier curve per pairing of the share of couples still together, with its 95%
confidence band (Greenwood's variance, log-log transformed interval, so the band stays
within [0, 1]). A couple that parts on day t counts as parted from day t on; couples
still together at the end of the run are censored at the run's length (days, or
days_completed for an incomplete file). The x axis is in days, or in years (days / 365)
for runs of two years or more.

Exit status 2 for a file that is not a Dyad output, a sweep, or a file without
run_dissolution_day (a model in which couples do not part).

Needs Debian's /usr/bin/python3 (numpy, matplotlib, xarray, h5netcdf).
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import plot_pairings as pp  # noqa: E402  (also selects the Agg backend)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

Z975 = 1.959963984540054
# A product such as (2/3)(3/4) is 0.5 exactly in exact arithmetic: the median is reached.
HALF = 0.5 + 1e-12


def fail(message):
    print(f"plot_survival.py: error: {message}", file=sys.stderr)
    sys.exit(2)


def kaplan_meier(parting_day, censor_day):
    """Kaplan-Meier estimate of staying together.

    parting_day: per couple the day it parted, NaN for a couple together at the end,
    which is censored at censor_day (at risk on every day up to it). Returns a dict of
    arrays over the distinct parting days: day, at_risk (couples together on that day,
    the ones parting then included), parted, survival (the estimate just after the day),
    low and high (95% log-log interval; equal to survival where it is 0), and the
    scalars n, together (censored couples) and median (the first day at which
    survival <= 0.5, NaN if never).
    """
    d = np.asarray(parting_day, dtype=float).ravel()
    parted = ~np.isnan(d)
    time = np.where(parted, d, float(censor_day))
    days = np.unique(time[parted])
    at_risk = np.array([np.sum(time >= t) for t in days], dtype=float)
    events = np.array([np.sum(parted & (time == t)) for t in days], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.cumprod(1 - events / at_risk)
        # Greenwood: Var(log S) = sum d / (n (n - d)); infinite once S is 0.
        greenwood = np.cumsum(events / (at_risk * (at_risk - events)))
        log_s = np.log(survival)
        se = np.sqrt(greenwood) / np.abs(log_s)
        low = survival ** np.exp(Z975 * se)
        high = survival ** np.exp(-Z975 * se)
    zero = survival <= 0
    low[zero] = high[zero] = 0.0
    reached = np.nonzero(survival <= HALF)[0]
    return {
        "day": days, "at_risk": at_risk, "parted": events, "survival": survival,
        "low": low, "high": high, "n": int(d.size), "together": int(np.sum(~parted)),
        "median": float(days[reached[0]]) if reached.size else float("nan"),
    }


def steps(km, censor_day):
    """x and y of the step curve (and band) from day 0 to censor_day."""
    x = np.concatenate([[0.0], km["day"], [float(censor_day)]])
    pad = lambda v: np.concatenate([[1.0], v, [v[-1] if len(v) else 1.0]])  # noqa: E731
    return x, pad(km["survival"]), pad(km["low"]), pad(km["high"])


def share_text(v):
    return f"{100 * v:.0f}%" if np.isfinite(v) else "n/a"


def plot(ds, pairings, parting, censor_day, run, note, path):
    use_years = censor_day >= 2 * 365
    scale = 365.0 if use_years else 1.0
    curves = {}
    for p in pairings.order:
        curves[p] = kaplan_meier(parting[pairings.index == p], censor_day)

    width, height = 11.5, 6.2
    fig = plt.figure(figsize=(width, height))
    unit = "years (days / 365)" if use_years else "days"
    caption = ("Line: Kaplan-Meier estimate of the share of a pairing's couples still together; "
               "a couple that parts on day t counts as parted from day t on. Band: 95% "
               "confidence interval (Greenwood's variance, log-log transformed). Censoring: "
               f"couples still together at the end of the run (day {censor_day:g}) are "
               "censored there; no couple is censored earlier. Legend: couples still "
               "together at the end / couples, and the median day of parting.")
    top = pp.header(fig, "Staying together by attachment pairing", run, caption, note)
    ax = fig.add_axes([0.85 / width, 0.65 / height, 1 - 4.5 / width,
                       1 - (top + 0.25 + 0.65) / height])
    lowest = 1.0
    labels = {}
    # Ten overlapping bands at 0.16 add up to one grey-brown field that hides the lines;
    # fainter bands when there are many keep each line readable.
    band_alpha = 0.16 if len(pairings.order) <= 4 else 0.07
    for p in reversed(pairings.order):
        km = curves[p]
        x, y, low, high = steps(km, censor_day)
        colour = pairings.colour[p]
        ax.fill_between(x / scale, low, high, step="post", color=colour, alpha=band_alpha, lw=0,
                        zorder=2 if pairings.group[p] else 4)
        ax.plot(x / scale, y, drawstyle="steps-post", color=colour, lw=pairings.width[p],
                ls=pairings.dash[p], zorder=3 if pairings.group[p] else 5)
        lowest = min(lowest, float(np.nanmin(low)))
        m = km["median"]
        median = ("median not reached" if np.isnan(m)
                  else f"median {m / 365:.2f} years (day {m:g})" if use_years else f"median day {m:g}")
        labels[p] = (f"{pairings.names[p]}\n{km['together']:,} of {km['n']:,} together, "
                     f"{median}")
    # The y axis from 0 when a curve gets near the median, else from just below the
    # lowest band: a few partings should not be a flat line at the top.
    bottom = 0.0 if lowest < 0.55 else max(0.0, np.floor((lowest - 0.02) * 20) / 20)
    # Headroom above 1: a pairing in which no couple parted is a line at 1, which would
    # otherwise lie on the frame and vanish.
    ax.set_ylim(bottom, 1 + 0.015 * (1 - bottom))
    if bottom < 0.5:
        ax.axhline(0.5, color="#888888", lw=0.8, ls=":", zorder=1)
        ax.annotate("half", xy=(1.0, 0.5), xycoords=("axes fraction", "data"), xytext=(-3, 3),
                    textcoords="offset points", ha="right", va="bottom", fontsize=8,
                    color="#666666")
    ax.set_xlim(0, censor_day / scale)
    ax.set_xlabel(unit)
    ax.set_ylabel("still together (share)")
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    ax.xaxis.set_major_locator(MaxNLocator(nbins=8, steps=[1, 2, 2.5, 5, 10],
                                           integer=not use_years))
    ax.xaxis.set_major_formatter(plain)
    ax.yaxis.set_major_formatter(plain)
    ax.grid(True, color="#dddddd", lw=0.6)
    ax.set_axisbelow(True)
    pp.add_legend(ax, pairings, labels=labels)
    # "tight" keeps a long legend entry (a median in years and days) inside the picture
    fig.savefig(path, dpi=pp.DPI, bbox_inches="tight", pad_inches=0.15)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Plot Kaplan-Meier curves of staying together per pairing, with 95%% "
                    "bands, from a Dyad output file whose couples can part.")
    parser.add_argument("file", type=Path, help="a Dyad output file (.h5)")
    parser.add_argument("-o", "--output", type=Path,
                        help="the PNG to write (default: <stem>_survival.png beside FILE)")
    args = parser.parse_args(argv)

    try:
        ds = pp.open_dyad(args.file, required=("pairing", "couple_pairing"))
    except pp.NotDyad as e:
        fail(str(e))
    with ds:
        if "run_dissolution_day" not in ds.variables:
            model = pp.attr_text(ds, "model") or "unknown"
            fail(f"{args.file}: has no run_dissolution_day: its model ({model}) does not let "
                 "couples part, so there is no time to parting to plot")
        name = args.file.name.removesuffix(".partial")
        stem = Path(name).stem
        path = args.output if args.output is not None else \
            args.file.resolve().parent / f"{stem}_survival.png"
        if not path.parent.is_dir():
            fail(f"-o {path}: no such directory {path.parent}")
        pairings = pp.Pairings(ds)
        n_day = ds.sizes.get("day", pp.attr_int(ds, "days", 0))
        status = pp.attr_text(ds, "status", "unknown")
        days_done = pp.attr_int(ds, "days_completed", n_day) if status != "complete" else n_day
        days_done = max(0, min(days_done, n_day))
        note = pp.incomplete_note(ds, days_done)
        parting = np.asarray(ds["run_dissolution_day"].values, dtype=float)
        plot(ds, pairings, parting, days_done, pp.describe_run(ds, pairings, stem), note, path)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
