#!/usr/bin/env bash
# Installs what is missing, then builds and runs every test: a CI build with warnings
# as errors; the same suite under AddressSanitizer + UndefinedBehaviorSanitizer; the
# threaded engine and writer under ThreadSanitizer; and a bounded libFuzzer run over
# the config reader and sweep expansion (clang).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
jobs=$(nproc)

echo "== release build, -Werror"
scripts/setup.sh build-ci -DDYAD_WERROR=ON
# Tests side by side, one per core: most are one Python process driving one dyad at a
# time, so one at a time left a core idle (the CI run took 56 minutes on 2 cores). Each
# test works in its own temporary directory; the data do not depend on timing.
ctest --test-dir build-ci --output-on-failure --parallel "$jobs"

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build"
# Without MPI: Debian's OpenMPI is not instrumented and patches the allocator hooks
# AddressSanitizer owns; `ctest mpi` runs in the release build above (and skips here).
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDYAD_WERROR=ON \
      -DDYAD_SANITIZE=address,undefined -DDYAD_USE_MPI=OFF >/dev/null
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  LSAN_OPTIONS=suppressions="$here/tests/lsan_suppressions.txt" \
  ctest --test-dir build-asan --output-on-failure --parallel "$jobs"

echo "== ThreadSanitizer: the threaded engine and the writer thread"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDYAD_WERROR=ON \
      -DDYAD_SANITIZE=thread -DDYAD_USE_MPI=OFF >/dev/null
cmake --build build-tsan -j "$jobs" --target dyad_tests
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 build-tsan/dyad_tests \
  --test-case='golden hash*,*stop request*,*sink failure*,day blocks*,H5Writer*,data_hash*,seeds*'

echo "== libFuzzer: config reader and sweep expansion, 60 s"
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DDYAD_WERROR=ON -DDYAD_FUZZ=ON -DDYAD_SANITIZE=address,undefined -DDYAD_USE_MPI=OFF >/dev/null
cmake --build build-fuzz -j "$jobs" --target dyad_fuzz_config
# Inputs that once failed are run first, one by one, as regression tests.
regressions=(tests/fuzz/regressions/*)
if [ -e "${regressions[0]}" ]; then build-fuzz/dyad_fuzz_config "${regressions[@]}"; fi
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
cp tests/fuzz/corpus/* "$corpus"/
if ! build-fuzz/dyad_fuzz_config -max_total_time=60 -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
       -print_final_stats=1 -artifact_prefix=build-fuzz/ "$corpus" > build-fuzz/fuzz.log 2>&1; then
  tail -n 60 build-fuzz/fuzz.log
  echo "fuzz: a failing input was saved in build-fuzz/ (crash-*, timeout-*, oom-*); add it to tests/fuzz/regressions/"
  exit 1
fi
grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb)" build-fuzz/fuzz.log
