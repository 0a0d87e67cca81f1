#!/usr/bin/python3
"""Plots a Dyad output file (schema v1, docs/output.md): one figure per question.

    /usr/bin/python3 scripts/plot_pairings.py FILE.h5 [--outdir DIR]

writes, next to FILE (or into DIR), and prints the paths of:

  <stem>_tension.png             daily mean tension per pairing, 95% CI band
  <stem>_turn_toward.png         daily mean turn-toward rate per pairing, 95% CI band
  <stem>_conflicts_per_week.png  distribution over couples of conflicts per week, per pairing

The band is the Student t interval of the mean over the couples of a pairing:
mean +- t(0.975, n - 1) * sd / sqrt(n), with n the couples of the pairing still together
that day (intact_n; for the turn-toward rate, the couples that made a bid that day: the
file's *_n variable).
An incomplete file (status other than complete) is plotted up to days_completed and
says so in the titles. Exit status 2 for a file that is not a Dyad output.

Needs Debian's /usr/bin/python3 (numpy, matplotlib, xarray, h5netcdf).
"""
import argparse
import math
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

# The shared palette sits beside this script, in the repository and where `cmake --install`
# puts the scripts; resolve() follows the dyad-plot-* symlinks to it.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import dyad_palette  # noqa: E402

DPI = 140
SCHEMA_VERSION = 1
REQUIRED = ["pairing", "couple_pairing", "tension_mean", "tension_sd",
            "turn_toward_rate_mean", "turn_toward_rate_sd", "run_conflicts_per_week"]

class NotDyad(Exception):
    """The input is not a (readable) Dyad output file."""


def fail(message):
    print(f"plot_pairings.py: error: {message}", file=sys.stderr)
    sys.exit(2)


# --- reading -------------------------------------------------------------------------

def open_dyad(path, required=REQUIRED, sweep=False):
    """Opens FILE with xarray and checks that it is a Dyad schema-v1 output holding the
    `required` variables: a single run, or with sweep=True a sweep. Raises NotDyad."""
    import xarray as xr  # imported here: slow, and not needed for --help

    if not path.exists():
        raise NotDyad(f"{path}: no such file")
    if path.is_dir():
        raise NotDyad(f"{path}: is a directory")
    try:
        ds = xr.open_dataset(path, engine="h5netcdf")
    except Exception as e:  # noqa: BLE001 - any failure here means "not readable"
        raise NotDyad(f"{path}: not an HDF5/netCDF-4 file ({type(e).__name__}: {e})") from None

    def refuse(message):
        ds.close()
        raise NotDyad(f"{path}: {message}")

    version = ds.attrs.get("dyad_schema_version")
    if version is None:
        refuse("not a Dyad output (no root attribute dyad_schema_version)")
    if int(np.asarray(version).ravel()[0]) != SCHEMA_VERSION:
        refuse(f"Dyad schema version {version}, this script reads version {SCHEMA_VERSION}")
    is_sweep = "sweep_keys" in ds.attrs and "point" in ds.dims
    if sweep and not is_sweep:
        refuse("not a sweep (no point dimension); plot a single run with "
               "scripts/plot_pairings.py or scripts/plot_dynamics.py")
    if not sweep and "point" in ds.dims:
        refuse(f"a sweep ({ds.attrs.get('sweep_keys', 'swept keys')} over {ds.sizes['point']} "
               "points): plot it with scripts/plot_sweep.py FILE METRIC")
    missing = [v for v in required if v not in ds.variables]
    if missing:
        refuse(f"not a complete Dyad {'sweep' if sweep else 'output'}, missing variable(s) "
               f"{', '.join(missing)}")
    return ds


def attr_int(ds, name, default):
    value = ds.attrs.get(name)
    if value is None:
        return default
    return int(np.asarray(value).ravel()[0])


def attr_text(ds, name, default=""):
    value = ds.attrs.get(name, default)
    if isinstance(value, bytes):
        value = value.decode()
    return str(value)


class Pairings:
    """Pairing names, their order (secure-secure first, most insecure last), group and style."""

    def __init__(self, ds):
        self.names = [p.decode() if isinstance(p, bytes) else str(p) for p in ds["pairing"].values]
        cp = np.asarray(ds["couple_pairing"].values)
        self.couples = np.array([int(np.sum(cp == p)) for p in range(len(self.names))])
        self.index = cp
        secure = self._secure_style(ds)
        self.group = []
        for name in self.names:
            a, b = self._styles(name)
            self.group.append(0 if (a == secure and b == secure) else
                              1 if secure in (a, b) else 2)
        score = self._insecurity(ds)
        self.order = sorted(range(len(self.names)), key=lambda p: (self.group[p], score[p], p))
        # Keyed by name (dyad_palette): the same pairing looks the same in every figure.
        self.colour, self.width, self.dash = {}, {}, {}
        for p, name in enumerate(self.names):
            look = dyad_palette.pairing_style(name)
            self.colour[p], self.width[p], self.dash[p] = look["color"], look["lw"], look["ls"]

    @staticmethod
    def _styles(name):
        # Style names have no '-' (config: STYLE-STYLE), but be lenient.
        a, _, b = name.partition("-")
        return a, b

    def _secure_style(self, ds):
        styles = set()
        for name in self.names:
            styles.update(self._styles(name))
        if "secure" in styles:
            return "secure"
        # Custom styles: call the least anxious and avoidant one secure.
        scores = {}
        for p, name in enumerate(self.names):
            a, b = self._styles(name)
            if a == b:
                scores[a] = self._insecurity(ds)[p]
        return min(scores, key=scores.get) if scores else None

    def _insecurity(self, ds):
        """Mean anxiety + avoidance of both partners over the couples of each pairing."""
        names = ["anxiety_a", "avoidance_a", "anxiety_b", "avoidance_b"]
        if not all(n in ds.variables for n in names):
            return np.arange(len(self.names), dtype=float)
        total = sum(np.asarray(ds[n].values, dtype=float) for n in names)
        return np.array([np.nanmean(total[self.index == p]) if np.any(self.index == p) else np.nan
                         for p in range(len(self.names))])


# --- statistics ----------------------------------------------------------------------

def t975(df):
    """97.5% quantile of Student's t with df degrees of freedom (NaN where df < 1)."""
    df = np.asarray(df, dtype=float)
    try:
        from scipy.stats import t as student_t
        with np.errstate(invalid="ignore"):
            return np.where(df >= 1, student_t.ppf(0.975, np.maximum(df, 1)), np.nan)
    except ImportError:  # Cornish-Fisher expansion around the normal quantile
        z = 1.959963984540054
        d = np.maximum(df, 1)
        q = (z + (z**3 + z) / (4 * d) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * d**2)
             + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * d**3))
        return np.where(df >= 1, q, np.nan)


def daily_band(ds, metric, pairings, days):
    """mean, low, high as (day, pairing) arrays over the first `days` days."""
    mean = np.asarray(ds[f"{metric}_mean"].values, dtype=float)[:days]
    sd = np.asarray(ds[f"{metric}_sd"].values, dtype=float)[:days]
    if f"{metric}_n" in ds.variables:
        n = np.asarray(ds[f"{metric}_n"].values, dtype=float)[:days]
    elif "intact_n" in ds.variables:  # couples that part leave the means (docs/output.md)
        n = np.asarray(ds["intact_n"].values, dtype=float)[:days]
    else:
        n = np.broadcast_to(pairings.couples.astype(float), mean.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = t975(n - 1) * sd / np.sqrt(n)
    return mean, mean - half, mean + half


# --- figures -------------------------------------------------------------------------

def describe_run(ds, pairings, stem):
    days = attr_int(ds, "days", ds.sizes.get("day", 0))
    couples = attr_int(ds, "couples_per_pairing", int(pairings.couples.max(initial=0)))
    n = len(pairings.names)
    return (f"{stem}: {n} pairing{'s' if n != 1 else ''} x {couples:,} couples per pairing, "
            f"{days} days{model_and_seed(ds)}")


def model_and_seed(ds):
    """", model M, seed S" for a caption, each part only where the file records it."""
    text = ""
    model = attr_text(ds, "model")
    if model:
        text += f", model {model}"
    seed = attr_int(ds, "seed", None)
    if seed is not None:
        text += f", seed {seed}"
    return text


def incomplete_note(ds, days_done):
    status = attr_text(ds, "status", "unknown")
    if status == "complete":
        return ""
    days = attr_int(ds, "days", ds.sizes.get("day", 0))
    return (f"INCOMPLETE FILE (status {status}): only the {days_done} of {days} days done are "
            "plotted")


def header(fig, heading, run, caption, note, width_chars=150):
    """Title block at the top of the figure; returns its height in inches.

    heading (bold) and the run description on the first line, the caption-like subtitle
    wrapped below it, and for an incomplete file a red line saying so.
    """
    import textwrap

    height = fig.get_figheight()
    y = height - 0.12  # inches from the bottom
    fig.text(0.012, y / height, heading, fontsize=12.5, fontweight="bold", ha="left", va="top")
    y -= 0.27
    fig.text(0.012, y / height, run, fontsize=10, ha="left", va="top")
    y -= 0.24
    for line in textwrap.wrap(caption, width_chars):
        fig.text(0.012, y / height, line, fontsize=8.8, color="#444444", ha="left", va="top")
        y -= 0.19
    if note:
        fig.text(0.012, y / height, note, fontsize=9.5, color="#c00000", fontweight="bold",
                 ha="left", va="top")
        y -= 0.22
    return height - y


GROUP_LABELS = {1: "one partner secure", 2: "no secure partner"}


def add_legend(ax, pairings, labels=None):
    """Legend outside the axes, grouped: secure-secure, then secure-X, then the pairings without a secure partner.

    labels: optional text per pairing index in place of its name."""
    labels = labels or {}
    handles, last = [], None
    for p in pairings.order:
        group = pairings.group[p]
        if group != last and group in GROUP_LABELS and last is not None:
            handles.append(Line2D([], [], color="none", label=GROUP_LABELS[group]))
        last = group
        handles.append(Line2D([], [], color=pairings.colour[p], lw=pairings.width[p],
                              ls=pairings.dash[p], label=labels.get(p, pairings.names[p])))
    legend = ax.legend(handles=handles, title="pairing (partner a-b)", loc="upper left",
                       bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize=9, title_fontsize=9.5,
                       handlelength=2.8)
    legend._legend_box.align = "left"
    for text in legend.get_texts():
        if text.get_text() in GROUP_LABELS.values():
            text.set_fontstyle("italic")
            text.set_color("#555555")
            text.set_fontsize(8.5)
        elif (text.get_text() == labels.get(pairings.order[0], pairings.names[pairings.order[0]])
              and pairings.group[pairings.order[0]] == 0):
            text.set_fontweight("bold")


def label_of(ds, name):
    """The axis label of variable `name`: its long_name and unit (dyad_palette.axis_label)."""
    return dyad_palette.axis_label(ds[name].attrs, name)


def plot_daily(ds, pairings, metric, heading, run, caption, path, days_done, note):
    mean, low, high = daily_band(ds, metric, pairings, days_done)
    day = np.asarray(ds["day"].values)[:days_done] if "day" in ds.variables else np.arange(days_done)
    width, height = 10.5, 6.0
    fig = plt.figure(figsize=(width, height))
    top = header(fig, heading, run, caption, note)
    ax = fig.add_axes([0.8 / width, 0.6 / height, 1 - 3.2 / width,
                       1 - (top + 0.25 + 0.6) / height])
    # Draw the most insecure first so that secure-secure ends up on top.
    for p in reversed(pairings.order):
        colour = pairings.colour[p]
        ax.fill_between(day, low[:, p], high[:, p], color=colour, alpha=0.2, lw=0,
                        zorder=2 if pairings.group[p] else 4)
        ax.plot(day, mean[:, p], color=colour, lw=pairings.width[p], ls=pairings.dash[p],
                zorder=3 if pairings.group[p] else 5)
    ax.set_xlabel("day")
    ax.set_ylabel(label_of(ds, f"{metric}_mean"))
    if len(day):
        ax.set_xlim(day[0], day[-1] if len(day) > 1 else day[0] + 1)
    ax.grid(True, color="#dddddd", lw=0.6)
    ax.set_axisbelow(True)
    add_legend(ax, pairings)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def plot_conflicts(ds, pairings, path, heading, run, caption, note):
    values = np.asarray(ds["run_conflicts_per_week"].values, dtype=float)
    order = pairings.order
    data = []
    for p in order:
        v = values[pairings.index == p]
        data.append(v[np.isfinite(v)])
    width = 10.5
    plot_height = 0.45 * len(order) + 0.5
    fig = plt.figure(figsize=(width, 1))  # height set once the header is known
    top = header(fig, heading, run, caption, note)
    height = top + 0.25 + plot_height + 0.65
    fig.set_figheight(height)
    fig.clear()
    header(fig, heading, run, caption, note)
    ax = fig.add_axes([1.75 / width, 0.65 / height, 1 - 3.35 / width, plot_height / height])
    positions = np.arange(len(order))[::-1]  # secure-secure at the top
    nonempty = [i for i, d in enumerate(data) if len(d)]
    if nonempty:
        box = ax.boxplot([data[i] for i in nonempty], positions=positions[nonempty], vert=False,
                         widths=0.62, patch_artist=True, whis=(2.5, 97.5),
                         showfliers=True, manage_ticks=False,
                         flierprops=dict(marker=".", markersize=2.5, alpha=0.35, markeredgewidth=0),
                         medianprops=dict(color="white", lw=1.8),
                         whiskerprops=dict(lw=1.1), capprops=dict(lw=1.1))
        for k, i in enumerate(nonempty):
            p = order[i]
            colour = pairings.colour[p]
            box["boxes"][k].set(facecolor=colour, edgecolor=colour, alpha=0.85)
            for part in ("whiskers", "caps"):
                for line in box[part][2 * k:2 * k + 2]:
                    line.set_color(colour)
            box["fliers"][k].set(markerfacecolor=colour, markeredgecolor=colour)
    means = [np.mean(d) if len(d) else np.nan for d in data]
    ax.scatter(means, positions, marker="D", s=36, color="white", edgecolor="black", zorder=5,
               linewidths=1.2)
    # Means as numbers at the right edge, where they collide with nothing.
    ax.annotate("mean (n)", xy=(1.015, len(order) - 0.45), xycoords=("axes fraction", "data"),
                va="bottom", ha="left", fontsize=9, fontweight="bold")
    finite = [abs(m) for m in means if np.isfinite(m)]
    decimals = 2 if not finite or max(finite) < 10 else 1 if max(finite) < 100 else 0
    for pos, m, d in zip(positions, means, data):
        label = f"{m:.{decimals}f}" if np.isfinite(m) else "no data"
        ax.annotate(f"{label}  ({len(d):,})", xy=(1.015, pos), xycoords=("axes fraction", "data"),
                    va="center", ha="left", fontsize=9)
    ax.set_yticks(positions)
    ax.set_yticklabels([pairings.names[p] for p in order])
    for tick, p in zip(ax.get_yticklabels(), order):
        tick.set_color(dyad_palette.text_colour(pairings.colour[p]))
        if pairings.group[p] == 0:
            tick.set_fontweight("bold")
    # Thin separators between the groups.
    for i in range(1, len(order)):
        if pairings.group[order[i]] != pairings.group[order[i - 1]]:
            ax.axhline(positions[i] + 0.5, color="#999999", lw=0.8, ls=":")
    ax.set_ylim(-0.7, len(order) - 0.3)
    scale_note = choose_scale(ax, data)
    ax.set_xlabel(label_of(ds, "run_conflicts_per_week") + ", one value per couple" + scale_note)
    ax.grid(True, axis="x", color="#dddddd", lw=0.6, which="major")
    ax.set_axisbelow(True)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)



def plain_log_ticks(ax):
    """1, 2, 5, 10, 20 ... on a log axis: a reader should not have to decode 10^1."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    ticks = [m * 10.0 ** e for e in range(-3, 5) for m in (1, 2, 5)]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_locator(NullLocator())

def choose_scale(ax, data):
    """Log-like axis when the pairings' typical values differ by orders of magnitude."""
    pooled = np.concatenate([d for d in data if len(d)]) if any(len(d) for d in data) else np.array([])
    if pooled.size == 0:
        return ""
    medians = np.array([np.median(d) for d in data if len(d)])
    highs = np.array([np.percentile(d, 97.5) for d in data if len(d)])
    positive = highs[highs > 0]
    spread = positive.max() / positive.min() if positive.size else 1.0
    med_pos = medians[medians > 0]
    med_spread = med_pos.max() / med_pos.min() if med_pos.size else 1.0
    if max(spread, med_spread) < 20:
        ax.set_xlim(left=0 if pooled.min() >= 0 else None)
        return ""
    if pooled.min() > 0:
        ax.set_xscale("log")
        plain_log_ticks(ax)
        return ", log scale"
    small = pooled[pooled > 0]
    linthresh = 10 ** math.floor(math.log10(np.percentile(small, 5))) if small.size else 1.0
    ax.set_xscale("symlog", linthresh=linthresh, linscale=0.5)
    plain_log_ticks(ax)
    ax.set_xlim(left=0 if pooled.min() >= 0 else None)
    return f", symmetric log scale (linear below {linthresh:g})"


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Plot a Dyad output file: daily tension and turn-toward rate per pairing "
                    "with 95%% CI bands, and conflicts per week per pairing.")
    parser.add_argument("file", type=Path, help="a Dyad output file (.h5)")
    parser.add_argument("--outdir", type=Path, help="where to write the PNGs (default: beside FILE)")
    args = parser.parse_args(argv)

    try:
        ds = open_dyad(args.file)
    except NotDyad as e:
        fail(str(e))
    with ds:
        outdir = args.outdir if args.outdir is not None else args.file.resolve().parent
        if not outdir.is_dir():
            fail(f"--outdir {outdir}: no such directory")
        name = args.file.name
        if name.endswith(".partial"):
            name = name[: -len(".partial")]
        stem = Path(name).stem

        pairings = Pairings(ds)
        n_day = ds.sizes.get("day", 0)
        status = attr_text(ds, "status", "unknown")
        days_done = attr_int(ds, "days_completed", n_day) if status != "complete" else n_day
        days_done = max(0, min(days_done, n_day))
        note = incomplete_note(ds, days_done)
        run = describe_run(ds, pairings, stem)

        paths = []
        band = ("Line: mean over the couples of a pairing on each day. Band: 95% confidence "
                "interval of that mean, mean ± t(0.975, n-1)·sd/√n")
        path = outdir / f"{stem}_tension.png"
        plot_daily(ds, pairings, "tension",
                   "Couple tension by attachment pairing", run,
                   band + ", n = couples of the pairing.", path, days_done, note)
        paths.append(path)

        path = outdir / f"{stem}_turn_toward.png"
        plot_daily(ds, pairings, "turn_toward_rate",
                   "Bids for connection turned toward, by attachment pairing", run,
                   band + ", n = couples of the pairing that made a connection bid that day.",
                   path, days_done, note)
        paths.append(path)

        path = outdir / f"{stem}_conflicts_per_week.png"
        over = f"the {days_done} days done" if note else "the run"
        plot_conflicts(ds, pairings, path, "Conflicts per week by attachment pairing", run,
                       f"One value per couple: conflicts started over {over}, per 7 days. "
                       "Box: quartiles; white line: median; whiskers: 2.5th-97.5th percentile; "
                       "dots: couples beyond; ◆: mean.", note)
        paths.append(path)
    for p in paths:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
