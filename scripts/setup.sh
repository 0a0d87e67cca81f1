#!/usr/bin/env bash
# Installs the Debian packages Dyad needs (only those missing), then configures and
# builds. Usage: scripts/setup.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

packages=(
  build-essential cmake pkg-config
  libeigen3-dev libboost-program-options-dev libhdf5-dev hdf5-tools
  libfmt-dev doctest-dev librandom123-dev
  python3-h5py python3-numpy python3-matplotlib python3-xarray python3-netcdf4
  python3-h5netcdf netcdf-bin python3-pandas python3-statsmodels python3-openturns
  clang-14 libclang-rt-14-dev
  help2man r-base-core r-cran-ncdf4
  slurm-wlm munge
  # mpirun -np R dyad run (docs/cluster.md "MPI"). Never libhdf5-openmpi-dev: it would
  # switch pkg-config's hdf5 to the MPI flavour, and rank 0 alone writes, with the serial one.
  openmpi-bin libopenmpi-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

build=${1:-"$here/build"}
shift || true
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$build" -j "${DYAD_JOBS:-$(nproc)}"
