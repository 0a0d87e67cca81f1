#!/usr/bin/python3
"""Calibrate the attachment model's defaults against the validation targets.

The targets are those `dyad targets` measures (SCIENCE.md F1-F14 at 180 and 730 days,
F14 at 2,190); each row reports how far its figure lies outside its band, in band
widths (`miss`). The calibration minimises the sum of squared misses over the
parameters below, in two stages:

  screen   one parameter at a time, each moved down and up by a step from the start:
           which targets each parameter moves (the table printed), and so which
           parameters are worth searching; --screen-only stops here.
  search   a pattern search (Hooke and Jeeves 1961): for every parameter in turn, try
           the step down and up, keep whichever lowers the loss; when a sweep over all
           parameters improves nothing, halve the steps. Seeded runs, so the loss is
           deterministic and a step is kept only if it really helps at this seed.

A grid (--grid KEY=V1,V2,... for two or three keys) evaluates every combination and
stops: the one-at-a-time search cannot move two keys at once, which a target that needs
one lever up and another down asks for.

The search runs at a small size (the figures carry sampling noise); `--verify` runs the
result at the size of the validation suite and at a second seed. Every evaluation is
appended to OUT.jsonl, and the best point so far is written to OUT.json, so a stopped
calibration loses nothing and `--start OUT.json` continues it.

Run:  /usr/bin/python3 scripts/calibrate.py [--dyad build/dyad] [--out results/calibration]
"""
import argparse
import concurrent.futures as cf
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time

# (key, lowest, highest, first step): the version 2 levers and the version 1 values the
# targets showed to matter (docs/model.md "Calibration").
PARAMETERS = [
    ("p_disagree", 0.001, 0.03, 0.002),    # F3: everyday disagreements
    ("dis_x", 0.0, 4.0, 0.5),              # F11: disagreement rising with anxiety
    ("beta", 4.0, 30.0, 4.0),              # F11, F12: steepness of tension-driven onset
    ("thT", 0.4, 0.95, 0.05),
    ("a0", 0.0, 1.0, 0.1),                 # F2: conflict affect
    ("a1", 0.0, 1.0, 0.1),
    ("a_fear", 0.0, 1.5, 0.1),             # F2: fearful pos:neg (G1b)
    ("a2", 0.0, 1.0, 0.1),
    ("r_u", 0.0, 0.8, 0.1),
    ("inf_neg", 0.0, 0.9, 0.1),
    ("sigma_u", 0.05, 0.8, 0.05),
    ("k_against", 0.0, 0.4, 0.03),         # F10: tension from being turned against
    ("k_neg", 0.0, 0.2, 0.02),             # F10: escalation inside a conflict
    ("k_pos", 0.0, 0.2, 0.02),
    ("flex_floor", 0.0, 0.9, 0.1),         # F10: recovery of the least flexible
    ("mu", 0.0, 0.05, 0.002),
    ("nb_x", 0.0, 0.6, 0.05),
    ("night_T", 0.0, 1.0, 0.1),
    ("stonewall", 0.0, 0.6, 0.05),         # F4: walking out of a conflict
    ("leave_x", 0.0, 1.0, 0.1),
    ("dw_pursue", 0.0, 1.0, 0.1),
    ("leave_first", 0.0, 1.0, 0.25),       # F4, F2: walk-outs that cut a conflict short
    ("wait", 0.0, 1.0, 0.05),              # F1, F14: bids held while the partner is away
    ("v_toward", 0.2, 1.0, 0.05),          # F1, F5: avoidance turning away
    ("v_toward_power", 0.5, 3.0, 0.25),    # F1, F14: turning toward lost mostly to high avoidance (R1d)
    ("resp_sd", 0.0, 0.6, 0.05),           # F13, F14: responsiveness beyond attachment
    ("resp_couple", 0.0, 1.0, 0.1),        # F14: a couple's shared habit of turning toward (H1b)
    ("v_demand", 0.0, 1.0, 0.1),           # F1, F4: the pursued avoidant turn away from demands (R1c)
    ("felt_w", 0.0, 1.5, 0.1),             # F14: satisfaction from bids felt answered (Q1b)
    ("felt_rate", 0.01, 0.3, 0.02),
    ("sat_base", 0.3, 1.0, 0.05),          # F13, F14: the satisfaction that Q1b's loss is taken from
    ("sat_sd", 0.0, 0.5, 0.05),            # F13: satisfaction beyond attachment
    ("sat_x", 0.0, 0.5, 0.05),
    ("sat_v", 0.0, 0.5, 0.05),
    ("alt_x", 0.0, 1.5, 0.1),              # F14: alternatives and commitment
    ("alt_v", 0.0, 1.5, 0.1),
    ("alt_sd", 0.0, 0.5, 0.05),            # F14: parting beyond attachment
    ("inv_w", 0.0, 0.6, 0.05),             # F14: investment keeps the unhappy together
    ("c_mid", -0.5, 1.0, 0.05),
    ("c_s", 0.01, 0.3, 0.02),
    ("h_max", 0.0005, 0.05, 0.002),
]


def evaluate(dyad, values, size, seed):
    cmd = [dyad, "targets", "--format", "json", "--threads", "1", "--seed", str(seed),
           "--couples", str(size[0]), "--random", str(size[1]), "--population", str(size[2])]
    for key, value in sorted(values.items()):
        cmd += ["--set", f"model.{key}={value:.6g}"]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)}: exit {out.returncode}: {out.stderr.strip()}")
    rows = json.loads(out.stdout)
    return sum(r["miss"] ** 2 for r in rows), rows


def clamp(key, value):
    for k, low, high, _ in PARAMETERS:
        if k == key:
            return round(min(high, max(low, value)), 9)  # no -1e-17 from adding steps
    raise KeyError(key)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dyad", default="build/dyad")
    ap.add_argument("--out", default="results/calibration", help="OUT.json (best) and OUT.jsonl (every evaluation)")
    ap.add_argument("--start", help="a JSON file of {key: value} to start from (default: the model's defaults)")
    ap.add_argument("--size", default="200,1500,2500", help="couples per style pairing, random, population")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--rounds", type=int, default=4, help="step halvings before the search stops")
    ap.add_argument("--minutes", type=float, default=40, help="stop the search after this long")
    ap.add_argument("--only", help="comma-separated subset of the parameters to search")
    ap.add_argument("--screen-only", action="store_true")
    ap.add_argument("--no-screen", action="store_true", help="continue a search whose screen has run (--start its best)")
    ap.add_argument("--verify", action="store_true", help="evaluate the start at 1000,5000,10000 and two seeds, then stop")
    ap.add_argument("--grid", action="append", metavar="KEY=V1,V2,...",
                    help="evaluate every combination of these values over the start (repeat for each key), "
                         "then stop: the moves the one-at-a-time search cannot make, such as two keys in "
                         "opposite directions; OUT.json gets the best, for --start")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    size = tuple(int(x) for x in args.size.split(","))
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    start = {}
    if args.start:
        with open(args.start) as f:
            start = json.load(f)
            start = start.get("values", start)
    print(f"calibrate: seed {args.seed}, size {size}, {args.jobs} jobs, start {start or 'the defaults'}", flush=True)
    log = open(args.out + ".jsonl", "a")
    pool = cf.ThreadPoolExecutor(args.jobs)

    def run(values, sz=size, seed=args.seed):
        loss, rows = evaluate(args.dyad, values, sz, seed)
        log.write(json.dumps({"values": values, "size": sz, "seed": seed, "loss": loss}) + "\n")
        log.flush()
        return loss, rows

    if args.verify:
        for seed in (args.seed, args.seed + 1):
            loss, rows = run(start, (1000, 5000, 10000), seed)
            missed = [r for r in rows if not r["holds"]]
            print(f"seed {seed}: loss {loss:.4f}, {len(rows) - len(missed)} of {len(rows)} hold")
            for r in missed:
                print(f"  {r['id']:<4} {r['horizon']:>5} {r['what']}: {r['measured']:.4g} (band {r['low']}, {r['high']})")
        return 0

    if args.grid:
        axes = {}
        for spec in args.grid:
            key, _, values = spec.partition("=")
            if key not in {k for k, _, _, _ in PARAMETERS}:
                ap.error(f"--grid {spec}: {key} is not one of the calibrated parameters (PARAMETERS)")
            try:
                axes[key] = [float(v) for v in values.split(",")]
            except ValueError:
                ap.error(f"--grid {spec}: the values must be numbers separated by commas")
        points = [{**start, **dict(zip(axes, combo))} for combo in itertools.product(*axes.values())]
        results = sorted(zip(pool.map(run, points), points), key=lambda r: r[0][0])
        print(f"grid: {len(points)} points at size {size}, best first")
        for (loss, rows), point in results:
            missed = [r for r in rows if not r["holds"]]
            print(f"  {' '.join(f'{k}={point[k]:g}' for k in axes)}: loss {loss:.4f}, "
                  f"{len(rows) - len(missed)} of {len(rows)} hold; missed: "
                  + "; ".join(f"{r['id']} {r['horizon']} {r['what']} {r['measured']:.3g}" for r in missed))
        (loss, rows), point = results[0]
        with open(args.out + ".json", "w") as f:
            json.dump({"values": point, "loss": loss, "size": size, "seed": args.seed,
                       "missed": [r for r in rows if not r["holds"]]}, f, indent=1)
        return 0

    # Defaults come from `dyad validate` of a bare config, so the script never repeats them.
    with tempfile.NamedTemporaryFile("w", suffix=".ini") as bare:
        bare.write("[run]\nmodel = attachment\n")
        bare.flush()
        text = subprocess.run([args.dyad, "validate", bare.name], capture_output=True, text=True, check=True).stdout
    defaults = {}
    section = ""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line.strip("[]")
        elif "=" in line and section == "model" and not line.startswith("#"):
            k, v = (s.strip() for s in line.split("=", 1))
            defaults[k] = float(v)
    names = [p[0] for p in PARAMETERS if not args.only or p[0] in args.only.split(",")]
    # The start's values of keys not searched (--only) stay as they are, not the defaults.
    current = {**start, **{k: start.get(k, defaults[k]) for k in names}}
    steps = {k: s for k, _, _, s in PARAMETERS if k in names}
    best_loss, best_rows = run(current)
    print(f"start: loss {best_loss:.4f}", flush=True)

    # Screening: the targets each parameter moves.
    moves = [] if args.no_screen else list(pool.map(lambda kv: (kv, run({**current, kv[0]: clamp(kv[0], current[kv[0]] + kv[1])})),
                          [(k, d * steps[k]) for k in names for d in (-1, 1)]))
    if moves:
        print("\nscreen: loss after moving each parameter one step down / up (start %.4f)" % best_loss)
    for k in (names if moves else []):
        down = next(r for (kk, d), r in moves if kk == k and d < 0)
        up = next(r for (kk, d), r in moves if kk == k and d > 0)
        moved = sorted({r0["id"] for r0, r1 in zip(best_rows, up[1]) if abs(r0["miss"] - r1["miss"]) > 1e-3})
        print(f"  {k:<12} {current[k]:>9.4g} +- {steps[k]:<8.3g} {down[0]:>10.4f} {up[0]:>10.4f}   moves {' '.join(moved)}")
    (k, d), (loss, rows) = min(moves, key=lambda m: m[1][0]) if moves else ((names[0], 0), (best_loss, best_rows))
    if loss < best_loss:  # the screen's best move is a free first step
        best_loss, best_rows, current = loss, rows, {**current, k: clamp(k, current[k] + d)}
    if args.screen_only:
        return 0

    def save():
        with open(args.out + ".json", "w") as f:
            json.dump({"values": current, "loss": best_loss, "size": size, "seed": args.seed,
                       "missed": [r for r in best_rows if not r["holds"]]}, f, indent=1)

    began = time.time()
    for round_ in range(args.rounds):
        improved = True
        while improved and time.time() - began < args.minutes * 60:
            improved = False
            for k in names:
                trials = [{**current, k: clamp(k, current[k] + d * steps[k])} for d in (-1, 1)]
                trials = [t for t in trials if t[k] != current[k]]
                for t, (loss, rows) in zip(trials, pool.map(run, trials)):
                    if loss < best_loss - 1e-9:
                        best_loss, best_rows, current, improved = loss, rows, t, True
                        print(f"  {k} -> {t[k]:.4g}: loss {loss:.4f}", flush=True)
                        save()
                        break
        for k in steps:
            steps[k] /= 2
        print(f"round {round_ + 1}: loss {best_loss:.4f}, steps halved", flush=True)
    save()
    missed = [r for r in best_rows if not r["holds"]]
    print(f"\nbest: loss {best_loss:.4f}, {len(best_rows) - len(missed)} of {len(best_rows)} hold")
    print(" ".join(f"--set model.{k}={v:.6g}" for k, v in current.items()))
    for r in missed:
        print(f"  {r['id']:<4} {r['horizon']:>5} {r['what']}: {r['measured']:.4g} (band {r['low']}, {r['high']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
