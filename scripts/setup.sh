#!/usr/bin/env bash
# Installs the build and test dependencies from Debian packages (idempotent; quiet when present).
set -euo pipefail
packages=(cmake g++ make pkg-config libdnnl-dev libstb-dev doctest-dev libbenchmark-dev zlib1g-dev
          libonnx-dev libprotobuf-dev  # ONNX import: the ONNX protobuf schema and runtime
          libjpeg62-turbo-dev libpng-dev libwebp-dev libtiff-dev libexif-dev  # xunit-run's codecs
          clang-format  # scripts/check_format.sh
          clang libclang-rt-dev  # clang + its sanitizer/fuzzer runtimes: the libFuzzer targets
          python3-numpy python3-pil python3-dask python3-distributed)  # the Python package, the Dask example
if [ "${XUNIT_WITH_TORCH:-0}" = 1 ]; then
  packages+=(python3-torch)  # only to regenerate fixtures / train models
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
