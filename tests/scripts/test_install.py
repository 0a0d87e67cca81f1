#!/usr/bin/python3
"""`cmake --install`: dyad, the plotting scripts, the man page and the bash completion.

    /usr/bin/python3 tests/scripts/test_install.py BUILD_DIR

Installs BUILD_DIR into a temporary prefix (nothing is built: ctest runs after the
build, which made the man page and the completion), then checks that bin/dyad runs from
there, bin/dyad-plot-* reach their scripts (and plot_pairings.py beside them), the man
page (when help2man was found at configure time) and the completion exist, and that the
completion offers the commands and a command's options of `dyad --help`. Prints one
line per check and `N passed, M failed`.
"""
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

T = common.Runner("install")


def complete(completion, words):
    """COMPREPLY of the completion function for the command line `words` (last: being typed)."""
    script = (f"source {completion}\nCOMP_WORDS=({' '.join(repr(w) for w in words)})\n"
              f"COMP_CWORD={len(words) - 1}\n_dyad\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n")
    proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], capture_output=True, text=True,
                          timeout=30)
    return proc.stdout.split(), proc


def main():
    if len(sys.argv) != 2 or not (Path(sys.argv[1]) / "CMakeCache.txt").is_file():
        print(f"usage: {common.PYTHON} {sys.argv[0]} BUILD_DIR (a configured and built CMake build)",
              file=sys.stderr)
        sys.exit(2)
    build = Path(sys.argv[1]).resolve()
    cmake = shutil.which("cmake")
    cache = (build / "CMakeCache.txt").read_text()
    help2man = re.search(r"^HELP2MAN:FILEPATH=(.*)$", cache, re.M)
    has_help2man = bool(help2man and not help2man.group(1).endswith("-NOTFOUND"))
    with common.temp_dir("dyad-install-") as tmp:
        prefix = Path(tmp) / "prefix"
        proc = common.run([cmake, "--install", build, "--prefix", prefix], timeout=120)
        if not T.check("cmake --install BUILD --prefix TMP exits 0", proc.returncode == 0, common.describe(proc)):
            T.finish()
        dyad = prefix / "bin" / "dyad"
        proc = common.run([dyad, "--version"], cwd=tmp)
        T.check("TMP/bin/dyad --version runs from the prefix",
                proc.returncode == 0 and re.search(r"dyad \d+\.\d+\.\d+", proc.stdout), common.describe(proc))
        cfg = common.write(Path(tmp) / "tiny.ini", common.small_config(Path(tmp) / "tiny.h5", record="summary"))
        proc = common.run([dyad, "run", cfg, "--quiet"], cwd=tmp)
        T.check("the installed dyad runs a config", proc.returncode == 0 and (Path(tmp) / "tiny.h5").exists(),
                common.describe(proc))
        for name in ("pairings", "survival", "sweep", "sensitivity", "dynamics"):
            link = prefix / "bin" / f"dyad-plot-{name}"
            proc = common.run([link, "--help"], timeout=60)
            T.check(f"bin/dyad-plot-{name} --help runs (the script and plot_pairings.py found)",
                    proc.returncode == 0 and "usage" in proc.stdout.lower(), common.describe(proc))
        proc = common.run([prefix / "bin" / "dyad-plot-pairings", Path(tmp) / "tiny.h5", "--outdir", tmp], timeout=120)
        T.check("dyad-plot-pairings draws the installed dyad's file",
                proc.returncode == 0 and list(Path(tmp).glob("tiny_*.png")), common.describe(proc))
        man = prefix / "share" / "man" / "man1" / "dyad.1"
        if has_help2man:
            text = man.read_text() if man.exists() else ""
            T.check("share/man/man1/dyad.1 exists and has the commands and their options",
                    "export" in text and "\\-\\-layout" in text and "\\-\\-reference" in text, str(man))
            proc = common.run(["man", "-l", man], timeout=30) if shutil.which("man") else None
            if proc is not None:
                T.check("man -l renders it", proc.returncode == 0 and "dyad" in proc.stdout, common.describe(proc))
        else:
            T.skip("man page", "help2man was not found when the build was configured (scripts/setup.sh installs it)")
        completion = prefix / "share" / "bash-completion" / "completions" / "dyad"
        if T.check("share/bash-completion/completions/dyad exists", completion.is_file(), str(completion)):
            usage = common.run([dyad, "--help"]).stdout
            commands = re.findall(r"^  ([a-z]+) ", usage.split("commands:")[1], re.M)
            commands = [c for c in commands if c != "dyad"]
            got, proc = complete(completion, ["dyad", ""])
            T.check(f"completion offers every command of dyad --help ({len(commands)})",
                    set(commands) <= set(got) and "export" in got, f"{got} vs {commands}; {proc.stderr}")
            got, proc = complete(completion, ["dyad", "ex"])
            T.check("completion: 'dyad ex' -> export", got == ["export"], f"{got}; {proc.stderr}")
            got, proc = complete(completion, ["dyad", "export", "x.h5", "--"])
            T.check("completion: export's options (--layout, --format, --output, --overwrite)",
                    {"--layout", "--format", "--output", "--overwrite"} <= set(got), f"{got}; {proc.stderr}")
            got, proc = complete(completion, ["dyad", "export", "x.h5", "--layout", ""])
            T.check("completion: --layout -> couple person", got == ["couple", "person"], f"{got}; {proc.stderr}")
    T.finish()


if __name__ == "__main__":
    main()
