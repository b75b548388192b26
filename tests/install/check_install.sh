#!/usr/bin/env bash
# Everything a user of an installed xunit does, against `cmake --install` into a temporary
# prefix: find_package and pkg-config consumers (shared and static), the tools finding the
# shipped models without flags, the Python package, the Dask example on 1 and 2 workers, and
# the Debian package from `cpack -G DEB`.
#   tests/install/check_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(realpath "$1")
src=$(realpath "$2")
work=$(mktemp -d /tmp/xunit-install-check.XXXXXX)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
py=/usr/bin/python3
step() { echo "== $*"; }

step "cmake --install into $prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in include/xunit/xunit.h lib/libxunit.a lib/cmake/xunit/xunitConfig.cmake \
         lib/cmake/xunit/xunitConfigVersion.cmake lib/pkgconfig/xunit.pc bin/xunit-run bin/xunit-convert \
         share/xunit/models/xdncnn-color.xunit lib/python3/dist-packages/xunit/__init__.py; do
  [ -e "$prefix/$f" ] || { echo "missing $f"; exit 1; }
done
soname=$(objdump -p "$prefix"/lib/libxunit.so.* | awk '/SONAME/ {print $2}' | head -1)
[ "$soname" = libxunit.so.1 ] || { echo "SONAME is '$soname'"; exit 1; }
# Only the C API is exported (no engine, oneDNN or C++ runtime symbols).
bad=$(nm -D --defined-only "$prefix/lib/libxunit.so.1" | awk '$2 ~ /[TDBRW]/ && $3 !~ /^xunit_/ {print $3}')
[ -z "$bad" ] || { echo "libxunit.so exports non-API symbols: $bad" | head -5; exit 1; }
model=$prefix/share/xunit/models/xdncnn-color.xunit
expect='PSNR [0-9.]+ dB -> (2[6-9]|3[0-9])\.'

step "find_package(xunit) consumer: shared and static"
cmake -S "$src/tests/install/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$prefix" \
      -DEXAMPLE_SOURCE="$src/examples/denoise_buffer.c" >/dev/null
cmake --build "$work/consumer" -j2 >/dev/null
[ "$(cat "$work/consumer/model_dir.txt")" = "$prefix/share/xunit/models" ]
for v in shared static; do
  "$work/consumer/denoise_$v" "$model" 2>/dev/null | tee "$work/$v.txt" | grep -Eq "$expect" ||
    { echo "denoise_$v: $(cat "$work/$v.txt")"; exit 1; }
  echo "   $v: $(cat "$work/$v.txt")"
done
# The static one carries the engine: it must not need libxunit.so.
! ldd "$work/consumer/denoise_static" | grep -q libxunit

step "pkg-config consumer"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
# shellcheck disable=SC2046
cc -std=c99 -Wall -Werror -o "$work/denoise_pc" "$src/examples/denoise_buffer.c" $(pkg-config --cflags --libs xunit) -lm
LD_LIBRARY_PATH=$prefix/lib "$work/denoise_pc" "$model" 2>/dev/null | grep -Eq "$expect"

step "installed tools find the shipped models without flags"
unset XUNIT_MODEL_DIR
"$prefix/bin/xunit-run" --list-models | grep -q xdncnn-color
mkdir -p "$work/images"
"$build/bin/xunit-imgtool" synth 160 120 "$work/images/a.png"
"$prefix/bin/xunit-run" -i "$work/images/a.png" -o "$work/a_out.png" -q
[ -s "$work/a_out.png" ]

step "Python package"
export PYTHONPATH=$prefix/lib/python3/dist-packages
"$py" "$src/tests/install/test_python.py" "$prefix/bin/xunit-run"
# The package, the library and pkg-config agree on the version.
[ "$(pkg-config --modversion xunit)" = "$("$py" -c 'import xunit; print(xunit.version())')" ]

step "Dask example: a LocalCluster of 1 and of 2 workers"
for i in 1 2 3 4 5 6; do "$build/bin/xunit-imgtool" synth $((90 + 17 * i)) $((70 + 9 * i)) "$work/images/img$i.png"; done
rm "$work/images/a.png"
"$py" "$src/examples/dask_folder.py" "$work/images" "$work/dask_out" --workers 1,2 --json "$work/dask.json" 2>"$work/dask.err" ||
  { cat "$work/dask.err"; exit 1; }
"$py" - "$work/dask.json" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1]))["runs"]
assert [r["workers"] for r in runs] == [1, 2] and all(r["images"] == 6 for r in runs), runs
PY
# Exactly what xunit-run writes for the same images on one thread, as each Dask task runs
# (oneDNN may block a convolution differently for another thread count: ~1e-7 apart).
"$prefix/bin/xunit-run" -i "$work/images" -o "$work/cli_out" -j 1 -q
"$py" - "$work/dask_out" "$work/cli_out" <<'PY'
import os, sys
import numpy as np
from PIL import Image
a, b = sys.argv[1], sys.argv[2]
names = sorted(os.listdir(b))
assert sorted(os.listdir(a)) == names and len(names) == 6, (os.listdir(a), names)
for n in names:
    assert np.array_equal(np.asarray(Image.open(os.path.join(a, n))), np.asarray(Image.open(os.path.join(b, n)))), n
print("   6 images, identical to xunit-run's")
PY
# Outputs that exist are not replaced unasked.
if "$py" "$src/examples/dask_folder.py" "$work/images" "$work/dask_out" 2>"$work/refuse.err"; then
  echo "dask_folder replaced existing outputs"; exit 1
fi
grep -q "pass --overwrite" "$work/refuse.err"

step "cpack -G DEB"
(cd "$build" && cpack -G DEB -B "$work/deb" >/dev/null)
deb=$(ls "$work"/deb/xunit_*.deb)
dpkg-deb -I "$deb" | grep -E "^ (Package|Version|Depends):"
# Every dependency it declares is a package this (Debian) system can satisfy.
dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/(.*)//; s/ //g' | while read -r p; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || { echo "Depends: $p not installed"; exit 1; }
done
if [ "$(id -u)" = 0 ]; then dpkg --dry-run -i "$deb" >/dev/null; fi
dpkg-deb -x "$deb" "$work/root"
for f in usr/bin/xunit-run usr/include/xunit/xunit.h usr/share/xunit/models/xdncnn-color.xunit \
         usr/lib/python3/dist-packages/xunit/__init__.py; do
  [ -e "$work/root/$f" ] || { echo "the package lacks $f"; exit 1; }
done
"$work/root/usr/bin/xunit-run" -i "$work/images/img1.png" -o "$work/deb_out.png" -q
cmp "$work/deb_out.png" "$work/cli_out/img1.png"
PYTHONPATH=$work/root/usr/lib/python3/dist-packages "$py" -c \
  "import xunit; m = xunit.Model(xunit.shipped_model_dir() + '/xdncnn-gray.xunit'); print('   deb python:', m)"
echo "install check passed"
