#!/usr/bin/env bash
# Installs what is missing, builds, runs the main example (configs/secure_vs_mixed.ini)
# into results/, prints the comparison table and draws the plots.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
scripts/setup.sh build
config=${1:-configs/secure_vs_mixed.ini}
stem=results/$(basename "$config" .ini)
build/dyad run "$config" -o "$stem.h5" --overwrite
# _summary: $stem.csv is `dyad export`'s default name for the file's couples (README).
build/dyad summarize "$stem.h5" --format csv > "${stem}_summary.csv"
build/dyad summarize "$stem.h5" > "${stem}_summary.txt"
# Not `summarize | head`: under pipefail the closed pipe would end the script here.
sed -n 1,40p "${stem}_summary.txt"
echo "... full table: ${stem}_summary.txt (CSV: ${stem}_summary.csv)"
/usr/bin/python3 scripts/plot_pairings.py "$stem.h5"
# Staying together per pairing (Kaplan-Meier), where the model lets couples part.
if build/dyad inspect "$stem.h5" | grep run_dissolution_day >/dev/null; then
  /usr/bin/python3 scripts/plot_survival.py "$stem.h5"
fi
