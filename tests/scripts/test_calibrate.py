#!/usr/bin/python3
"""scripts/calibrate.py's grid, through the real executable, at a size of seconds.

    /usr/bin/python3 tests/scripts/test_calibrate.py build/dyad

A 2 x 2 grid over resp_sd and sat_sd (10 couples per style pairing, 50 random, 50 of the
population): every combination is evaluated, printed best first, and logged; OUT.json
holds the point of least loss with its figures, and that loss is the sum of squared
misses `dyad targets` reports for the point when run directly; --start OUT.json then
continues from it. Bad --grid arguments are usage errors (exit 2) naming the argument.
Prints one line per check and `N passed, M failed` last.
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

T = common.Runner("calibrate")
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "calibrate.py"
SIZE = ("10", "50", "50")


def targets_loss(exe, values):
    cmd = [exe, "targets", "--format", "json", "--threads", "1", "--seed", "2026",
           "--couples", SIZE[0], "--random", SIZE[1], "--population", SIZE[2]]
    for key, value in sorted(values.items()):
        cmd += ["--set", f"model.{key}={value:.6g}"]
    proc = common.run(cmd)
    return sum(r["miss"] ** 2 for r in json.loads(proc.stdout))


def main():
    exe = common.exe_from_argv("test_calibrate")
    with common.temp_dir("dyad_calibrate_") as tmp:
        out = Path(tmp) / "grid"
        base = [common.PYTHON, SCRIPT, "--dyad", exe, "--size", ",".join(SIZE), "--jobs", "2", "--out", out]
        proc = common.run([*base, "--grid", "resp_sd=0.25,0.4", "--grid", "sat_sd=0.25,0.1"], timeout=300)
        if not T.check("a 2 x 2 grid exits 0", proc.returncode == 0, common.describe(proc)):
            return
        rows = [line for line in proc.stdout.splitlines() if line.startswith("  resp_sd=")]
        losses = [float(line.split("loss ")[1].split(",")[0]) for line in rows]
        T.check("every combination is printed once, best first",
                len(rows) == 4 and len({r.split(":")[0] for r in rows}) == 4 and losses == sorted(losses),
                proc.stdout)
        log = [json.loads(line) for line in open(f"{out}.jsonl")]
        T.check("every evaluation is logged", len(log) == 4, f"{len(log)} lines")
        best = json.load(open(f"{out}.json"))
        point = best["values"]
        T.check("OUT.json holds the point of least loss",
                abs(best["loss"] - min(e["loss"] for e in log)) < 1e-12 and point["resp_sd"] in (0.25, 0.4)
                and point["sat_sd"] in (0.25, 0.1), json.dumps(best)[:400])
        direct = targets_loss(exe, point)
        T.check("its loss is the sum of squared misses dyad targets reports for it",
                abs(direct - best["loss"]) < 1e-9, f"{direct} against {best['loss']}")
        T.check("its missed rows are those of the point", all(not r["holds"] for r in best["missed"]), "")
        proc = common.run([*base, "--start", f"{out}.json", "--grid", "alt_sd=0.2"], timeout=300)
        shown = {k: f"{v}" for k, v in point.items()}
        T.check("--start OUT.json starts from the grid's best",
                proc.returncode == 0 and all(f"'{k}': {v}" in proc.stdout for k, v in shown.items()),
                common.describe(proc))
        # A search of one key from OUT.json keeps the start's other keys, not the defaults
        # (it once dropped them: every evaluation ran the defaults but for alt_sd).
        logged = len(open(f"{out}.jsonl").readlines())
        proc = common.run([*base, "--start", f"{out}.json", "--only", "alt_sd", "--no-screen",
                           "--rounds", "1", "--minutes", "0.05"], timeout=300)
        searched = [json.loads(line)["values"] for line in open(f"{out}.jsonl").readlines()[logged:]]
        T.check("--only KEY searches KEY and keeps --start's values of the others",
                proc.returncode == 0
                and all(v["resp_sd"] == point["resp_sd"] and v["sat_sd"] == point["sat_sd"] for v in searched)
                and len({v["alt_sd"] for v in searched}) > 1,
                f"{common.describe(proc)}\n{searched}")
        for args, names in ((["--grid", "no_such_key=1"], ["no_such_key"]),
                            (["--grid", "resp_sd=high"], ["resp_sd=high", "numbers"])):
            proc = common.run([*base, *args])
            T.check(f"bad input {args[1]}: exit 2 naming it",
                    proc.returncode == 2 and all(n in proc.stderr for n in names) and "Traceback" not in proc.stderr,
                    common.describe(proc))


if __name__ == "__main__":
    T.guard("test_calibrate", main)
    T.finish()
