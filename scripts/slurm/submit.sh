#!/bin/bash
# Submits a Dyad run to SLURM as a job array of shards and a merge chained after it
# (docs/cluster.md).
#
#   scripts/slurm/submit.sh CONFIG OUTPUT.h5 N [--throttle K] [--array LIST] [--dyad EXE]
#                           [--sbatch "ARGS"] [-- DYAD RUN ARGS...]
#
# N shards (checked by `dyad plan CONFIG --shards N`, which also prints each shard's
# size and time), at most K tasks at once (%K; default 16). --array LIST submits only
# those shards again (the list `dyad merge --check` prints), with a new merge after
# them. --sbatch passes options to both sbatch calls (e.g. "--time=2:00:00
# --partition=short"). Prints the array's and the merge's job ids.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage() { sed -n '2,14p' "$0" >&2; exit 2; }
[ $# -ge 3 ] || usage
config=$1 output=$2 shards=$3
shift 3
throttle=16 array="" dyad=${DYAD:-$here/../../build/dyad} sbatch_args="" run_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --throttle) throttle=$2; shift 2 ;;
    --array) array=$2; shift 2 ;;
    --dyad) dyad=$2; shift 2 ;;
    --sbatch) sbatch_args=$2; shift 2 ;;
    --) shift; run_args=("$@"); break ;;
    *) usage ;;
  esac
done
case "$output" in *.h5) ;; *) echo "submit.sh: OUTPUT must end in .h5" >&2; exit 2 ;; esac
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || { echo "submit.sh: N must be a positive integer" >&2; exit 2; }
[[ "$throttle" =~ ^[1-9][0-9]*$ ]] || { echo "submit.sh: --throttle must be a positive integer" >&2; exit 2; }
dyad=$(cd "$(dirname "$dyad")" && pwd)/$(basename "$dyad")
config=$(cd "$(dirname "$config")" && pwd)/$(basename "$config")
mkdir -p "$(dirname "$output")"
output=$(cd "$(dirname "$output")" && pwd)/$(basename "$output")

# The plan validates the config and N (N <= work units) before anything is queued.
"$dyad" plan "$config" --shards "$shards" "${run_args[@]}" >&2
[ -n "$array" ] || array="1-$shards"

export DYAD="$dyad" DYAD_CONFIG="$config" DYAD_OUTPUT="$output" DYAD_SHARDS="$shards"
export DYAD_RUN_ARGS="${run_args[*]:-}"
logs="${output%.h5}.slurm"
mkdir -p "$logs"
# shellcheck disable=SC2086  # sbatch_args is a list of options
array_job=$(sbatch --parsable --export=ALL --array="$array%$throttle" --output="$logs/shard-%a.out" \
  $sbatch_args "$here/dyad_array.sbatch")
array_job=${array_job%%;*}
# shellcheck disable=SC2086
merge_job=$(sbatch --parsable --export=ALL --dependency="afterok:$array_job" --kill-on-invalid-dep=yes \
  --output="$logs/merge-%j.out" $sbatch_args "$here/dyad_merge.sbatch")
merge_job=${merge_job%%;*}
echo "array $array_job"
echo "merge $merge_job"
