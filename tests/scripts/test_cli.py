#!/usr/bin/python3
"""The dyad command line, driven through the real executable.

    /usr/bin/python3 tests/scripts/test_cli.py build/dyad

Bad input: one row per case. Each expects exit status 2, a message on stderr that names
the file, the key (and the line where there is one), and no trace on disk: a
pre-existing output is byte-for-byte unchanged and no new output or .partial file
appears. Messages are matched on names (file, key, line), never on wording.
Then the positive checks: --version, --help of every command, `validate` round trip,
--set winning over the file, --overwrite, and an interrupted run keeping the old output.
Prints one line per check and `N passed, M failed` last.
"""
import configparser
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

import h5py  # noqa: E402
import numpy as np  # noqa: E402

T = common.Runner("cli")
SENTINEL = b"an earlier result that must survive\n"


def snapshot(root):
    """Every file under root with its bytes (the tree is small)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def word(text):
    return re.compile(rf"(?<![A-Za-z0-9_]){re.escape(text)}(?![A-Za-z0-9_])")


def line_re(line):
    return re.compile(rf"(:{line}(?!\d)|line {line}(?!\d))")


class Case:
    """A bad-input row: files to write, the command, what stderr must name."""

    def __init__(self, name, args, must=(), any_of=(), line=None, lines=None, config=None,
                 config_name="bad.ini", names_config=None):
        self.name = name
        self.args = args            # list; "{cfg}", "{out}", "{tmp}" are substituted
        self.must = list(must)      # strings or compiled regexes that must all appear
        self.any_of = list(any_of)  # groups: at least one of each group must appear
        self.lines = lines if lines is not None else ([line] if line else [])
        self.config = config        # text of the config file, or None for no file
        self.config_name = config_name
        # Errors found in the config file must name it; those on the command line need not.
        self.names_config = config is not None if names_config is None else names_config


def base_config(out, **kw):
    kw.setdefault("days", 3)
    kw.setdefault("couples", 4)
    return common.small_config(out, **kw)


# Config texts with one defect each; {out} is the output path.
GOOD = base_config("{out}")


def with_line(text, after, new):
    """Inserts `new` as a line after the first line that starts with `after`."""
    lines = text.splitlines()
    i = next(k for k, l in enumerate(lines) if l.startswith(after))
    return "\n".join(lines[: i + 1] + [new] + lines[i + 1:]) + "\n"


def replace_line(text, start, new):
    lines = text.splitlines()
    i = next(k for k, l in enumerate(lines) if l.startswith(start))
    lines[i] = new
    return "\n".join(lines) + "\n"


def bad_input_cases():
    cases = []

    def cfg_case(name, text, needle, must=(), any_of=(), occurrence=1, extra_lines=()):
        line = common.line_of(text, needle, occurrence)
        cases.append(Case(name, ["run", "{cfg}", "-o", "{out}", "--overwrite", "--quiet"],
                          must=must, any_of=any_of, lines=[line, *extra_lines], config=text))

    cases.append(Case("missing config file", ["run", "{tmp}/no_such_config.ini", "-o", "{out}",
                                              "--overwrite", "--quiet"],
                      must=["no_such_config.ini"]))
    text = GOOD.replace("[pairings]", "[pairngs]")
    cfg_case("unknown section [pairngs] (did you mean pairings)", text, "[pairngs]",
             must=["pairngs", word("pairings")])
    text = replace_line(GOOD, "couples", "cuoples = 4")
    cfg_case("unknown key cuoples (did you mean couples)", text, "cuoples",
             must=["cuoples", word("couples")])
    text = replace_line(GOOD, "days", "days = ten")
    cfg_case("wrong type: days = ten", text, "days = ten", must=[word("days")])
    text = GOOD + "\n[style.secure]\nanxiety = 1.5\n"
    cfg_case("anxiety outside [0, 1] (1.5)", text, "anxiety = 1.5", must=["anxiety"])
    text = GOOD + "\n[style.anxious]\navoidance = -0.2\n"
    cfg_case("avoidance outside [0, 1] (-0.2)", text, "avoidance = -0.2", must=["avoidance"])
    text = replace_line(GOOD, "days", "days = 0")
    cfg_case("days = 0", text, "days = 0", must=[word("days")])
    text = replace_line(GOOD, "couples", "couples = -5")
    cfg_case("couples = -5", text, "couples = -5", must=[word("couples")])
    text = replace_line(GOOD, "list", "list =")
    cfg_case("empty pairing list", text, "list =", must=["list"])
    text = replace_line(GOOD, "list", "list = secure-secure, secure-")
    cfg_case("malformed pairing 'secure-'", text, "list =", must=["list"])
    text = replace_line(GOOD, "list", "list = secure-secure, secure-anxous")
    cfg_case("unknown style in a pairing (anxous)", text, "list =", must=["anxous"])
    text = with_line(GOOD, "days", "days = 5")
    first = common.line_of(text, "days =", 1)
    # Either occurrence may be the one named.
    cfg_case("duplicate key days", text, "days =", occurrence=2, must=[word("days")],
             extra_lines=[first])
    cases.append(Case("--set with an unknown key (run.dayz)",
                      ["run", "{cfg}", "--set", "run.dayz=5", "-o", "{out}", "--overwrite", "--quiet"],
                      must=["dayz"], any_of=[["--set", "command line", "bad.ini"]], config=GOOD,
                      names_config=False))
    cases.append(Case("output directory does not exist",
                      ["run", "{cfg}", "-o", "{tmp}/no_such_dir/out.h5", "--quiet"],
                      must=["no_such_dir", "output", "bad.ini"], config=GOOD))
    cases.append(Case("existing output without --overwrite",
                      ["run", "{cfg}", "-o", "{out}", "--quiet"],
                      must=["existing.h5", "output"], config=GOOD))

    # Extra rows: more plainly bad input that must not be accepted.
    text = GOOD + "\n[model]\nwork_lod_b = 0.5\n"
    cfg_case("extra: unknown model parameter work_lod_b (did you mean work_load_b)", text,
             "work_lod_b", must=["work_lod_b", word("work_load_b")])
    text = replace_line(GOOD, "days", "days = 10x")
    cfg_case("extra: trailing garbage: days = 10x", text, "days = 10x", must=[word("days")])
    text = replace_line(GOOD, "days", "days = 2.5")
    cfg_case("extra: fractional days = 2.5", text, "days = 2.5", must=[word("days")])
    text = replace_line(GOOD, "record", "record = weekly")
    cfg_case("extra: record = weekly", text, "record = weekly", must=["record"])
    text = replace_line(GOOD, "seed", "seed 7")
    cfg_case("extra: a line without '=' (seed 7)", text, "seed 7", must=[])
    text = GOOD + "\n[style.secure]\nspread = -0.1\n"
    cfg_case("extra: spread = -0.1", text, "spread = -0.1", must=["spread"])
    text = with_line(GOOD, "[run]", "model = attachmnt")
    cfg_case("extra: unknown model attachmnt", text, "model = attachmnt", must=["model"])
    text = GOOD + "\n[population]\ncorrelation = 1.5\n"
    cfg_case("extra: population correlation = 1.5", text, "correlation = 1.5",
             must=["population.correlation"])
    text = GOOD + "\n[population]\navoidance_sd = -0.1\n"
    cfg_case("extra: population avoidance_sd = -0.1", text, "avoidance_sd = -0.1",
             must=["population.avoidance_sd"])
    text = replace_line(GOOD, "list", "list = population, secure-secure, population")
    cfg_case("extra: pairing population listed twice", text, "list =", must=["population", "twice"])
    cases.append(Case("extra: --set without '=' (run.days)",
                      ["run", "{cfg}", "--set", "run.days", "-o", "{out}", "--overwrite", "--quiet"],
                      must=["run.days"], config=GOOD, names_config=False))
    cases.append(Case("extra: --set run.days=abc",
                      ["run", "{cfg}", "--set", "run.days=abc", "-o", "{out}", "--overwrite", "--quiet"],
                      must=["days"], config=GOOD, names_config=False))
    cases.append(Case("extra: --threads -1",
                      ["run", "{cfg}", "-o", "{out}", "--overwrite", "--quiet", "--threads", "-1"],
                      must=["--threads"], config=GOOD, names_config=False))
    cases.append(Case("extra: run with no config", ["run", "-o", "{out}", "--overwrite", "--quiet"],
                      must=[]))
    cases.append(Case("extra: unknown command", ["frobnicate"], must=["frobnicate"]))

    # Inputs read as written: an empty value is an error, not a default or `true`.
    text = with_line(GOOD, "record", "common_random_numbers =")
    cfg_case("empty bool: common_random_numbers =", text, "common_random_numbers =",
             must=["common_random_numbers"])
    text = with_line(GOOD, "record", "common_random_numbers =   # forgot")
    cfg_case("empty bool before an inline comment", text, "common_random_numbers =",
             must=["common_random_numbers"])
    text = replace_line(GOOD, "days", "days =")
    cfg_case("empty int: days =", text, "days =", must=[word("days")])
    cases.append(Case("-o '' (an empty output name)", ["run", "{cfg}", "-o", "", "--quiet"],
                      must=["-o"], config=GOOD, names_config=False))
    # An output that is an input, by any spelling, or not a regular file (the config is
    # {tmp}/bad.ini; the links are made by check_output_is_input below).
    for name, target in [("-o naming the config", "{cfg}"), ("-o naming the config as ./bad.ini", "./bad.ini"),
                         ("-o a directory", "{tmp}")]:
        cases.append(Case(name, ["run", "{cfg}", "-o", target, "--overwrite", "--quiet"],
                          must=["output"], config=GOOD))
    # Runs that cannot fit are refused at once, with both figures.
    cases.append(Case("1e8 couples refused before starting (memory)",
                      ["run", "{cfg}", "--set", "run.couples=100000000", "--set", "pairings.list=secure-secure",
                       "-o", "{out}", "--overwrite", "--quiet"], must=["run.couples", "memory", "available"], config=GOOD,
                      names_config=False))
    cases.append(Case("plan of an output larger than the file system -> exit 2",
                      ["plan", "{cfg}", "--set", "run.couples=2000000", "--set", "run.days=100000"],
                      must=["run.output", "free"], config=GOOD))
    return cases


def run_case(exe, tmp, outdir, case):
    out = outdir / "existing.h5"
    cfg = tmp / case.config_name
    if case.config is not None:
        cfg.write_text(case.config.replace("{out}", str(tmp / "from_config.h5")))
    elif cfg.exists():
        cfg.unlink()
    args = [a.replace("{cfg}", str(cfg)).replace("{out}", str(out)).replace("{tmp}", str(tmp))
            for a in case.args]
    before = snapshot(tmp)
    proc = common.run([exe, *args], timeout=60, cwd=tmp)
    after = snapshot(tmp)
    problems = []
    if proc.returncode != 2:
        problems.append(f"exit status {proc.returncode}, expected 2")
    err = proc.stderr
    for m in case.must:
        found = m.search(err) if isinstance(m, re.Pattern) else (m in err)
        if not found:
            problems.append(f"stderr does not name {m.pattern if isinstance(m, re.Pattern) else m!r}")
    for group in case.any_of:
        if not any(g in err for g in group):
            problems.append(f"stderr names none of {group}")
    if case.names_config and case.config_name not in err:
        problems.append(f"stderr does not name the config file {case.config_name}")
    if case.lines:
        if not any(line_re(l).search(err) for l in case.lines):
            problems.append(f"stderr does not name line {' or '.join(map(str, case.lines))}")
    if not err.strip():
        problems.append("nothing on stderr")
    if "Traceback" in err or "HDF5-DIAG" in err or "terminate called" in err:
        problems.append("a stack dump on stderr")
    if after.get("out/existing.h5") != SENTINEL:
        problems.append("the pre-existing output changed")
    new = sorted(set(after) - set(before))
    changed = sorted(k for k in before if k in after and before[k] != after[k])
    gone = sorted(set(before) - set(after))
    if new or changed or gone:
        problems.append(f"files appeared {new}, changed {changed}, vanished {gone}")
    T.check(f"bad input: {case.name} -> exit 2, names file/key/line, nothing written",
            not problems, "; ".join(problems) + "\n" + common.describe(proc))


def check_not_writable(exe, tmp, outdir):
    ro = tmp / "read_only"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        if os.access(ro, os.W_OK):
            T.skip("bad input: output directory not writable",
                   f"running as uid {os.getuid()} (root?): {ro} stays writable after chmod 555, "
                   "so the case cannot be provoked")
            return
        cfg = tmp / "bad.ini"
        cfg.write_text(GOOD.replace("{out}", str(tmp / "from_config.h5")))
        before = snapshot(tmp)
        proc = common.run([exe, "run", cfg, "-o", ro / "out.h5", "--quiet"], cwd=tmp)
        after = snapshot(tmp)
        T.check("bad input: output directory not writable -> exit 2, names the directory and "
                "run.output, nothing written",
                proc.returncode == 2 and "read_only" in proc.stderr and "output" in proc.stderr
                and before == after, common.describe(proc))
    finally:
        ro.chmod(0o755)


def check_not_dyad_files(exe, tmp):
    text_file = common.write(tmp / "notes.txt", "not an HDF5 file\n")
    plain = tmp / "plain.h5"
    with h5py.File(plain, "w") as f:
        f["x"] = np.arange(5)
        f.attrs["title"] = "made with h5py, no Dyad attributes"
    cases = [("summarize", text_file, "a text file"),
             ("summarize", plain, "an HDF5 file without Dyad attributes"),
             ("inspect", text_file, "a text file"),
             ("inspect", plain, "an HDF5 file without Dyad attributes"),
             ("summarize", tmp / "missing.h5", "a missing file"),
             ("inspect", tmp / "missing.h5", "a missing file")]
    for command, path, what in cases:
        for extra in ([["--format", "csv"]] if command == "summarize" else [[]]):
            args = [exe, command, path, *extra]
            before = snapshot(tmp)
            proc = common.run(args, cwd=tmp)
            after = snapshot(tmp)
            problems = []
            if proc.returncode != 2:
                problems.append(f"exit status {proc.returncode}, expected 2")
            if path.name not in proc.stderr:
                problems.append(f"stderr does not name {path.name}")
            if "HDF5-DIAG" in proc.stderr or "terminate called" in proc.stderr:
                problems.append("an HDF5 error stack or abort on stderr")
            if before != after:
                problems.append("files changed")
            T.check(f"bad input: {command} on {what} -> exit 2 naming the file, no HDF5 error stack",
                    not problems, "; ".join(problems) + "\n" + common.describe(proc))
    proc = common.run([exe, "run", "--from", text_file, "-o", tmp / "from_text.h5", "--quiet"], cwd=tmp)
    T.check("bad input: extra: run --from a text file -> exit 2 naming it, nothing written",
            proc.returncode == 2 and "notes.txt" in proc.stderr
            and not (tmp / "from_text.h5").exists()
            and not (tmp / "from_text.h5.partial").exists(), common.describe(proc))
    check_model_version(exe, tmp)
    check_not_utf8_text(exe, tmp)


def check_model_version(exe, tmp):
    """A file of another version of the model's equations: --from and --resume refuse it."""
    import h5py
    import numpy as np
    cfg = common.write(tmp / "version.ini", GOOD.replace("{out}", str(tmp / "version.h5")))
    proc = common.run([exe, "run", cfg, "--set", "run.days=3", "--quiet"], cwd=tmp)
    if not T.check("model_version: a small run exits 0", proc.returncode == 0, common.describe(proc)):
        return
    with h5py.File(tmp / "version.h5", "r") as f:
        T.check("model_version: the file records version 2 of attachment",
                int(f.attrs["model_version"]) == 2, repr(dict(f.attrs).get("model_version")))
    with h5py.File(tmp / "version.h5", "r+") as f:
        f.attrs["model_version"] = np.int32(1)  # as if an older dyad had written it
    proc = common.run([exe, "run", "--from", tmp / "version.h5", "-o", tmp / "again.h5", "--quiet"], cwd=tmp)
    T.check("bad input: run --from a file of model version 1 -> exit 2 naming the version, nothing written",
            proc.returncode == 2 and "version 1" in proc.stderr and "version.h5" in proc.stderr
            and not (tmp / "again.h5").exists(), common.describe(proc))


def check_not_utf8_text(exe, tmp):
    """A stored string whose bytes are not UTF-8 (a flipped bit in the config's text, which a
    dense attribute could take unchecked) is printed by inspect as \\xNN, so its output stays
    readable text."""
    import subprocess
    cfg = common.write(tmp / "utf8.ini", GOOD.replace("{out}", str(tmp / "utf8.h5")))
    proc = common.run([exe, "run", cfg, "--set", "run.days=3", "--quiet"], cwd=tmp)
    if not T.check("not UTF-8: a small run exits 0", proc.returncode == 0, common.describe(proc)):
        return
    data = bytearray((tmp / "utf8.h5").read_bytes())
    at = data.find(b"[run]")
    if at >= 0:
        data[at + 1] ^= 0x80 | 0x10
        (tmp / "utf8_flipped.h5").write_bytes(bytes(data))
        proc = common.run([exe, "inspect", tmp / "utf8_flipped.h5"])
    T.check("config text: a flipped byte in the file fails the root header's checksum, exit 2 'is damaged'",
            at >= 0 and proc.returncode == 2 and "utf8_flipped.h5: is damaged: its root group" in proc.stderr,
            "no [run] in the file" if at < 0 else common.describe(proc))
    # Written through HDF5, not flipped in the file's bytes: the config is a compact
    # attribute, in the root object header, whose checksum would refuse a flipped byte
    # (sim/io/h5_util.hpp set_root_group_layout). Same length, written in place.
    import h5py
    import numpy as np
    with h5py.File(tmp / "utf8.h5", "r+") as f:
        attr = h5py.h5a.open(f.id, b"config")
        text = bytearray(f.attrs["config"] if isinstance(f.attrs["config"], bytes) else f.attrs["config"].encode())
        at = text.find(b"[run]")
        if not T.check("not UTF-8: the stored config holds its [run] section", at >= 0, "no [run] in the config"):
            return
        text[at + 1] ^= 0x80 | 0x10  # 'r' (0x72) -> 0xe2: a lead byte without its continuation
        value = bytes(text)
        attr.write(np.array(value if attr.dtype.kind == "S" else np.array(value, dtype=object), dtype=attr.dtype))
    raw = subprocess.run([str(exe), "inspect", str(tmp / "utf8.h5")], capture_output=True, timeout=60)
    try:
        out = raw.stdout.decode("utf-8")
        err = raw.stderr.decode("utf-8")
        decoded = True
    except UnicodeDecodeError as e:
        out, err, decoded = "", str(e), False
    T.check("not UTF-8: inspect prints a damaged stored string as \\xNN, its output UTF-8",
            raw.returncode == 0 and decoded and "[\\xe2un]" in out,
            f"exit {raw.returncode}; decoded {decoded}; stdout tail {out[-300:]!r}; stderr {err[-300:]!r}")


def check_latin1_paths(exe, tmp):
    """Paths are bytes on Linux: a Latin-1 name (caf\xe9) is a path, not UTF-8 text. An output
    so named is refused before anything is written (the file records its own name in
    attributes declared UTF-8, which netCDF clients then misread); an input so named runs,
    and the history attribute quotes it as bash's $'...\\xNN...', which stays UTF-8 and
    names the same bytes when typed again."""
    import subprocess
    import h5py

    def run(*args):
        """dyad with arguments as bytes (paths that are not UTF-8): the process and its stderr as text."""
        proc = subprocess.run([os.fsencode(exe), *args], capture_output=True, timeout=120)
        return proc, proc.stderr.decode("utf-8", "replace")

    cfg = common.write(tmp / "latin1.ini", GOOD.replace("{out}", str(tmp / "latin1_unused.h5")))
    out = os.fsencode(tmp) + b"/caf\xe9.h5"
    proc, err = run(b"run", os.fsencode(cfg), b"-o", out, b"--quiet")
    T.check("Latin-1 -o: exit 2 naming run.output and the name as \\xe9, nothing written",
            proc.returncode == 2 and "'run.output'" in err and "caf\\xe9.h5' is not UTF-8" in err and
            not os.path.exists(out) and not os.path.exists(out + b".partial"),
            f"exit {proc.returncode}; stderr {err[-400:]!r}")
    odd = os.fsencode(tmp) + b"/l\xe9'a\\b.ini"
    with open(odd, "wb") as f:
        f.write(cfg.read_bytes())
    h5 = tmp / "latin1_history.h5"
    proc, err = run(b"run", odd, b"-o", os.fsencode(h5), b"--quiet")
    if not T.check("Latin-1 config path: the run exits 0", proc.returncode == 0, err):
        return
    with h5py.File(h5, "r") as f:
        raw = f.attrs["history"]
    raw = raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogateescape")
    try:
        history = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        history = None
        why = str(e)
    args = None
    if history is not None:
        typed = history.split(": ", 1)[1]
        shell = subprocess.run(["/bin/bash", "-c", f'for a in {typed}; do printf "%s\\0" "$a"; done'],
                               capture_output=True, timeout=30)
        args = shell.stdout.split(b"\0")
    T.check("Latin-1 config path: history is UTF-8 and, typed in bash, gives the config's bytes again",
            args is not None and odd in args,
            f"history {raw!r}; " + (f"not UTF-8: {why}" if history is None else f"bash gave {args!r}"))
    # merge and export write names into text attributes too: a merged file its own (the
    # stored config's run.output) and its shards' (merge_sources), an exported netCDF
    # table its source's (dyad_source_file)
    shard_cfg = common.write(tmp / "latin1_shard.ini", GOOD.replace("{out}", str(tmp / "latin1_m.h5")))
    proc, err = run(b"run", os.fsencode(shard_cfg), b"--shard", b"1/1", b"--quiet")
    shard = tmp / "latin1_m.shard-1-of-1.h5"
    if not T.check("Latin-1 merge: the shard runs", proc.returncode == 0 and shard.exists(), err):
        return
    merged = os.fsencode(tmp) + b"/merg\xe9.h5"
    proc, err = run(b"merge", os.fsencode(shard), b"-o", merged, b"--quiet")
    T.check("Latin-1 merge -o: exit 2 naming -o and the name as \\xe9, nothing written",
            proc.returncode == 2 and "-o" in err and "merg\\xe9.h5' is not UTF-8" in err and
            not os.path.exists(merged) and not os.path.exists(merged + b".partial"),
            f"exit {proc.returncode}; stderr {err[-400:]!r}")
    renamed = os.fsencode(tmp) + b"/sh\xe9rd.h5"
    os.link(shard, renamed)
    good = tmp / "latin1_merged.h5"
    proc, err = run(b"merge", renamed, b"-o", os.fsencode(good), b"--quiet")
    T.check("Latin-1 shard name: merge exits 2 naming it as \\xe9, nothing written",
            proc.returncode == 2 and "sh\\xe9rd.h5' is not UTF-8" in err and "\ufffd" not in err and not good.exists(),
            f"exit {proc.returncode}; stderr {err[-400:]!r}")
    nc = tmp / "latin1_export.nc"
    exported = os.fsencode(tmp) + b"/expo\xe9.h5"
    os.link(h5, exported)
    proc, err = run(b"export", exported, b"--format", b"netcdf", b"-o", os.fsencode(nc))
    source = None
    if proc.returncode == 0:
        with h5py.File(nc, "r") as f:
            source = f.attrs["dyad_source_file"]
        source = source if isinstance(source, bytes) else source.encode("utf-8", "surrogateescape")
    T.check("Latin-1 export source: dyad_source_file is UTF-8, the byte written \\xe9",
            proc.returncode == 0 and source is not None and source.endswith(b"/expo\\xe9.h5"),
            f"exit {proc.returncode}; stderr {err[-300:]!r}; attribute {source!r}")


def check_output_is_input(exe, tmp):
    """-o naming the config by a symlink or a hard link, a FIFO: exit 2, all untouched."""
    cfg = common.write(tmp / "input.ini", GOOD.replace("{out}", str(tmp / "from_config.h5")))
    text = cfg.read_bytes()
    links = tmp / "links"
    links.mkdir()
    (links / "symlink.h5").symlink_to(cfg)
    os.link(cfg, links / "hardlink.h5")
    os.mkfifo(links / "fifo.h5")
    # A device node of our own (the null device's numbers) where we may make one: a dyad
    # that replaced device nodes would, run as root, replace the machine's /dev/null.
    # Without root, /dev is not writable, so /dev/null itself is safe to name.
    device = "/dev/null"
    if os.geteuid() == 0:
        device = str(links / "null_device")
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    (links / "device.h5").symlink_to(device)
    rows = [("symlink.h5", "a symlink to the config"), ("hardlink.h5", "a hard link to the config"),
            ("fifo.h5", "a FIFO"), ("device.h5", "a symlink to a device")]
    if device != "/dev/null":
        rows.append(("null_device", "a device node"))
    for name, what in rows:
        proc = common.run([exe, "run", cfg, "-o", links / name, "--overwrite", "--quiet"], timeout=30, cwd=tmp)
        T.check(f"bad input: -o {what} -> exit 2 naming it, the config and the link untouched",
                proc.returncode == 2 and name in proc.stderr and cfg.read_bytes() == text
                and (links / name).exists() and not Path(str(links / name) + ".partial").exists(),
                common.describe(proc))
    T.check("after the -o rows the device node is still a character device",
            stat.S_ISCHR(os.stat(device).st_mode), device)
    out = tmp / "from_input.h5"
    proc = common.run([exe, "run", cfg, "-o", out, "--quiet"], cwd=tmp)
    if T.check("a small run for --from exits 0", proc.returncode == 0, common.describe(proc)):
        before = out.read_bytes()
        proc = common.run([exe, "run", "--from", out, "-o", f"{tmp}/./from_input.h5", "--overwrite", "--quiet"],
                          cwd=tmp)
        T.check("bad input: -o naming the --from file (another spelling) -> exit 2, the file untouched",
                proc.returncode == 2 and "--from" in proc.stderr and out.read_bytes() == before,
                common.describe(proc))


def check_inputs_not_files(exe, tmp):
    """A FIFO, a directory or /dev/null as a config or as a file to read: exit 2, no hang."""
    fifo = tmp / "input.fifo"
    os.mkfifo(fifo)
    rows = [(["validate", fifo], "config a FIFO", fifo.name),
            (["run", fifo, "-o", tmp / "x.h5", "--quiet"], "run of a FIFO config", fifo.name),
            (["validate", tmp], "config a directory", tmp.name), (["validate", "/dev/null"], "config /dev/null", "/dev/null"),
            (["inspect", fifo], "inspect of a FIFO", fifo.name), (["summarize", fifo], "summarize of a FIFO", fifo.name),
            (["inspect", "/dev/zero"], "inspect of a device", "/dev/zero"),
            (["run", "--from", fifo, "-o", tmp / "y.h5", "--quiet"], "run --from a FIFO", fifo.name),
            (["run", tmp / "x.ini", "--resume", fifo, "--quiet"], "run --resume a FIFO", fifo.name)]
    common.write(tmp / "x.ini", GOOD.replace("{out}", str(tmp / "x.h5")))
    for args, what, name in rows:
        try:
            proc = common.run([exe, *args], timeout=20, cwd=tmp)
        except subprocess.TimeoutExpired:
            T.check(f"bad input: {what} -> exit 2 at once", False, "hung for 20 s")
            continue
        T.check(f"bad input: {what} -> exit 2 at once naming it", proc.returncode == 2 and name in proc.stderr,
                common.describe(proc))


def check_read_as_written(exe, tmp):
    """CRLF, a BOM and inline comments give the data of the plain config."""
    plain = base_config(tmp / "plain_written.h5")
    crlf = plain.replace("\n", "\r\n")
    variants = {"plain": plain, "CRLF": crlf, "a UTF-8 BOM": "\ufeff" + plain, "a BOM and CRLF": "\ufeff" + crlf,
                "inline comments": plain.replace("days = 3", "days = 3   # three days")
                .replace("[pairings]", "[pairings] ; who meets whom")}
    hashes = {}
    for what, text in variants.items():
        cfg = tmp / f"written_{len(hashes)}.ini"
        cfg.write_bytes(text.encode("utf-8"))
        out = tmp / f"written_{len(hashes)}.h5"
        proc = common.run([exe, "run", cfg, "-o", out, "--quiet"], cwd=tmp)
        ok = proc.returncode == 0
        if ok:
            proc = common.run([exe, "inspect", out])
            hashes[what] = common.data_hash(proc.stdout)
        T.check(f"config with {what}: runs", ok, common.describe(proc))
    for what, h in hashes.items():
        if what != "plain":
            T.check(f"config with {what}: the plain config's data hash", h == hashes.get("plain"),
                    f"{h} vs {hashes.get('plain')}")
    cfg = common.write(tmp / "comment_output.ini",
                       base_config(tmp / "named.h5").replace(f"output = {tmp / 'named.h5'}",
                                                             f"output = {tmp / 'named.h5'}   # mine"))
    proc = common.run([exe, "run", cfg, "--quiet"], cwd=tmp)
    T.check("an inline comment after run.output is not part of the file name",
            proc.returncode == 0 and (tmp / "named.h5").is_file(), common.describe(proc))


def check_threads_capped(exe, tmp):
    cfg = common.write(tmp / "threads.ini", GOOD.replace("{out}", str(tmp / "threads.h5")))
    proc = common.run([exe, "run", cfg, "--threads", "100000", "--quiet"], cwd=tmp)
    T.check("--threads 100000: capped with a message on stderr, the run completes (exit 0)",
            proc.returncode == 0 and "capped" in proc.stderr and (tmp / "threads.h5").is_file(),
            common.describe(proc))
    proc = common.run([exe, "plan", cfg, "--threads", "100000"], cwd=tmp)
    T.check("plan --threads 100000: capped with a message, exit 0", proc.returncode == 0 and "capped" in proc.stderr,
            common.describe(proc))
    proc = common.run([exe, "plan", cfg, "--set", "run.couples=2000000", "--set", "run.days=100000",
                       "--no-fit-check"], cwd=tmp, timeout=120)
    T.check("plan --no-fit-check of an output larger than the disk prints the estimate (exit 0)",
            proc.returncode == 0 and "output: about" in proc.stdout, common.describe(proc))


def check_overwrite(exe, tmp, outdir):
    out = outdir / "existing.h5"
    cfg = common.write(tmp / "good.ini", GOOD.replace("{out}", str(tmp / "from_config.h5")))
    proc = common.run([exe, "run", cfg, "-o", out, "--quiet", "--overwrite"], cwd=tmp)
    ok = proc.returncode == 0 and out.read_bytes() != SENTINEL \
        and not Path(str(out) + ".partial").exists()
    T.check("existing output with --overwrite: exit 0, replaced, no .partial left", ok,
            common.describe(proc))
    if ok:
        proc = common.run([exe, "inspect", out])
        T.check("the replaced output is a Dyad file (inspect exits 0 and prints a data hash)",
                proc.returncode == 0 and common.data_hash(proc.stdout), common.describe(proc))
    out.write_bytes(SENTINEL)


def check_interrupt(exe, tmp, outdir):
    """SIGINT mid-run: exit 130, days done kept in .partial (interrupted), old output intact."""
    out = outdir / "existing.h5"
    out.write_bytes(SENTINEL)
    partial = Path(str(out) + ".partial")
    cfg = common.write(tmp / "long.ini", base_config(tmp / "from_config.h5", days=20000, couples=50,
                                                     record="summary"))
    proc = subprocess.Popen([str(exe), "run", str(cfg), "-o", str(out), "--overwrite", "--quiet",
                             "--threads", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=tmp)
    try:
        deadline = time.time() + 15
        while time.time() < deadline and not partial.exists() and proc.poll() is None:
            time.sleep(0.05)
        time.sleep(0.5)
        if proc.poll() is not None:
            _, err = proc.communicate()
            T.check("interrupt: the long run is still going when SIGINT is sent", False,
                    f"exit {proc.returncode} already; stderr {err!r}")
            return
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    T.check("interrupt: SIGINT ends the run with exit status 130", proc.returncode == 130,
            f"exit {proc.returncode}; stderr {err!r}")
    T.check("interrupt: the old output is unchanged", out.read_bytes() == SENTINEL)
    if T.check("interrupt: the days done are kept in FILE.partial", partial.is_file(),
               f"listing {sorted(p.name for p in outdir.iterdir())}"):
        try:
            with h5py.File(partial, "r") as f:
                status = f.attrs.get("status")
                status = status.decode() if isinstance(status, bytes) else str(status)
                done = int(np.asarray(f.attrs.get("days_completed")).ravel()[0])
            T.check("interrupt: FILE.partial is marked interrupted with 0 < days_completed < days",
                    status == "interrupted" and 0 < done < 20000, f"status {status!r}, days {done}")
        except Exception as e:  # noqa: BLE001
            T.check("interrupt: FILE.partial is readable with h5py", False, repr(e))
        proc2 = common.run([exe, "inspect", partial])
        T.check("interrupt: dyad inspect reads FILE.partial and says it is incomplete",
                proc2.returncode == 0 and "interrupted" in proc2.stdout, common.describe(proc2))
        proc2 = common.run([exe, "run", cfg, "--resume", out, "--quiet"], cwd=tmp)
        T.check("bad input: --resume onto an existing FILE without --overwrite -> exit 2 naming it, "
                "FILE and FILE.partial untouched",
                proc2.returncode == 2 and "existing.h5" in proc2.stderr and out.read_bytes() == SENTINEL
                and partial.is_file(), common.describe(proc2))
        proc2 = common.run([exe, "run", cfg, "--resume", out, "--overwrite", "--quiet", "--threads", "2"],
                           cwd=tmp, timeout=300)
        T.check("--resume --overwrite completes and replaces FILE",
                proc2.returncode == 0 and out.read_bytes() != SENTINEL and not partial.exists(),
                common.describe(proc2))
        out.write_bytes(SENTINEL)
        partial.unlink(missing_ok=True)


def check_stale_partial(exe, tmp):
    """An unfinished earlier run's FILE.partial is not replaced without --overwrite."""
    cfg = common.write(tmp / "good.ini", GOOD.replace("{out}", str(tmp / "from_config.h5")))
    out = tmp / "stale.h5"
    partial = Path(str(out) + ".partial")
    partial.write_bytes(SENTINEL)
    proc = common.run([exe, "run", cfg, "-o", out, "--quiet"], cwd=tmp)
    T.check("bad input: an earlier run's FILE.partial without --overwrite -> exit 2 naming it, "
            "kept byte for byte",
            proc.returncode == 2 and "stale.h5.partial" in proc.stderr
            and partial.read_bytes() == SENTINEL and not out.exists(), common.describe(proc))
    proc = common.run([exe, "run", cfg, "-o", out, "--quiet", "--overwrite"], cwd=tmp)
    T.check("an earlier FILE.partial with --overwrite: the run completes and no .partial is left",
            proc.returncode == 0 and out.is_file() and not partial.exists(), common.describe(proc))


def parse_ini(text):
    p = configparser.ConfigParser(interpolation=None, strict=True)
    p.optionxform = str
    p.read_string(text)
    return p


def model_parameter_names():
    source = (common.REPO / "models" / "attachment" / "params.hpp").read_text()
    body = source[source.index("void for_each_param"):]
    return re.findall(r'\bf\("([A-Za-z_0-9]+)"', body)


def check_models_command(exe, tmp):
    """dyad models: what the registry holds, as text and as JSON (scripts/dyad_cli.py reads
    it); the attachment parameters against models/attachment/params.hpp read here."""
    proc = common.run([exe, "models", "--format", "json"], cwd=tmp)
    try:
        listed = {m["name"]: m for m in json.loads(proc.stdout)}
    except ValueError as e:
        T.check("dyad models --format json: exit 0 and JSON", False, f"{e}; {common.describe(proc)}")
        return
    T.check("dyad models --format json: exit 0 and the five registered models",
            proc.returncode == 0 and sorted(listed) == ["attachment", "g_function", "gottman", "ishigami", "linear_love"],
            sorted(listed))
    attachment = listed.get("attachment", {})
    keys = [p["key"].removeprefix("model.") for p in attachment.get("parameters", [])]
    T.check("dyad models: attachment's parameters are params.hpp's, in its order",
            keys == model_parameter_names(), f"{len(keys)} listed, {len(model_parameter_names())} in params.hpp")
    T.check("dyad models: closed forms and a phase plane for gottman and linear_love only",
            [n for n, m in sorted(listed.items()) if m["closed_forms"]] == ["gottman", "linear_love"]
            and listed["gottman"]["phase_plane"] == ["affect_a", "affect_b"]
            and attachment.get("phase_plane") is None, {n: m["phase_plane"] for n, m in listed.items()})
    T.check("dyad models: ticks_per_day is the default of model.ticks_per_day",
            attachment.get("ticks_per_day") == next((p["default"] for p in attachment["parameters"]
                                                     if p["key"] == "model.ticks_per_day"), None),
            attachment.get("ticks_per_day"))
    text = common.run([exe, "models"], cwd=tmp)
    T.check("dyad models (text): exit 0, every model and attachment key named",
            text.returncode == 0 and all(f"{n} (version" in text.stdout for n in listed)
            and all(f"model.{k} " in text.stdout for k in keys), common.describe(text))
    bad = common.run([exe, "models", "--format", "yaml"], cwd=tmp)
    T.check("bad input: dyad models --format yaml -> exit 2 naming --format",
            bad.returncode == 2 and "--format" in bad.stderr and not bad.stdout, common.describe(bad))


def check_positive(exe, tmp):
    proc = common.run([exe, "--version"])
    T.check("dyad --version exits 0 and prints a version",
            proc.returncode == 0 and re.search(r"\d+\.\d+\.\d+", proc.stdout), common.describe(proc))
    for command in ([], ["run"], ["validate"], ["summarize"], ["inspect"]):
        proc = common.run([exe, *command, "--help"])
        T.check(f"dyad {' '.join(command + ['--help'])} exits 0 and prints usage",
                proc.returncode == 0 and "usage" in proc.stdout.lower(), common.describe(proc))
    proc = common.run([exe])
    T.check("dyad with no command exits 2 and prints usage",
            proc.returncode == 2 and "usage" in proc.stderr.lower() and not proc.stdout, common.describe(proc))

    for name in ("quick.ini", "secure_vs_mixed.ini", "continuous_population.ini"):
        proc = common.run([exe, "validate", common.REPO / "configs" / name])
        T.check(f"dyad validate configs/{name} exits 0", proc.returncode == 0, common.describe(proc))

    cfg = common.write(tmp / "good.ini", GOOD.replace("{out}", str(tmp / "from_config.h5")))
    proc = common.run([exe, "validate", cfg])
    if not T.check("dyad validate on a small config exits 0", proc.returncode == 0, common.describe(proc)):
        return
    first = proc.stdout
    try:
        ini = parse_ini(first)
        parsed = True
    except configparser.Error as e:
        parsed = False
        T.check("validate prints an INI file", False, f"{e}\n{first[:800]}")
    if parsed:
        sections = ini.sections()
        want_run = ["model", "days", "couples", "seed", "output", "record", "common_random_numbers"]
        missing = [f"run.{k}" for k in want_run if not ini.has_option("run", k)]
        missing += [] if ini.has_option("pairings", "list") else ["pairings.list"]
        for style in ("secure", "anxious", "avoidant", "fearful"):
            for k in ("anxiety", "avoidance", "spread"):
                if not ini.has_option(f"style.{style}", k):
                    missing.append(f"style.{style}.{k}")
        for k in ("anxiety_mean", "avoidance_mean", "anxiety_sd", "avoidance_sd", "correlation",
                  "partner_correlation"):
            if not ini.has_option("population", k):
                missing.append(f"population.{k}")
        params = model_parameter_names()
        missing += [f"model.{k}" for k in params if not ini.has_option("model", k)]
        T.check(f"validate prints every key (run, pairings, population, 4 styles, {len(params)} model "
                "parameters)", not missing and len(params) > 50,
                f"missing: {missing[:12]}; sections {sections}")
        T.check("validate resolves the file's values (days 3, couples 4, the three pairings)",
                ini.get("run", "days", fallback=None) == "3"
                and ini.get("run", "couples", fallback=None) == "4"
                and [p.strip() for p in ini.get("pairings", "list", fallback="").split(",")]
                == ["secure-secure", "secure-anxious", "anxious-avoidant"],
                first[:600])
    resolved = common.write(tmp / "resolved.ini", first)
    proc = common.run([exe, "validate", resolved])
    T.check("validate round trip: validate of validate's output prints identical text",
            proc.returncode == 0 and proc.stdout == first,
            _diff(first, proc.stdout) + "\n" + common.describe(proc))
    out = tmp / "resolved_run.h5"
    proc = common.run([exe, "run", resolved, "-o", out, "--quiet"], cwd=tmp)
    T.check("dyad run accepts validate's output", proc.returncode == 0 and out.is_file(),
            common.describe(proc))

    proc = common.run([exe, "validate", cfg, "--set", "run.days=7", "--set", "model.work_load_b=0.5",
                       "--set", "pairings.list=secure-fearful"])
    ok = proc.returncode == 0
    if ok:
        try:
            ini = parse_ini(proc.stdout)
            ok = (ini.get("run", "days") == "7" and float(ini.get("model", "work_load_b")) == 0.5
                  and ini.get("pairings", "list").strip() == "secure-fearful"
                  and ini.get("run", "couples") == "4")
        except (configparser.Error, ValueError):
            ok = False
    T.check("--set wins over the file (validate shows run.days 7, model.work_load_b 0.5, "
            "pairings.list secure-fearful; the rest from the file)", ok, common.describe(proc))

    out = tmp / "set_days.h5"
    proc = common.run([exe, "run", cfg, "--set", "run.days=2", "-o", out, "--quiet"], cwd=tmp)
    ok = proc.returncode == 0 and out.is_file()
    if ok:
        with h5py.File(out, "r") as f:
            days = int(np.asarray(f.attrs.get("days")).ravel()[0])
            ok = days == 2 and f["day"].shape == (2,)
    T.check("--set run.days=2 takes effect in the run (days attribute and day dimension 2)", ok,
            common.describe(proc))
    T.check("-o wins over run.output (nothing written at the config's output)",
            not (tmp / "from_config.h5").exists())


def _diff(a, b):
    import difflib
    return "".join(list(difflib.unified_diff(a.splitlines(True), b.splitlines(True), "first",
                                             "second", n=0))[:20])


def main():
    exe = common.exe_from_argv("test_cli.py")
    with common.temp_dir("dyad_cli_") as d:
        tmp = Path(d)
        outdir = tmp / "out"
        outdir.mkdir()
        (outdir / "existing.h5").write_bytes(SENTINEL)
        for case in bad_input_cases():
            T.guard(f"bad input: {case.name}", run_case, exe, tmp, outdir, case)
            (outdir / "existing.h5").write_bytes(SENTINEL)
        T.guard("output directory not writable", check_not_writable, exe, tmp, outdir)
        T.guard("existing output with --overwrite", check_overwrite, exe, tmp, outdir)
        T.guard("files that are not Dyad outputs", check_not_dyad_files, exe, tmp)
        T.guard("stale .partial", check_stale_partial, exe, tmp)
        T.guard("-o naming an input or a non-file", check_output_is_input, exe, tmp)
        T.guard("Latin-1 paths", check_latin1_paths, exe, tmp)
        T.guard("inputs that are not files", check_inputs_not_files, exe, tmp)
        T.guard("configs read as written", check_read_as_written, exe, tmp)
        T.guard("--threads capped", check_threads_capped, exe, tmp)
        T.guard("positive checks", check_positive, exe, tmp)
        T.guard("dyad models", check_models_command, exe, tmp)
        T.guard("interrupt", check_interrupt, exe, tmp, outdir)
    T.finish()


if __name__ == "__main__":
    main()
