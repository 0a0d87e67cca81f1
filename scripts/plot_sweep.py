#!/usr/bin/python3
"""Plots a run summary of a Dyad sweep file against the swept key(s) (docs/output.md "Sweeps").

    /usr/bin/python3 scripts/plot_sweep.py FILE.h5 METRIC [--outdir DIR] [--by KEY]

METRIC is a run summary of the model, with or without its run_ prefix (distress_a,
run_conflicts_per_week, ...). Writes <stem>_sweep_<METRIC>.png next to FILE (or into
DIR) and prints its path.

For each sweep point and pairing the value is the mean of run_<METRIC> over the couples
of the pairing at that point, with a 95% band: the Student t interval of that mean,
mean +- t(0.975, n - 1) * sd / sqrt(n), n = the couples whose value is finite (couples
with NaN, undefined, or +-inf, diverged, are left out and counted in the caption).

  grid and zip sweeps   x = the swept key (--by KEY, default the first key), one line per
                        pairing; every other grid key makes one panel per value (keys that
                        move together with x in a zip are shown on a top axis instead)
  lhs sweeps            one panel per swept key (only KEY with --by KEY): each point's
                        pairing mean as a dot, and a line through binned means (points
                        grouped by quantiles of the key) with the t interval over the
                        points of the bin, so the band includes the other keys' effect

Colours and line styles are each pairing's in every figure (scripts/dyad_palette.py),
and the legend that of scripts/plot_pairings.py. Only points whose
point_status is done are plotted; an incomplete file says so in red. Exit status 2 for a
file that is not a Dyad sweep, an unknown METRIC or KEY.

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

DONE = 1            # point_status flag value
MAX_PANELS = 24     # beyond this a figure is no longer readable: choose a key with --by
LEFT = 0.85         # inches left of the first column of panels (y label and ticks)
GAP = 0.3           # inches between panels side by side


def fail(message):
    print(f"plot_sweep.py: error: {message}", file=sys.stderr)
    sys.exit(2)


# --- reading -------------------------------------------------------------------------

def text_of(value):
    return value.decode() if isinstance(value, bytes) else str(value)


class Sweep:
    """The swept keys, their values per point, and which points are done."""

    def __init__(self, ds):
        self.mode = text_of(ds.attrs.get("sweep_mode", "grid"))
        self.keys = text_of(ds.attrs["sweep_keys"]).split()
        self.values = {}
        for key in self.keys:
            name = key.replace(".", "_")
            if name not in ds.variables:
                raise pp.NotDyad(f"swept key {key}: variable {name} is missing")
            self.values[key] = np.asarray(ds[name].values, dtype=float)
        self.status = np.asarray(ds["point_status"].values)
        self.n_points = len(self.status)
        self.done = self.status == DONE

    def resolve(self, key):
        """A key as the user typed it (key or variable name) -> the key, or None."""
        for k in self.keys:
            if key in (k, k.replace(".", "_")):
                return k
        return None


def summary_names(ds):
    return sorted(str(v)[4:] for v in ds.variables
                  if str(v).startswith("run_") and ds[v].dims == ("couple",))


def point_stats(ds, sweep, pairings, metric):
    """mean, half-width of the 95% t interval, n, and non-finite counts per (point, pairing)."""
    y = np.asarray(ds[f"run_{metric}"].values, dtype=float)
    point = np.asarray(ds["couple_point"].values, dtype=np.int64)
    pairing = np.asarray(ds["couple_pairing"].values, dtype=np.int64)
    n_pairings = len(pairings.names)
    cells = sweep.n_points * n_pairings
    index = point * n_pairings + pairing
    finite = np.isfinite(y)
    n = np.bincount(index[finite], minlength=cells).astype(float)
    total = np.bincount(index[finite], weights=y[finite], minlength=cells)
    # Diverging runs can leave finite values near the float64 limit: their squares
    # overflow to inf, and so does the interval, which is then simply not drawn.
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        mean = np.where(n > 0, total / np.maximum(n, 1), np.nan)
        dev = (y[finite] - mean[index[finite]]) ** 2
        squares = np.bincount(index[finite], weights=dev, minlength=cells)
        sd = np.where(n > 1, np.sqrt(squares / np.maximum(n - 1, 1)), np.nan)
        half = pp.t975(n - 1) * sd / np.sqrt(n)
    done_couple = sweep.done[point]
    not_finite = int(np.sum(~finite & done_couple))
    diverged = int(np.sum(np.isinf(y) & done_couple))
    shape = (sweep.n_points, n_pairings)
    return mean.reshape(shape), half.reshape(shape), n.reshape(shape), not_finite, diverged


def axis_label(ds, metric):
    """What a reader of the figure is shown: the long_name and unit, not run_NAME (week-1)."""
    return pp.dyad_palette.axis_label(ds[f"run_{metric}"].attrs, metric)


def heading_of(ds, metric):
    """The long_name without its parenthetical detail, which the y axis keeps: the heading
    is one line and a long_name such as gottman's late_a would run off the figure."""
    import re

    label = re.sub(r"\s*\([^)]*\)", "", axis_label(ds, metric)).strip()
    return label[:1].upper() + label[1:]


def number(v):
    return f"{v:.4g}"


# --- figures -------------------------------------------------------------------------

def layout_panels(n, panel_w, panel_h, top, legend_w=2.75):
    """(width, height, cols, rows) for n panels under a header `top` inches high."""
    cols = n if n <= 3 else 2 if n == 4 else 3 if n <= 9 else 4
    rows = math.ceil(n / cols)
    width = max(10.5, LEFT + cols * panel_w + legend_w)
    height = top + 0.25 + rows * panel_h + 0.15
    return width, height, cols, rows


def make_figure(n_panels, heading, run, caption, note, panel_w, panel_h, above=0.42):
    """A figure with the plot_pairings header and n panels; returns (fig, axes, cols, rows).

    `above`: inches kept free above each panel (its title, a top axis).
    """
    fig = plt.figure(figsize=(10.5, 1))
    width_chars = 150
    top = pp.header(fig, heading, run, caption, note, width_chars=width_chars)
    width, height, cols, rows = layout_panels(n_panels, panel_w, panel_h, top)
    width_chars = int(width * 14.3)
    fig.set_figwidth(width)
    fig.clear()
    top = pp.header(fig, heading, run, caption, note, width_chars=width_chars)
    width, height, cols, rows = layout_panels(n_panels, panel_w, panel_h, top)
    fig.set_size_inches(width, height)
    fig.clear()
    pp.header(fig, heading, run, caption, note, width_chars=width_chars)
    axes = []
    bottom_margin = 0.62  # the x label
    for k in range(n_panels):
        r, c = divmod(k, cols)
        # The panels share the y axis: only the first column has tick labels, so the
        # others need no room for them.
        left = (LEFT + c * panel_w) / width
        bottom = (height - top - 0.25 - (r + 1) * panel_h + bottom_margin) / height
        share = axes[0] if axes else None
        ax = fig.add_axes([left, bottom, (panel_w - GAP) / width,
                           (panel_h - bottom_margin - above) / height], sharey=share)
        axes.append(ax)
    return fig, axes, cols, rows


def style_axes(ax, xlabel, ylabel, show_x, show_y):
    ax.grid(True, color="#dddddd", lw=0.6)
    ax.set_axisbelow(True)
    ax.tick_params(labelsize=9)
    if show_x:
        ax.set_xlabel(xlabel, fontsize=10)
    if show_y:
        import textwrap

        # Wrapped to the panel's height: a long_name is often longer than the axis.
        fig = ax.get_figure()
        inches = ax.get_position().height * fig.get_figheight()
        ax.set_ylabel("\n".join(textwrap.wrap(ylabel, max(20, int(inches * 12.5)))), fontsize=10)
    else:
        ax.tick_params(labelleft=False)


class YFrame:
    """The y axis for a set of plotted means.

    Diverging parameter sets (the classic models past their stability bound) reach
    values like 1e160 beside a stable regime of order 1: on a linear axis every stable
    line would lie flat on zero. Positive values spanning orders of magnitude get a log
    axis; values of both signs get a linear frame around the ordinary means, and means
    beyond it are marked at its edge (triangles).
    """

    SPAN = 1e3  # max |mean| / median |mean| above which the linear axis is given up

    def __init__(self, means):
        m = np.asarray(means, dtype=float).ravel()
        m = m[np.isfinite(m)]
        self.kind, self.lo, self.hi, self.note = "linear", None, None, ""
        nonzero = np.abs(m[m != 0])
        if nonzero.size == 0:
            return
        typical = float(np.median(nonzero))
        if np.abs(m).max() / typical < self.SPAN:
            return
        if np.all(m > 0):
            self.kind = "log"
            return
        inside = m[np.abs(m) <= self.SPAN * typical]
        lo, hi = float(inside.min()), float(inside.max())
        pad = 0.08 * (hi - lo) if hi > lo else max(abs(hi), 1.0) * 0.1
        self.kind, self.lo, self.hi = "frame", lo - pad, hi + pad
        beyond = np.abs(m).max()
        self.note = (f" ▲/▼: pairing mean beyond the frame of the plot (diverging parameter "
                     f"sets; |mean| up to {beyond:.2g}).")

    def apply(self, ax):
        from matplotlib.ticker import FuncFormatter

        if self.kind == "log":
            ax.set_yscale("log")
            # Plain text labels: the default 10^k labels go through mathtext.
            ax.yaxis.set_major_formatter(FuncFormatter(
                lambda v, _: f"{v:g}" if 1e-3 <= abs(v) < 1e5 else f"{v:.0e}"))
            ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
        elif self.kind == "frame":
            ax.set_ylim(self.lo, self.hi)

    def mark_beyond(self, ax, x, y, colour, z, dodge=0.0):
        """Triangles at the frame's edge for means beyond it, moved `dodge` along x so
        that several pairings beyond at one point stay apart."""
        if self.kind != "frame":
            return
        x, y = np.asarray(x, dtype=float) + dodge, np.asarray(y, dtype=float)
        for sel, edge, marker in ((y > self.hi, self.hi, "^"), (y < self.lo, self.lo, "v")):
            if sel.any():
                ax.plot(x[sel], np.full(int(sel.sum()), edge), marker, ms=7, color=colour,
                        mec="white", mew=0.6, clip_on=False, zorder=z + 2)

    def band_ok(self, m, h):
        """Where a band is worth drawing: not for means beyond the frame, nor for intervals
        wider than it (they would only paint the frame)."""
        ok = np.isfinite(m) & np.isfinite(h)
        if self.kind == "frame":
            with np.errstate(invalid="ignore"):
                ok &= (m >= self.lo) & (m <= self.hi) & (h <= self.hi - self.lo)
        return ok

    def label(self):
        return ", log scale" if self.kind == "log" else ""


def pad_xlim(ax, x):
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return
    lo, hi = float(x.min()), float(x.max())
    pad = 0.04 * (hi - lo) if hi > lo else max(0.5, abs(lo) * 0.1)
    ax.set_xlim(lo - pad, hi + pad)


def plot_lines(ds, sweep, pairings, metric, xkey, stats, frame, path, heading, run, caption, note):
    """Grid and zip: x = xkey, a panel per combination of the keys that do not follow x."""
    mean, half, _, _, _ = stats
    x_all = sweep.values[xkey]
    others = [k for k in sweep.keys if k != xkey]
    # Keys determined by x (a zip moves them together): a top axis, not panels.
    companions, panel_keys = [], []
    for k in others:
        follows = all(len(np.unique(sweep.values[k][x_all == x])) == 1 for x in np.unique(x_all))
        (companions if follows else panel_keys).append(k)
    combos = []
    for p in range(sweep.n_points):
        combo = tuple(sweep.values[k][p] for k in panel_keys)
        if combo not in combos:
            combos.append(combo)
    combos.sort()
    if len(combos) > MAX_PANELS:
        fail(f"{len(combos)} panels (one per value of {', '.join(panel_keys)}): too many for "
             f"one figure; choose the x axis with --by KEY, or tabulate with `dyad summarize "
             f"--by`")
    above = (0.42 if panel_keys else 0.1) + (0.3 + 0.16 * len(companions) if companions else 0)
    fig, axes, cols, rows = make_figure(len(combos), heading, run, caption, note,
                                        panel_w=4.6 if len(combos) > 1 else 7.2,
                                        panel_h=(3.7 if len(combos) > 1 else 4.7) + above - 0.42,
                                        above=above)
    for k, (ax, combo) in enumerate(zip(axes, combos)):
        at = np.array([all(sweep.values[key][p] == v for key, v in zip(panel_keys, combo))
                       for p in range(sweep.n_points)], dtype=bool)
        points = np.flatnonzero(at & sweep.done)
        points = points[np.argsort(x_all[points], kind="stable")]
        x = x_all[points]
        # Most insecure first so that secure-secure ends up on top.
        for q in reversed(pairings.order):
            colour = pairings.colour[q]
            z = 3 if pairings.group[q] else 5
            m, h = mean[points, q], half[points, q]
            with np.errstate(invalid="ignore"):
                ax.fill_between(x, m - h, m + h, where=frame.band_ok(m, h), color=colour,
                                alpha=0.18, lw=0, zorder=z - 1)
            ax.plot(x, m, color=colour, lw=pairings.width[q], ls=pairings.dash[q], zorder=z,
                    marker="o", ms=3.6 if len(x) <= 25 else 0, mew=0)
            span = np.ptp(x_all) if np.ptp(x_all) > 0 else 1.0
            dodge = (pairings.order.index(q) - (len(pairings.order) - 1) / 2) * 0.008 * span
            frame.mark_beyond(ax, x, m, colour, z, dodge)
        pad_xlim(ax, x_all[at])
        if panel_keys:
            ax.set_title("   ".join(f"{key} = {number(v)}" for key, v in zip(panel_keys, combo)),
                         fontsize=9.5, loc="left")
        r, c = divmod(k, cols)
        last_in_column = k + cols >= len(combos)
        style_axes(ax, xkey, axis_label(ds, metric) + frame.label(), last_in_column, c == 0)
        if companions and r == 0:
            top_axis = ax.secondary_xaxis("top")
            ticks = np.unique(x_all[at])
            if len(ticks) > 8:
                ticks = ticks[np.linspace(0, len(ticks) - 1, 8).round().astype(int)]
            top_axis.set_xticks(ticks)
            top_axis.set_xticklabels(["\n".join(number(sweep.values[key][x_all == t][0])
                                                for key in companions) for t in ticks],
                                     fontsize=8)
            top_axis.set_xlabel(", ".join(companions), fontsize=9)
    frame.apply(axes[0])
    pp.add_legend(axes[min(cols, len(axes)) - 1], pairings)
    fig.savefig(path, dpi=pp.DPI)
    plt.close(fig)


def binned(x, y, n_bins):
    """Quantile bins of x: (centre x, mean y, half-width of the t interval) per bin."""
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size < 2:
        return np.array([]), np.array([]), np.array([])
    edges = np.unique(np.quantile(x, np.linspace(0, 1, n_bins + 1)))
    which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    cx, my, hy = [], [], []
    for b in range(len(edges) - 1):
        sel = which == b
        k = int(sel.sum())
        if k == 0:
            continue
        cx.append(x[sel].mean())
        my.append(y[sel].mean())
        sd = y[sel].std(ddof=1) if k > 1 else np.nan
        hy.append(float(pp.t975(k - 1)) * sd / math.sqrt(k) if k > 1 else np.nan)
    return np.array(cx), np.array(my), np.array(hy)


def plot_scatter(ds, sweep, pairings, metric, keys, stats, frame, path, heading, run, caption,
                 note):
    """lhs: one panel per key; per-point pairing means as dots, binned means with bands."""
    mean = stats[0]
    points = np.flatnonzero(sweep.done)
    n_bins = int(np.clip(round(math.sqrt(len(points))), 3, 10))
    fig, axes, cols, _ = make_figure(len(keys), heading, run, caption, note,
                                     panel_w=4.6 if len(keys) > 1 else 7.2,
                                     panel_h=3.7 if len(keys) > 1 else 4.4, above=0.12)
    for k, (ax, key) in enumerate(zip(axes, keys)):
        x = sweep.values[key][points]
        for q in reversed(pairings.order):
            colour = pairings.colour[q]
            z = 3 if pairings.group[q] else 5
            y = mean[points, q]
            ax.scatter(x, y, s=11, color=colour, alpha=0.45, lw=0, zorder=z - 1)
            frame.mark_beyond(ax, x, y, colour, z)
            cx, my, hy = binned(x, y, n_bins)
            with np.errstate(invalid="ignore"):
                ax.fill_between(cx, my - hy, my + hy, where=frame.band_ok(my, hy), color=colour,
                                alpha=0.16, lw=0, zorder=z - 2)
            ax.plot(cx, my, color=colour, lw=pairings.width[q], ls=pairings.dash[q], zorder=z)
        pad_xlim(ax, sweep.values[key])
        c = k % cols
        style_axes(ax, key, axis_label(ds, metric) + frame.label(), k + cols >= len(keys), c == 0)
    frame.apply(axes[0])
    pp.add_legend(axes[min(cols, len(axes)) - 1], pairings)
    fig.savefig(path, dpi=pp.DPI)
    plt.close(fig)


def describe_sweep(ds, sweep, pairings, stem):
    days = pp.attr_int(ds, "days", ds.sizes.get("day", 0))
    couples = pp.attr_int(ds, "couples_per_pairing", 0)
    n = len(pairings.names)
    return (f"{stem}: {sweep.mode} sweep of {sweep.n_points} point"
            f"{'s' if sweep.n_points != 1 else ''} x {n} pairing{'s' if n != 1 else ''} x "
            f"{couples:,} couples, {days} days{pp.model_and_seed(ds)}")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Plot a run summary of a Dyad sweep against the swept key(s): the mean "
                    "over the couples of each pairing at each point, with its 95% CI band.")
    parser.add_argument("file", type=Path, help="a Dyad sweep file (.h5)")
    parser.add_argument("metric", help="a run summary, e.g. conflicts_per_week or run_distress_a")
    parser.add_argument("--outdir", type=Path, help="where to write the PNG (default: beside FILE)")
    parser.add_argument("--by", metavar="KEY",
                        help="the swept key along the x axis (default: the first; lhs: a panel "
                             "per key)")
    args = parser.parse_args(argv)

    try:
        ds = pp.open_dyad(args.file, required=("pairing", "couple_pairing", "couple_point", "point_status"),
                          sweep=True)
    except pp.NotDyad as e:
        fail(str(e))
    with ds:
        try:
            sweep = Sweep(ds)
        except pp.NotDyad as e:
            fail(f"{args.file}: {e}")
        metric = args.metric.removeprefix("run_")
        names = summary_names(ds)
        if metric not in names:
            fail(f"{args.file}: no run summary '{args.metric}'; the file has: {', '.join(names)}")
        xkey = None
        if args.by is not None:
            xkey = sweep.resolve(args.by)
            if xkey is None:
                fail(f"--by {args.by}: not a swept key of {args.file} (swept: "
                     f"{', '.join(sweep.keys)})")
        if not sweep.done.any():
            fail(f"{args.file}: no point is done yet (point_status); nothing to plot")
        outdir = args.outdir if args.outdir is not None else args.file.resolve().parent
        if not outdir.is_dir():
            fail(f"--outdir {outdir}: no such directory")
        stem = Path(args.file.name.removesuffix(".partial")).stem
        pairings = pp.Pairings(ds)
        stats = point_stats(ds, sweep, pairings, metric)
        not_finite, diverged = stats[3], stats[4]

        status = pp.attr_text(ds, "status", "unknown")
        n_done = int(sweep.done.sum())
        note = ""
        if status != "complete" or n_done < sweep.n_points:
            note = (f"INCOMPLETE FILE (status {status}): {n_done} of {sweep.n_points} points done; "
                    "only those are plotted")
        run = describe_sweep(ds, sweep, pairings, stem)
        left_out = ""
        if not_finite:
            left_out = (f" {not_finite:,} couple value{'s' if not_finite != 1 else ''} not "
                        f"finite ({diverged:,} ±inf, diverged; {not_finite - diverged:,} NaN, "
                        "undefined) left out.")
        frame = YFrame(stats[0][sweep.done])
        left_out += frame.note
        if sweep.mode == "lhs":
            keys = [xkey] if xkey else sweep.keys
            against = " and ".join(keys) if len(keys) <= 2 else "the swept keys"
            heading = f"{heading_of(ds, metric)} against {against}"
            caption = (f"Variable run_{metric}. Dots: mean over the couples of a pairing at one "
                       "sweep point (Latin hypercube). Line: mean of those dots in quantile bins "
                       "of the key; band: 95% t interval over the points of the bin, so it "
                       "includes the effect of the other swept keys." + left_out)
            path = outdir / f"{stem}_sweep_{metric}.png"
            plot_scatter(ds, sweep, pairings, metric, keys, stats, frame, path, heading, run,
                         caption, note)
        else:
            xkey = xkey or sweep.keys[0]
            heading = f"{heading_of(ds, metric)} against {xkey}, by pairing"
            caption = (f"Variable run_{metric}. Line: mean over the couples of a pairing at each "
                       "sweep point (dots). Band: 95% confidence interval of that mean, "
                       "mean ± t(0.975, n-1)·sd/√n, n = couples of the pairing at the point."
                       + left_out)
            path = outdir / f"{stem}_sweep_{metric}.png"
            plot_lines(ds, sweep, pairings, metric, xkey, stats, frame, path, heading, run,
                       caption, note)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
