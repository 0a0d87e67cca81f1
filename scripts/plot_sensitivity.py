#!/usr/bin/python3
"""Plots the sensitivity indices of a Dyad sobol or morris sweep (README "Which parameters
matter: Sobol and Morris", docs/output.md "Sensitivity designs").

    /usr/bin/python3 scripts/plot_sensitivity.py FILE.h5 METRIC [-o OUT.png]
                     [--bootstrap B] [--seed S] [--dyad PATH]

METRIC is a run summary, with or without its run_ prefix (conflicts_per_week,
satisfaction_a, ...). The indices are those of `dyad sensitivity FILE --metric METRIC
--format json --bootstrap B --seed S`, so the figure shows exactly what the command prints;
the executable is --dyad PATH, else build/dyad of the repository this script is in, else
`dyad` on PATH. Writes OUT.png (default <stem>_sensitivity_<METRIC>.png beside FILE) and
prints its path.

One panel per pairing, one row per swept key, the keys sorted by ST (mu* for Morris),
largest at the top, named as the config writes them (model.thT):

  sobol   S1 (first order, circle) and ST (total, square), each with its 95% percentile
          bootstrap interval as an error bar
  morris  mu* (mean absolute elementary effect, circle) with its 95% interval, and sigma
          (standard deviation of the effects, open diamond); both in units of METRIC per
          the key's whole range

When the design has a dummy key (dummy.NAME, read by no model) its upper 95% bound of ST
(mu*) is the noise floor, drawn as a grey band; a key whose interval reaches into the band
cannot be told from noise and is written in grey, as `dyad sensitivity` marks it "within
noise". The caption names the model, the run's seed, N (or r), the couples and days, and
the estimators and bootstrap as `dyad sensitivity` reports them.

Exit status 2 for a file that is not a Dyad sobol or morris sweep, an unfinished one, an
unknown METRIC, or no dyad executable.

Needs Debian's /usr/bin/python3 (numpy, matplotlib, h5py).
"""
import argparse
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import plot_pairings as pp  # noqa: E402  (also selects the Agg backend)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
S1_COLOUR = "#1f5fbf"
ST_COLOUR = "#c2410c"
SIGMA_COLOUR = "#555555"
NOISE_COLOUR = "#d9d9d9"
FADED = "#9a9a9a"
ROW_H = 0.34       # inches per key in a panel
LABEL_W = 1.75     # inches left of a panel for the key names
PANEL_W = 3.7      # inches of a panel's plotting area, at least
GAP = 0.35         # inches between panels side by side
RIGHT = 0.35       # inches right of the last column
MIN_WIDTH = 10.0   # inches: room for the header's lines
SOBOL_MIN, SOBOL_MAX = -0.3, 1.1   # the widest frame of a Sobol panel


def fail(message):
    print(f"plot_sensitivity.py: error: {message}", file=sys.stderr)
    sys.exit(2)


# --- reading -------------------------------------------------------------------------

def text_of(value):
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray):
        return text_of(value.ravel()[0]) if value.size else ""
    return str(value)


def int_of(value):
    return int(np.asarray(value).ravel()[0])


def read_design(path):
    """The file's attributes a caption needs, or exit 2 if it is not a sobol/morris sweep."""
    import h5py  # here: not needed for --help

    if not path.exists():
        fail(f"{path}: no such file")
    if path.is_dir():
        fail(f"{path}: is a directory")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        fail(f"{path}: not an HDF5 file ({e})")
    with f:
        attrs = f.attrs
        if "dyad_schema_version" not in attrs:
            fail(f"{path}: not a Dyad output (no root attribute dyad_schema_version)")
        mode = text_of(attrs["sweep_mode"]) if "sweep_mode" in attrs else None
        if mode not in ("sobol", "morris"):
            what, other = ((f"a {mode} sweep", "scripts/plot_sweep.py") if mode else
                           ("a plain run", "scripts/plot_pairings.py"))
            fail(f"{path}: not a sobol or morris sweep ({what}); this plots the indices of a "
                 f"[sweep] with mode = sobol or mode = morris (plot this file with {other})")
        info = {
            "mode": mode,
            "keys": text_of(attrs.get("sweep_keys", "")).split(),
            "points": int_of(attrs["sweep_points"]) if "sweep_points" in attrs else None,
            "model": text_of(attrs["model"]) if "model" in attrs else "",
            "seed": int_of(attrs["seed"]) if "seed" in attrs else None,
            "days": int_of(attrs["days"]) if "days" in attrs else None,
            "couples": int_of(attrs["couples_per_pairing"]) if "couples_per_pairing" in attrs else None,
            "samples": int_of(attrs["sweep_samples"]) if "sweep_samples" in attrs else None,
            "trajectories": int_of(attrs["sweep_trajectories"]) if "sweep_trajectories" in attrs else None,
            "levels": int_of(attrs["sweep_levels"]) if "sweep_levels" in attrs else None,
            "status": text_of(attrs["status"]) if "status" in attrs else "",
            "label": "", "short": "",
        }
        if "pairing" in f:
            info["pairings"] = [text_of(p) for p in f["pairing"][()]]
        return info


def metric_label(path, metric):
    """The metric as a reader is told it: long_name and unit (dyad_palette.axis_label), and
    that without its parenthetical detail for the one-line heading."""
    import re

    import h5py

    with h5py.File(path, "r") as f:
        name = f"run_{metric}"
        attrs = dict(f[name].attrs) if name in f else {}
    label = pp.dyad_palette.axis_label(attrs, metric)
    return label, re.sub(r"\s*\([^)]*\)", "", label).strip()


def find_dyad(given):
    if given is not None:
        if not Path(given).is_file():
            fail(f"--dyad {given}: no such file")
        return str(given)
    built = REPO / "build" / "dyad"
    if built.is_file():
        return str(built)
    on_path = shutil.which("dyad")
    if on_path:
        return on_path
    fail(f"no dyad executable: none at {built} and none on PATH; build it (scripts/setup.sh) "
         "or name it with --dyad PATH")
    return None


def indices(dyad, path, metric, bootstrap, seed):
    """`dyad sensitivity --format json`: (method text, rows as dicts)."""
    cmd = [dyad, "sensitivity", str(path), "--metric", metric, "--format", "json",
           "--bootstrap", str(bootstrap), "--seed", str(seed)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as e:
        fail(f"cannot run {dyad}: {e}")
    if proc.returncode != 0:
        message = proc.stderr.strip() or proc.stdout.strip() or f"exit status {proc.returncode}"
        message = message.removeprefix("dyad: ").removeprefix("error: ")
        fail(f"dyad sensitivity: {message}")
    # The command writes the file name into the JSON unescaped; the rest is plain. Parse
    # from "method" on, so that a path with a quote or backslash cannot break it.
    text = proc.stdout
    at = text.find('"method"')
    try:
        doc = json.loads("{" + text[at:]) if at >= 0 else json.loads(text)
    except json.JSONDecodeError as e:
        fail(f"dyad sensitivity --format json gave no JSON ({e}): {text[:300]}")
    return doc["method"], doc["indices"]


def value(row, name):
    v = row.get(name)
    return np.nan if v is None else float(v)


# --- figure --------------------------------------------------------------------------

def is_dummy(key):
    return key.startswith("dummy.")


def panel_data(rows, mode):
    """Per pairing: rows sorted by ST (mu*) descending, and the noise floor (or NaN)."""
    main = "ST" if mode == "sobol" else "mu_star"
    by_pairing = {}
    for r in rows:
        by_pairing.setdefault(r["pairing"], []).append(r)
    out = []
    for pairing, rs in by_pairing.items():
        highs = [value(r, f"{main}_high") for r in rs if is_dummy(r["key"])]
        floor = max(highs) if highs else np.nan
        # NaN (an undefined index) sorts last.
        rs = sorted(rs, key=lambda r: (-value(r, main) if math.isfinite(value(r, main)) else math.inf))
        out.append((pairing, rs, floor))
    return out


def within_noise(r, floor, mode):
    if "within_noise" in r:
        return bool(r["within_noise"])
    low = value(r, "ST_low" if mode == "sobol" else "mu_star_low")
    return math.isfinite(floor) and not is_dummy(r["key"]) and low <= floor


def x_extent(panels, mode):
    names = (["S1", "S1_low", "S1_high", "ST", "ST_low", "ST_high"] if mode == "sobol"
             else ["mu_star", "mu_star_low", "mu_star_high", "sigma"])
    vals = np.array([value(r, n) for _, rs, _ in panels for r in rs for n in names]
                    + [f for _, _, f in panels], dtype=float)
    vals = vals[np.isfinite(vals)]
    if vals.size == 0:
        return 0.0, 1.0
    lo, hi = min(0.0, vals.min()), max(vals.max(), 0.0)
    if mode == "sobol":
        # Indices are shares of a variance: the frame shows [SOBOL_MIN, SOBOL_MAX] at most,
        # whatever a small design's estimates do (Saltelli's S1 is not bounded).
        lo, hi = max(lo, SOBOL_MIN), min(max(hi, 0.1), SOBOL_MAX)
    span = hi - lo if hi > lo else 1.0
    return lo - 0.03 * span, hi + 0.05 * span


def beyond(panels, mode, xlim):
    """Whether any index or interval end lies outside the frame."""
    names = (["S1", "S1_low", "S1_high", "ST", "ST_low", "ST_high"] if mode == "sobol"
             else ["mu_star", "mu_star_low", "mu_star_high", "sigma"])
    vals = np.array([value(r, n) for _, rs, _ in panels for r in rs for n in names], dtype=float)
    vals = vals[np.isfinite(vals)]
    return bool(np.any((vals < xlim[0]) | (vals > xlim[1])))


def draw_panel(ax, pairing, rows, floor, mode, xlim, xlabel, show_xlabel):
    n = len(rows)
    y = np.arange(n)[::-1].astype(float)          # the largest at the top
    ax.set_xlim(*xlim)
    ax.set_ylim(-0.6, n - 0.4)
    if math.isfinite(floor):
        ax.axvspan(xlim[0], floor, color=NOISE_COLOUR, alpha=0.75, lw=0, zorder=0)
        ax.axvline(floor, color="#7a7a7a", lw=0.9, ls=(0, (4, 2)), zorder=1)
    ax.axvline(0, color="#444444", lw=0.8, zorder=1)
    for yy in y:
        ax.axhline(yy, color="#eeeeee", lw=0.6, zorder=0.5)
    faded = [within_noise(r, floor, mode) or is_dummy(r["key"]) for r in rows]

    def bars(name, offset, colour, marker, label, filled=True):
        v = np.array([value(r, name) for r in rows])
        lo = np.array([value(r, f"{name}_low") for r in rows])
        hi = np.array([value(r, f"{name}_high") for r in rows])
        at = y + offset
        # Beyond the frame: clipped to its edge, ending in an arrowhead there.
        left, right = xlim
        vc, loc, hic = np.clip(v, left, right), np.clip(lo, left, right), np.clip(hi, left, right)
        err = np.vstack([np.clip(vc - loc, 0, None), np.clip(hic - vc, 0, None)])
        ax.errorbar(vc, at, xerr=err, fmt="none", ecolor=colour, elinewidth=1.4,
                    capsize=2.5, capthick=1.1, zorder=3)
        inside = (v >= left) & (v <= right)
        ax.scatter(vc[inside], at[inside], s=30, marker=marker, color=colour if filled else "white",
                   edgecolors=colour, linewidths=1.1, zorder=4, label=label)
        for ends, edge, head in ((np.minimum(lo, v), left, "<"), (np.maximum(hi, v), right, ">")):
            out = (ends < edge) if head == "<" else (ends > edge)
            if np.any(out):
                ax.scatter(np.full(int(out.sum()), edge), at[out], s=34, marker=head, color=colour,
                           zorder=5, clip_on=False)

    if mode == "sobol":
        bars("S1", 0.17, S1_COLOUR, "o", "S1")
        bars("ST", -0.17, ST_COLOUR, "s", "ST")
    else:
        bars("mu_star", 0.12, ST_COLOUR, "o", "mu*")
        sigma = np.array([value(r, "sigma") for r in rows])
        ax.scatter(sigma, y - 0.17, s=34, marker="D", color="white", edgecolors=SIGMA_COLOUR,
                   linewidths=1.1, zorder=4)
    ax.set_yticks(y)
    ax.set_yticklabels([r["key"] for r in rows], fontsize=9.5)
    for label, fade, r in zip(ax.get_yticklabels(), faded, rows):
        if fade:
            label.set_color(FADED)
        if is_dummy(r["key"]):
            label.set_fontstyle("italic")
    ax.tick_params(axis="y", length=0, pad=4)
    ax.tick_params(axis="x", labelsize=9)
    # In the pairing's colour of every other figure (dyad_palette), darkened for text.
    ax.set_title(pairing, fontsize=11, fontweight="bold", loc="left",
                 color=pp.dyad_palette.text_colour(pp.dyad_palette.pairing_style(pairing)["color"]))
    if show_xlabel:
        ax.set_xlabel(xlabel, fontsize=9.5)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def legend_handles(mode, has_floor):
    if mode == "sobol":
        h = [Line2D([], [], color=S1_COLOUR, marker="o", lw=1.4, ms=6,
                    label="S1, first order, 95% interval"),
             Line2D([], [], color=ST_COLOUR, marker="s", lw=1.4, ms=6,
                    label="ST, total, 95% interval")]
    else:
        h = [Line2D([], [], color=ST_COLOUR, marker="o", lw=1.4, ms=6,
                    label="μ*, mean |elementary effect|, 95% interval"),
             Line2D([], [], color=SIGMA_COLOUR, marker="D", lw=0, ms=6, mfc="white",
                    label="σ, sd of the elementary effects")]
    if has_floor:
        h.append(Patch(facecolor=NOISE_COLOUR, edgecolor="#7a7a7a", ls="--",
                       label="noise floor (dummy key's upper 95% bound)"))
    return h


def plural(n, word):
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def describe(info, name, n_pairings):
    k = len(info["keys"])
    if info["mode"] == "sobol":
        design = f"sobol design, N = {info['samples']} base rows x {k} keys"
    else:
        design = f"morris design, r = {info['trajectories']} trajectories x {k} keys, {info['levels']} levels"
    parts = [f"{name}: {design}"]
    if info["points"] is not None:
        parts[0] += f" = {info['points']:,} points"
    if info["couples"] is not None:
        parts.append(f"{plural(n_pairings, 'pairing')} x {plural(info['couples'], 'couple')}")
    if info["days"] is not None:
        parts.append(plural(info["days"], "day"))
    if info["model"]:
        parts.append(f"model {info['model']}")
    if info["seed"] is not None:
        parts.append(f"seed {info['seed']}")
    return ", ".join(parts)


def plot(info, metric, method, rows, out, name):
    mode = info["mode"]
    panels = panel_data(rows, mode)
    order = info.get("pairings") or [p for p, _, _ in panels]
    panels.sort(key=lambda t: order.index(t[0]) if t[0] in order else len(order))
    has_floor = any(math.isfinite(f) for _, _, f in panels)
    label, short = info["label"] or metric, info["short"] or metric
    if mode == "sobol":
        heading = f"Which parameters drive the {short}: Sobol indices"
        xlabel = "share of the variance of the pairing mean"
        what = ("S1: the share of the variance of the pairing mean of METRIC that the key explains "
                "alone; ST: alone and with the others (ST - S1: its interactions).")
    else:
        heading = f"Which parameters drive the {short}: Morris elementary effects"
        xlabel = f"change of the pairing mean of {label}\nper the key's whole range"
        what = ("mu*: the mean absolute change of the pairing mean of METRIC when the key moves by "
                "delta, per the key's whole range; sigma: the spread of those changes "
                "(non-linearity or interactions).")
    what = f"Metric: run_{metric}, {label}. " + what.replace("METRIC", "the metric")
    main = "ST" if mode == "sobol" else "mu*"
    floor_text = (f" Grey band: the noise floor, the upper 95% bound of the dummy key's {main} "
                  f"(a key no model reads); keys in grey: their {main} interval reaches into it, "
                  "so they cannot be told from noise." if has_floor else
                  " No dummy key in the design, so no noise floor is drawn.")
    xlim = x_extent(panels, mode)
    clipped = (" An arrowhead: the index or its interval goes on beyond the frame (a small "
               "design's estimates can leave [0, 1])." if beyond(panels, mode, xlim) else "")
    caption = (f"{what} Keys sorted by {main}, largest at the top."
               f"{floor_text}{clipped} Method: {method}.")
    run = describe(info, name, len(panels))

    n_keys = max(len(rs) for _, rs, _ in panels)
    cols = len(panels) if len(panels) <= 3 else 2 if len(panels) == 4 else 3
    grid_rows = math.ceil(len(panels) / cols)
    # At least MIN_WIDTH wide, for the header; the panels take what the key names leave.
    width = max(MIN_WIDTH, cols * (LABEL_W + PANEL_W) + (cols - 1) * GAP + RIGHT)
    panel_w = (width - RIGHT - cols * LABEL_W - (cols - 1) * GAP) / cols
    width_chars = int(width * 14.3)
    handles = legend_handles(mode, has_floor)
    legend_cols = len(handles) if width >= 9.5 else 2
    legend_h = 0.14 + 0.26 * math.ceil(len(handles) / legend_cols)
    title_h = 0.32      # the pairing above each panel
    plot_h = n_keys * ROW_H + 0.25
    xlabel_h = 0.55
    cell_h = title_h + plot_h + xlabel_h
    fig = plt.figure(figsize=(width, 1))
    top = pp.header(fig, heading, run, caption, "", width_chars=width_chars)
    fig.clear()
    height = top + grid_rows * cell_h + legend_h
    fig.set_size_inches(width, height)
    pp.header(fig, heading, run, caption, "", width_chars=width_chars)
    axes = []
    for i, (pairing, rs, floor) in enumerate(panels):
        r, c = divmod(i, cols)
        left = (c * (LABEL_W + panel_w + GAP) + LABEL_W) / width
        bottom = (height - top - (r + 1) * cell_h + xlabel_h) / height
        ax = fig.add_axes([left, bottom, panel_w / width, plot_h / height])
        last_row = i + cols >= len(panels)
        draw_panel(ax, pairing, rs, floor, mode, xlim, xlabel, last_row)
        if not last_row:
            ax.tick_params(axis="x", labelbottom=True)
        axes.append(ax)
    fig.legend(handles=handles, loc="lower center", ncol=legend_cols, frameon=False,
               fontsize=9.5, bbox_to_anchor=(0.5, 0.05 / height), handlelength=2.4,
               columnspacing=2.0)
    fig.savefig(out, dpi=pp.DPI)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Plot the Sobol (S1, ST) or Morris (mu*, sigma) indices of a Dyad "
                    "sobol or morris sweep, one panel per pairing, with 95%% intervals and "
                    "the noise floor of the dummy key.")
    parser.add_argument("file", type=Path, help="a Dyad sobol or morris sweep file (.h5)")
    parser.add_argument("metric", help="a run summary, e.g. conflicts_per_week or run_satisfaction_a")
    parser.add_argument("-o", "--output", type=Path,
                        help="the PNG to write (default: <stem>_sensitivity_<METRIC>.png beside FILE)")
    parser.add_argument("--bootstrap", type=int, default=1000, metavar="B",
                        help="bootstrap resamples for the intervals (default 1000)")
    parser.add_argument("--seed", type=int, default=1, metavar="S",
                        help="seed of the bootstrap (default 1)")
    parser.add_argument("--dyad", type=Path, metavar="PATH",
                        help="the dyad executable (default: build/dyad of this repository, else "
                             "dyad on PATH)")
    args = parser.parse_args(argv)
    if args.bootstrap < 1:
        fail(f"--bootstrap {args.bootstrap}: needs at least 1 resample")

    dyad = find_dyad(args.dyad)
    info = read_design(args.file)
    metric = args.metric.removeprefix("run_")
    method, rows = indices(dyad, args.file, metric, args.bootstrap, args.seed)
    if not rows:
        fail(f"dyad sensitivity gave no indices for {metric} in {args.file}")
    info["label"], info["short"] = metric_label(args.file, metric)
    name = args.file.name
    stem = Path(name.removesuffix(".partial")).stem
    out = args.output if args.output is not None else args.file.resolve().parent / f"{stem}_sensitivity_{metric}.png"
    if not out.parent.is_dir():
        fail(f"-o {out}: no such directory {out.parent}")
    plot(info, metric, method, rows, out, name)
    print(out)


if __name__ == "__main__":
    main()
