#!/usr/bin/python3
"""The README's commands, in order, as written: the shell blocks of "Use" and "Tidy
export", then that section's Python and R snippets.

    /usr/bin/python3 tests/scripts/test_readme.py build/dyad

They run in a temporary copy of configs/, scripts/ and results/README.md (what a fresh
clone has), with `build/dyad` at the start of a command replaced by the executable given;
nothing else of a command line is changed, so a command too slow for this test has to be
made smaller in the README itself. Every results/ file the commands name starts out as
a stale placeholder: the commands must also succeed right after scripts/run_example.sh
and when the README is followed a second time (outputs exist; only --overwrite replaces
them). Each command must exit 0; the one exception is `dyad targets`, which the README
says exits 1 when a validation target is missed (a finding about the model, not a
failure of the command): it must have printed its "N of M targets hold" line.

Not run: the opening block (scripts/run_example.sh and scripts/run_tests.sh install
packages with apt-get, build, and run the whole suite this test is part of) and the
Install block (cmake --install into ~/.local; tests/scripts/test_install.py installs into a
temporary prefix instead). The first check is that the opening block still starts with
those two commands. Prints one line per check and `N passed, M failed` last.
"""
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

T = common.Runner("readme")
README = common.REPO / "README.md"
SECTIONS = ("Use", "Tidy export")
TIMEOUT = 300
TARGETS_DONE = re.compile(r"^\d+ of \d+ targets hold", re.MULTILINE)


def blocks(text):
    """(section title, language, code) of every fenced block, in order."""
    out, section = [], None
    fence = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
    headings = [(m.start(), m.group(1).strip()) for m in re.finditer(r"^## (.+)$", text, re.MULTILINE)]
    for m in fence.finditer(text):
        section = None
        for start, title in headings:
            if start < m.start():
                section = title
        out.append((section, m.group(1), m.group(2)))
    return out


def commands(code):
    return [line for line in code.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def check_opening(text):
    first = blocks(text)[0]
    lines = commands(first[2])
    T.check("README: the opening block is still scripts/run_example.sh then scripts/run_tests.sh",
            first[0] is None and len(lines) >= 2 and lines[0].startswith("scripts/run_example.sh ")
            and lines[1].startswith("scripts/run_tests.sh "), lines[:2])


def fresh_copy(tmp):
    for name in ("configs", "scripts"):
        shutil.copytree(common.REPO / name, tmp / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    (tmp / "results").mkdir()
    shutil.copy(common.REPO / "results" / "README.md", tmp / "results" / "README.md")


def plant_stale_outputs(tmp, lines):
    """A placeholder for every results/ data file the commands name (inputs included: a
    command that reads a file before the README has written it fails on the placeholder)."""
    names = sorted({m for line in lines for m in re.findall(r"results/[\w.-]+\.(?:h5|csv|nc)\b", line)})
    for name in names:
        (tmp / name).write_text("stale output of an earlier run\n")
    return names


def run_shell(exe, tmp, line):
    cmd = re.sub(r"^build/dyad\b", lambda _: str(exe), line.strip())
    start = time.monotonic()
    proc = subprocess.run(["/bin/bash", "-c", cmd], cwd=tmp, capture_output=True, text=True,
                          timeout=TIMEOUT)
    return proc, time.monotonic() - start


def main():
    exe = common.exe_from_argv("test_readme")
    text = README.read_text()
    T.guard("opening block", check_opening, text)
    chosen = [(s, lang, code) for s, lang, code in blocks(text) if s in SECTIONS]
    shell = [line for s, lang, code in chosen if lang == "sh" for line in commands(code)]
    T.check(f"README: shell commands found in {', '.join(SECTIONS)}", len(shell) >= 15,
            f"{len(shell)} commands")
    with common.temp_dir("dyad_readme_") as d:
        tmp = Path(d)
        fresh_copy(tmp)
        stale = plant_stale_outputs(tmp, shell)
        print(f"stale placeholders: {', '.join(stale)}", flush=True)
        total = 0.0
        for s, lang, code in chosen:
            if lang == "sh":
                for line in commands(code):
                    proc, took = run_shell(exe, tmp, line)
                    total += took
                    short = line.split("  #")[0].strip()
                    if re.match(r"^build/dyad targets\b", line.strip()):
                        ok = proc.returncode == 0 or (proc.returncode == 1 and TARGETS_DONE.search(proc.stdout))
                        T.check(f"[{s}] {short} ({took:.1f} s): its table printed, exit 0 or 1 "
                                f"(exit {proc.returncode}: a target missed)" if proc.returncode == 1 else
                                f"[{s}] {short} ({took:.1f} s): exit 0", ok, common.describe(proc))
                    else:
                        T.check(f"[{s}] {short} ({took:.1f} s): exit 0", proc.returncode == 0,
                                common.describe(proc))
            elif lang == "python":
                start = time.monotonic()
                proc = subprocess.run([common.PYTHON, "-c", code], cwd=tmp, capture_output=True,
                                      text=True, timeout=TIMEOUT)
                took = time.monotonic() - start
                total += took
                T.check(f"[{s}] the Python snippet ({took:.1f} s): exit 0, prints the tables",
                        proc.returncode == 0 and "secure-secure" in proc.stdout, common.describe(proc))
            elif lang == "r":
                rscript = shutil.which("Rscript")
                if rscript is None:
                    T.skip(f"[{s}] the R snippet", "no Rscript (Debian r-base-core, r-cran-ncdf4)")
                    continue
                start = time.monotonic()
                proc = subprocess.run([rscript, "-e", code], cwd=tmp, capture_output=True,
                                      text=True, timeout=TIMEOUT)
                took = time.monotonic() - start
                total += took
                T.check(f"[{s}] the R snippet ({took:.1f} s): exit 0, prints the tables",
                        proc.returncode == 0 and "secure-secure" in proc.stdout, common.describe(proc))
        print(f"README commands: {total:.1f} s in all", flush=True)
    T.finish()


if __name__ == "__main__":
    main()
