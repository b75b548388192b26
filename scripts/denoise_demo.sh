#!/usr/bin/env bash
# The main job: set up, build, and denoise an image with the shipped default model.
# usage: scripts/denoise_demo.sh [INPUT [OUTPUT]]
# Without arguments: makes a test image (build/demo/clean.png), adds noise of sigma 25
# (build/demo/noisy.png), denoises it (build/demo/denoised.png) and prints the PSNR of both.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
if [ $# -gt 0 ]; then
  build/bin/xunit-run -i "$1" -o "${2:-${1%.*}-denoised.png}" -y
  exit
fi
mkdir -p build/demo
build/bin/xunit-imgtool synth 640 480 build/demo/clean.png
echo -n "noisy:    "
build/bin/xunit-run --add-noise 25 --seed 1 --no-model -q -y -i build/demo/clean.png -o build/demo/noisy.png \
  --psnr build/demo/clean.png
echo -n "denoised: "
build/bin/xunit-run -q -y -i build/demo/noisy.png -o build/demo/denoised.png --psnr build/demo/clean.png
echo "wrote build/demo/noisy.png and build/demo/denoised.png"
