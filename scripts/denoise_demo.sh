#!/usr/bin/env bash
# The main job: set up, build, and denoise an image with the shipped default model.
# usage: scripts/denoise_demo.sh [INPUT [OUTPUT]]   (default: a noisy test image made here)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
input=${1:-build/demo/noisy.png}
output=${2:-build/demo/denoised.png}
if [ $# -eq 0 ]; then
  mkdir -p build/demo
  build/bin/xunit-imgtool synth 640 480 build/demo/clean.png build/demo/noisy.png --sigma 25 --seed 1
fi
build/bin/xunit-run -i "$input" -o "$output" -y
echo "denoised: $output"
if [ $# -eq 0 ]; then
  echo "PSNR noisy:    $(build/bin/xunit-imgtool psnr build/demo/clean.png build/demo/noisy.png) dB"
  echo "PSNR denoised: $(build/bin/xunit-imgtool psnr build/demo/clean.png "$output") dB"
fi
