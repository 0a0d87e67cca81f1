#!/usr/bin/python3
"""Plots the daily dynamics of a Dyad output file of any model (schema v1, docs/output.md).

    /usr/bin/python3 scripts/plot_dynamics.py FILE.h5 [--outdir DIR]

writes, next to FILE (or into DIR), and prints the paths of:

  <stem>_daily.png   one panel per daily metric of the model: the mean over the couples
                     of each pairing, day by day, with its 95% CI band
  <stem>_phase.png   for models with closed forms (gottman, linear_love; docs/models.md):
                     the two partners' state against each other, the pairing means day by
                     day, ending at the closed-form steady state of each couple (dots)
                     and of the pairing on average (cross)

The band is the Student t interval of the mean over the couples of a pairing, as in
scripts/plot_pairings.py, whose legend this script shares; each pairing has the colour
and line style it has in every figure (scripts/dyad_palette.py).
Exit status 2 for a file that is not a Dyad output.

Needs Debian's /usr/bin/python3 (numpy, matplotlib, xarray, h5netcdf).
"""
import argparse
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import plot_pairings as pp  # noqa: E402  (also selects the Agg backend)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402


# The state each classic model's phase plane shows: (x variable, y variable); the axes are
# labelled from the variables' long_name.
PHASE = {
    "gottman": ("affect_a", "affect_b"),
    "linear_love": ("feeling_a", "feeling_b"),
}


def fail(message):
    print(f"plot_dynamics.py: error: {message}", file=sys.stderr)
    sys.exit(2)


def daily_metrics(ds):
    """The model's daily metrics, in file order: every <m> with <m>_mean over (day, pairing)."""
    names = []
    for name in ds.variables:
        name = str(name)
        if name.endswith("_mean") and ds[name].dims == ("day", "pairing"):
            metric = name[: -len("_mean")]
            if f"{metric}_sd" in ds.variables:
                names.append(metric)
    return names


def label_of(ds, metric):
    """A panel title: the metric's long_name and unit (dyad_palette.axis_label), without the
    per-pairing suffix and capitalised, wrapped; the raw variable name only if the file
    gives no long_name."""
    import textwrap

    for source in (f"{metric}_mean", f"run_{metric}", metric):
        if source in ds.variables:
            text = pp.dyad_palette.axis_label(ds[source].attrs, metric)
            break
    else:
        text = metric
    return "\n".join(textwrap.wrap(text[:1].upper() + text[1:], 52))


def model_key(ds, name):
    """A [model] key's value from the resolved config stored in the file, or None."""
    config = pp.attr_text(ds, "config")
    section = None
    for line in config.splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line.strip("[]").strip()
        elif section == "model" and "=" in line and not line.startswith(("#", ";")):
            key, _, value = line.partition("=")
            if key.strip() == name:
                try:
                    return float(value)
                except ValueError:
                    return None
    return None


def plot_daily_grid(ds, pairings, metrics, run, path, days_done, note):
    n = len(metrics)
    cols = n if n <= 3 else 2 if n <= 8 else 3 if n <= 15 else 4
    rows = math.ceil(n / cols)
    panel_w, panel_h = 4.6, 2.75
    width = cols * panel_w + 2.6  # room for the legend at the right
    fig = plt.figure(figsize=(width, 1))
    caption = ("Line: mean over the couples of a pairing on each day. Band: 95% confidence "
               "interval of that mean, mean ± t(0.975, n-1)·sd/√n, n = couples of the pairing "
               "(for a rate, those with a value that day).")
    top = pp.header(fig, "Daily dynamics by pairing", run, caption, note,
                    width_chars=int(width * 13))
    height = top + 0.2 + rows * panel_h + 0.25
    fig.set_figheight(height)
    fig.clear()
    pp.header(fig, "Daily dynamics by pairing", run, caption, note, width_chars=int(width * 13))
    day = np.asarray(ds["day"].values)[:days_done] if "day" in ds.variables else np.arange(days_done)
    axes = []
    for k, metric in enumerate(metrics):
        r, c = divmod(k, cols)
        left = (0.75 + c * panel_w) / width
        bottom = (height - top - 0.2 - (r + 1) * panel_h + 0.55) / height
        ax = fig.add_axes([left, bottom, (panel_w - 1.05) / width, (panel_h - 1.05) / height])
        axes.append(ax)
        mean, low, high = pp.daily_band(ds, metric, pairings, days_done)
        for p in reversed(pairings.order):
            colour = pairings.colour[p]
            with np.errstate(invalid="ignore"):
                ax.fill_between(day, low[:, p], high[:, p], color=colour, alpha=0.18, lw=0,
                                zorder=2 if pairings.group[p] else 4)
            ax.plot(day, mean[:, p], color=colour, lw=pairings.width[p] * 0.8,
                    ls=pairings.dash[p], zorder=3 if pairings.group[p] else 5)
        ax.set_title(label_of(ds, metric), fontsize=8.5, loc="left")
        ax.tick_params(labelsize=8)
        if len(day) > 1:
            ax.set_xlim(day[0], day[-1])
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, color="#dddddd", lw=0.6)
        ax.set_axisbelow(True)
        if r == rows - 1 or k + cols >= n:
            ax.set_xlabel("day", fontsize=8.5)
    pp.add_legend(axes[min(cols, n) - 1], pairings)
    fig.savefig(path, dpi=pp.DPI)
    plt.close(fig)


def plot_phase(ds, pairings, model, run, path, days_done, note):
    x_name, y_name = PHASE[model]
    width, height = 10.5, 7.4
    fig = plt.figure(figsize=(width, height))
    start = (model_key(ds, "start_a"), model_key(ds, "start_b"))
    has_start = None not in start
    which = (" (gottman: the one nearest the end of the run, of up to five)"
             if model == "gottman" else "")
    caption = ("Line: the pairing's mean of partner a's and partner b's daily value, day by day"
               + (", from the start (o)" if has_start else " (o: day 0)")
               + f". Dots: the closed-form steady state of each couple{which}; x: their mean over "
               "the pairing. A line ends at its x when the couples have settled.")
    top = pp.header(fig, "Phase plane by pairing", run, caption, note)
    ax = fig.add_axes([0.85 / width, 0.75 / height, 1 - 3.4 / width, 1 - (top + 0.3 + 0.75) / height])
    xs = np.asarray(ds[f"{x_name}_mean"].values, dtype=float)[:days_done]
    ys = np.asarray(ds[f"{y_name}_mean"].values, dtype=float)[:days_done]
    sa = np.asarray(ds["run_steady_a"].values, dtype=float)
    sb = np.asarray(ds["run_steady_b"].values, dtype=float)
    finite = [np.isfinite(xs), np.isfinite(ys)]
    for p in reversed(pairings.order):
        colour = pairings.colour[p]
        sel = pairings.index == p
        ax.scatter(sa[sel], sb[sel], s=7, color=colour, alpha=0.35, lw=0, zorder=2)
        ok = finite[0][:, p] & finite[1][:, p]
        line_x, line_y = xs[ok, p], ys[ok, p]
        if has_start:
            line_x, line_y = np.concatenate([[start[0]], line_x]), np.concatenate([[start[1]], line_y])
        ax.plot(line_x, line_y, color=colour, lw=pairings.width[p], ls=pairings.dash[p],
                zorder=4 if pairings.group[p] else 5)
        if len(line_x):
            ax.plot(line_x[0], line_y[0], "o", ms=5, mfc="white", mec=colour, zorder=6)
        with np.errstate(invalid="ignore"):
            mx, my = np.nanmean(sa[sel]) if np.isfinite(sa[sel]).any() else np.nan, \
                np.nanmean(sb[sel]) if np.isfinite(sb[sel]).any() else np.nan
        ax.plot(mx, my, "X", ms=11, color=colour, mec="black", mew=0.8, zorder=7)
    # Equal scales: distances in the plane mean the same along both axes.
    ax.set_aspect("equal", adjustable="datalim")
    ax.axhline(0, color="#999999", lw=0.7, zorder=1)
    ax.axvline(0, color="#999999", lw=0.7, zorder=1)
    ax.set_xlabel(label_of(ds, x_name).replace("\n", " "))
    ax.set_ylabel(label_of(ds, y_name).replace("\n", " "))
    ax.grid(True, color="#eeeeee", lw=0.6)
    ax.set_axisbelow(True)
    pp.add_legend(ax, pairings)
    fig.savefig(path, dpi=pp.DPI)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Plot the daily per-pairing means of every daily metric of a Dyad output "
                    "file, and for the classic models the phase plane with the closed-form "
                    "steady states.")
    parser.add_argument("file", type=Path, help="a Dyad output file (.h5)")
    parser.add_argument("--outdir", type=Path, help="where to write the PNGs (default: beside FILE)")
    args = parser.parse_args(argv)

    try:
        ds = pp.open_dyad(args.file, required=("pairing", "couple_pairing"))
    except pp.NotDyad as e:
        fail(str(e))
    with ds:
        outdir = args.outdir if args.outdir is not None else args.file.resolve().parent
        if not outdir.is_dir():
            fail(f"--outdir {outdir}: no such directory")
        name = args.file.name.removesuffix(".partial")
        stem = Path(name).stem
        pairings = pp.Pairings(ds)
        n_day = ds.sizes.get("day", 0)
        status = pp.attr_text(ds, "status", "unknown")
        days_done = pp.attr_int(ds, "days_completed", n_day) if status != "complete" else n_day
        days_done = max(0, min(days_done, n_day))
        note = pp.incomplete_note(ds, days_done)
        run = pp.describe_run(ds, pairings, stem)
        model = pp.attr_text(ds, "model")

        paths = []
        metrics = daily_metrics(ds)
        if not metrics:
            fail(f"{args.file}: no daily metrics (<metric>_mean over day and pairing)")
        path = outdir / f"{stem}_daily.png"
        plot_daily_grid(ds, pairings, metrics, run, path, days_done, note)
        paths.append(path)
        x_name, y_name = PHASE.get(model, (None, None))
        if (x_name and f"{x_name}_mean" in ds.variables and f"{y_name}_mean" in ds.variables
                and "run_steady_a" in ds.variables):
            path = outdir / f"{stem}_phase.png"
            plot_phase(ds, pairings, model, run, path, days_done, note)
            paths.append(path)
    for p in paths:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
