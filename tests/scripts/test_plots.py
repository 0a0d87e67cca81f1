#!/usr/bin/python3
"""Every scripts/plot_*.py on small files: it runs, a pairing looks the same in every
figure, and axes are labelled from the file's long_name and units.

    /usr/bin/python3 tests/scripts/test_plots.py build/dyad

Fixtures (seconds): a run of four pairings, a sweep whose pairings are a different set
in a different order (so that a colour assigned by position or by group, as before
scripts/dyad_palette.py, would differ between the two), a gottman run (phase plane) and
a two-key sobol sweep. Each script is run once as a user runs it (a subprocess, exit 0, a
PNG), then its main() is called in this process with Figure.savefig recorded, and the
colours and dashes are read back from the matplotlib figures: the legend handles (and the
conflicts boxes, the sensitivity panel titles) against dyad_palette and against the
other scripts' figures. For the labels the fixture files' long_name attributes are
replaced by sentinels, so that a label typed into a script cannot pass.
Prints one line per check and `N passed, M failed` last.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

SCRIPTS = common.REPO / "scripts"
sys.path.insert(0, str(SCRIPTS))
import dyad_palette  # noqa: E402
import plot_dynamics  # noqa: E402
import plot_pairings  # noqa: E402
import plot_sensitivity  # noqa: E402
import plot_survival  # noqa: E402
import plot_sweep  # noqa: E402

import h5py  # noqa: E402
import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.figure  # noqa: E402
import numpy as np  # noqa: E402

T = common.Runner("plots")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# fearful-fearful is the second pairing without a secure partner in the run and the
# first in the sweep: a colour by position in the group would differ.
RUN_PAIRINGS = "secure-secure, secure-anxious, anxious-avoidant, fearful-fearful"
SWEEP_PAIRINGS = "fearful-fearful, secure-anxious, secure-secure"
SENTINEL = "sentinel quantity from long_name"


def write_config(tmp, name, text):
    return common.write(tmp / f"{name}.ini", text)


def make_files(exe, tmp):
    files = {}
    specs = {
        "run": common.small_config(tmp / "run.h5", days=20, couples=30, record="summary",
                                   pairings=RUN_PAIRINGS),
        "sweep": common.small_config(tmp / "sweep.h5", days=15, couples=20, record="summary",
                                     pairings=SWEEP_PAIRINGS,
                                     extra="[sweep]\nmodel.work_load_b = 0.1, 0.4, 0.7\n"),
        "gottman": common.small_config(tmp / "gottman.h5", days=10, couples=20, record="summary",
                                       pairings="fearful-fearful, secure-secure",
                                       extra="").replace("[run]\n", "[run]\nmodel = gottman\n"),
        "sobol": common.small_config(tmp / "sobol.h5", days=10, couples=5, record="summary",
                                     pairings="anxious-avoidant, secure-secure",
                                     extra="[sweep]\nmode = sobol\nsamples = 8\n"
                                           "model.p_disagree = 0.2:0.6\nmodel.beta = 2:6\n"
                                           "dummy.noise = 0:1\n"),
    }
    for name, text in specs.items():
        cfg = write_config(tmp, name, text)
        proc = common.run([exe, "run", cfg, "-q", "--threads", "2"], timeout=300)
        if T.check(f"fixture {name}: dyad run", proc.returncode == 0, common.describe(proc)):
            files[name] = tmp / f"{name}.h5"
    return files


def set_long_name(path, variable, text):
    with h5py.File(path, "r+") as f:
        f[variable].attrs["long_name"] = np.bytes_(text)


# --- running the scripts -------------------------------------------------------------

def runs_as_a_user(script, args):
    proc = common.run([common.PYTHON, SCRIPTS / script, *map(str, args)], timeout=300)
    pngs = [Path(line) for line in proc.stdout.split() if line.endswith(".png")]
    T.check(f"{script} {' '.join(Path(str(a)).name for a in args)}: exit 0, prints the PNGs it wrote",
            proc.returncode == 0 and pngs and all(p.read_bytes()[:8] == PNG_MAGIC for p in pngs),
            common.describe(proc))


class Recorder:
    """Figure.savefig recorded: the figures a script's main() saves, by file name."""

    def __init__(self):
        self.figures = {}
        self._original = matplotlib.figure.Figure.savefig

    def __enter__(self):
        recorder = self

        def savefig(fig, path, *args, **kwargs):
            recorder.figures[Path(str(path)).name] = fig
            return recorder._original(fig, path, *args, **kwargs)

        matplotlib.figure.Figure.savefig = savefig
        return self

    def __exit__(self, *exc):
        matplotlib.figure.Figure.savefig = self._original


def figures_of(main, args):
    with Recorder() as r:
        try:
            main([str(a) for a in args])
        except SystemExit as e:
            if e.code not in (0, None):
                raise
    return r.figures


# --- reading the figures back --------------------------------------------------------

def legend_looks(fig):
    """{pairing name: (rgba, dash)} from every legend of the figure (a label's first line
    is the name: plot_survival adds counts below it)."""
    looks = {}
    legends = [ax.get_legend() for ax in fig.axes] + list(fig.legends)
    for legend in legends:
        if legend is None:
            continue
        handles = getattr(legend, "legend_handles", None) or legend.legendHandles
        for handle, text in zip(handles, legend.get_texts()):
            name = text.get_text().split("\n")[0]
            if "-" not in name or not hasattr(handle, "get_linestyle"):
                continue
            looks[name] = (mcolors.to_rgba(handle.get_color()), dash_of(handle))
    return looks


def dash_of(line):
    """The dash pattern as drawn (offset, on-off sequence), comparable across figures
    whatever line width scales it."""
    offset, seq = line._unscaled_dash_pattern
    return (offset, tuple(seq) if seq else None)


def palette_look(name):
    from matplotlib.lines import Line2D

    style = dyad_palette.pairing_style(name)
    line = Line2D([], [], color=style["color"], ls=style["ls"], lw=style["lw"])
    return mcolors.to_rgba(style["color"]), dash_of(line)


def plotted_colours(ax):
    return {mcolors.to_rgba(line.get_color()) for line in ax.get_lines()
            if line.get_linestyle() not in ("None", "") and len(line.get_xdata()) > 1}


def check_palette():
    names = [f"{a}-{b}" for i, a in enumerate(("secure", "anxious", "avoidant", "fearful"))
             for b in ("secure", "anxious", "avoidant", "fearful")[i:]]
    looks = {n: (dyad_palette.pairing_style(n)["color"], str(dyad_palette.pairing_style(n)["ls"]))
             for n in names}
    T.check("palette: the ten standard pairings have ten different colours",
            len({c for c, _ in looks.values()}) == 10, looks)
    probes = [dyad_palette.pairing_style(f"{s}-probe")["color"]
              for s in ("secure", "anxious", "avoidant", "fearful")]
    T.check("palette: the four styles against one custom style differ in colour",
            len(set(probes)) == 4, probes)
    swapped = dyad_palette.pairing_style("anxious-secure")
    T.check("palette: anxious-secure has secure-anxious's colour and another dash",
            swapped["color"] == looks["secure-anxious"][0] and str(swapped["ls"]) != looks["secure-anxious"][1],
            swapped)
    units = {u: dyad_palette.unit_text(u) for u in ("1", "", "week-1", "day", "day-1")}
    T.check("palette: units as a reader writes them (1: none, week-1: per week, day: days)",
            units == {"1": "", "": "", "week-1": "per week", "day": "days", "day-1": "per day"}, units)


def check_consistency(files, tmp):
    figs = {}
    run, sweep = files.get("run"), files.get("sweep")
    if run:
        figs.update(figures_of(plot_pairings.main, [run, "--outdir", tmp]))
        figs.update(figures_of(plot_survival.main, [run, "-o", tmp / "run_survival.png"]))
        figs.update(figures_of(plot_dynamics.main, [run, "--outdir", tmp]))
    if sweep:
        figs.update(figures_of(plot_sweep.main, [sweep, "conflicts_per_week", "--outdir", tmp]))
    if files.get("gottman"):
        figs.update(figures_of(plot_dynamics.main, [files["gottman"], "--outdir", tmp]))
    expected = ["run_tension.png", "run_turn_toward.png", "run_survival.png", "run_daily.png",
                "sweep_sweep_conflicts_per_week.png", "gottman_daily.png", "gottman_phase.png"]
    missing = [e for e in expected if e not in figs]
    T.check("the scripts' main() saved every expected figure", not missing, f"missing {missing}; got {sorted(figs)}")

    seen = {}  # pairing -> {figure: look}
    for fig_name in expected:
        if fig_name not in figs:
            continue
        looks = legend_looks(figs[fig_name])
        T.check(f"{fig_name}: a legend entry per pairing", len(looks) >= 2, looks)
        for name, look in looks.items():
            seen.setdefault(name, {})[fig_name] = look
    for name in ("secure-secure", "fearful-fearful"):
        per_figure = seen.get(name, {})
        want = palette_look(name)
        T.check(f"{name}: one colour and dash in every figure that shows it "
                f"({len(per_figure)} figures, two pairing sets)",
                len(per_figure) >= 5 and len(set(per_figure.values())) == 1, per_figure)
        T.check(f"{name}: that look is dyad_palette's",
                len(per_figure) >= 5 and all(v == want for v in per_figure.values()),
                f"palette {want}; figures {per_figure}")
    # The legend must tell the truth about the lines: the daily plot draws in its colours.
    if "run_tension.png" in figs:
        ax = figs["run_tension.png"].axes[0]
        drawn = plotted_colours(ax)
        legend = {look[0] for look in legend_looks(figs["run_tension.png"]).values()}
        T.check("run_tension.png: the lines are drawn in the legend's colours, one per pairing",
                drawn == legend and len(drawn) == 4, f"lines {drawn}, legend {legend}")
    if "run_conflicts_per_week.png" in figs:
        ax = figs["run_conflicts_per_week.png"].axes[0]
        boxes = [p for p in ax.patches if hasattr(p, "get_facecolor")]
        names = [t.get_text() for t in ax.get_yticklabels()]
        faces = [mcolors.to_rgb(b.get_facecolor()) for b in boxes]
        want = [mcolors.to_rgb(dyad_palette.pairing_style(n)["color"]) for n in names[::-1]]
        # boxplot positions run bottom-up, the tick labels top-down
        T.check("run_conflicts_per_week.png: each box in its pairing's colour",
                len(faces) == 4 and sorted(faces) == sorted(want)
                and faces[0] == mcolors.to_rgb(dyad_palette.pairing_style(names[0])["color"]),
                f"boxes {faces}, ticks {names}")


def check_sensitivity(exe, files, tmp):
    sobol = files.get("sobol")
    if not sobol:
        return
    runs_as_a_user("plot_sensitivity.py", [sobol, "conflicts_per_week", "-o", tmp / "s.png",
                                           "--bootstrap", "50", "--dyad", exe])
    figs = figures_of(plot_sensitivity.main, [sobol, "conflicts_per_week", "-o", tmp / "s2.png",
                                              "--bootstrap", "50", "--dyad", exe])
    fig = figs.get("s2.png")
    if not T.check("plot_sensitivity main() saved its figure", fig is not None, sorted(figs)):
        return
    titles = {ax.get_title(loc="left"): mcolors.to_rgb(ax._left_title.get_color())
              for ax in fig.axes}
    want = {n: mcolors.to_rgb(dyad_palette.text_colour(dyad_palette.pairing_style(n)["color"]))
            for n in ("secure-secure", "anxious-avoidant")}
    T.check("plot_sensitivity: each pairing's panel title in its pairing's colour",
            all(titles.get(n) == c for n, c in want.items()) and want["secure-secure"] != want["anxious-avoidant"],
            f"titles {titles}, want {want}")
    set_long_name(sobol, "run_conflicts_per_week", SENTINEL)
    figs = figures_of(plot_sensitivity.main, [sobol, "conflicts_per_week", "-o", tmp / "s3.png",
                                              "--bootstrap", "20", "--dyad", exe])
    texts = " ".join(t.get_text() for t in figs["s3.png"].texts)
    T.check("plot_sensitivity: the heading names the metric by its long_name and unit",
            SENTINEL in texts and "(per week)" in texts and "week-1" not in texts, texts[:400])


def check_labels(files, tmp):
    run, sweep, gottman = files.get("run"), files.get("sweep"), files.get("gottman")
    if sweep:
        set_long_name(sweep, "run_conflicts_per_week", SENTINEL)
        fig = figures_of(plot_sweep.main, [sweep, "run_conflicts_per_week", "--outdir", tmp])[
            "sweep_sweep_conflicts_per_week.png"]
        ylabel = fig.axes[0].get_ylabel().replace("\n", " ")
        heading = fig.texts[0].get_text()
        T.check("plot_sweep: y axis = long_name and the unit week-1 as 'per week'",
                ylabel == f"{SENTINEL} (per week)", repr(ylabel))
        T.check("plot_sweep: the heading from long_name, not run_conflicts_per_week",
                heading.lower().startswith(SENTINEL) and "run_" not in heading, repr(heading))
    if run:
        set_long_name(run, "tension_mean", SENTINEL + ": mean over the couples of the pairing")
        set_long_name(run, "run_conflicts_per_week", SENTINEL + " two")
        figs = figures_of(plot_pairings.main, [run, "--outdir", tmp])
        ylabel = figs["run_tension.png"].axes[0].get_ylabel()
        T.check("plot_pairings: the daily y axis is the long_name (per-pairing suffix off, unit 1 "
                "not shown)", ylabel == SENTINEL, repr(ylabel))
        xlabel = figs["run_conflicts_per_week.png"].axes[0].get_xlabel()
        T.check("plot_pairings: the conflicts axis from long_name and unit",
                xlabel.startswith(f"{SENTINEL} two (per week)"), repr(xlabel))
        set_long_name(run, "distress_a_mean", SENTINEL + " three: mean over the couples")
        fig = figures_of(plot_dynamics.main, [run, "--outdir", tmp])["run_daily.png"]
        titles = [ax.get_title(loc="left").replace("\n", " ") for ax in fig.axes]
        T.check("plot_dynamics: panel titles from long_name, no raw variable names",
                any(t.lower() == SENTINEL + " three" for t in titles)
                and not any(t.startswith(("distress_a", "tension:")) for t in titles), titles[:8])
    if gottman:
        set_long_name(gottman, "affect_a_mean", SENTINEL + " four: mean over the couples")
        fig = figures_of(plot_dynamics.main, [gottman, "--outdir", tmp])["gottman_phase.png"]
        xlabel = fig.axes[0].get_xlabel()
        T.check("plot_dynamics phase plane: x axis from affect_a's long_name",
                xlabel.lower() == SENTINEL + " four", repr(xlabel))


def main():
    exe = common.exe_from_argv("test_plots")
    T.guard("palette", check_palette)
    with common.temp_dir("dyad_plots_") as d:
        tmp = Path(d)
        files = make_files(exe, tmp)
        if files.get("run"):
            runs_as_a_user("plot_pairings.py", [files["run"], "--outdir", tmp])
            runs_as_a_user("plot_survival.py", [files["run"], "-o", tmp / "surv.png"])
            runs_as_a_user("plot_dynamics.py", [files["run"], "--outdir", tmp])
        if files.get("sweep"):
            runs_as_a_user("plot_sweep.py", [files["sweep"], "distress_a", "--outdir", tmp])
        if files.get("gottman"):
            runs_as_a_user("plot_dynamics.py", [files["gottman"], "--outdir", tmp])
        T.guard("colours across scripts", check_consistency, files, tmp)
        T.guard("sensitivity", check_sensitivity, exe, files, tmp)
        T.guard("labels from long_name", check_labels, files, tmp)
    T.finish()


if __name__ == "__main__":
    main()
