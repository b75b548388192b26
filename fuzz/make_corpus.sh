#!/usr/bin/env bash
# Regenerates the seed corpora in fuzz/corpus/ from the test fixtures and the built tools
# (build/bin). Small files only: libFuzzer mutates and grows them.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/bin
out=fuzz/corpus
rm -rf "$out" && mkdir -p "$out"/{fuzz_xunit_model,fuzz_checkpoint,fuzz_safetensors,fuzz_image,fuzz_onnx}
fx=tests/fixtures
# checkpoints: zip, legacy, wrapped, safetensors, the hostile reader fixtures
for f in $fx/readers/*.pt $fx/parity/xdncnn_c3_f16_b2/model*.pt $fx/parity/xsrgan_c1_f16_b1_x4/model.pt \
         $fx/parity/dncnn_c3_f16_b3/model.safetensors; do
  cp "$f" "$out/fuzz_checkpoint/$(echo "$f" | tr '/' '_')"
done
for f in $fx/readers/*.safetensors $fx/parity/{xdncnn_c3_f16_b1_k5,xsrgan_c3_f16_b2_x2}/model.safetensors; do
  cp "$f" "$out/fuzz_safetensors/$(echo "$f" | tr '/' '_')"
done
# ONNX: small exports (every op, resize modes), refused exports, hostile protobuf
for f in $fx/onnx/zoo_opset11/model.onnx $fx/onnx/resize_*_x3_opset17/model.onnx \
         $fx/onnx/xdncnn_vanilla_gray_opset13/model.onnx $fx/onnx/errors/*.onnx $fx/hostile/onnx_*.onnx \
         $fx/onnx/layouts_x2_opset13/model.onnx $fx/zoo/realesrgan_x2plus_archutil/model.onnx; do
  cp "$f" "$out/fuzz_onnx/$(echo "$f" | tr '/' '_')"
done
# .xunit models without their SHA-256 trailer (the target appends it)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# (tiny networks: a fuzzing run hashes and parses every input)
/usr/bin/python3 - "$tmp" <<'PY'
import sys, torch
sys.path.insert(0, "models")
from xunit_models import build
torch.manual_seed(0)
for name, arch, cfg in [("xdncnn", "xdncnn", dict(in_channels=3, num_features=4, gen_blocks=1, kernel_size=3)),
                        ("dncnn", "dncnn", dict(in_channels=1, num_features=4, gen_blocks=1)),
                        ("xsrgan", "xsrgan", dict(in_channels=1, num_features=4, gen_blocks=1, scale=2, kernel_size=3))]:
    torch.save(build(arch, **cfg).state_dict(), "%s/%s.pt" % (sys.argv[1], name))
PY
for c in xdncnn dncnn xsrgan; do
  "$bin/xunit-convert" "$tmp/$c.pt" "$tmp/$c.xunit" 2>/dev/null
  head -c -32 "$tmp/$c.xunit" > "$out/fuzz_xunit_model/$c"
done
# images: every decoder and bit depth, small
"$bin/xunit-imgtool" synth 9 7 "$tmp/rgb.png"
"$bin/xunit-run" --add-noise 0 --no-model -q -i "$tmp/rgb.png" -o "$tmp/rgb.jpg"
"$bin/xunit-run" --add-noise 0 --no-model -q -i "$tmp/rgb.png" -o "$tmp/rgb.bmp"
"$bin/xunit-run" --add-noise 0 --no-model -q -i "$tmp/rgb.png" -o "$tmp/rgb.tga"
"$bin/xunit-run" --add-noise 0 --no-model -q -i "$tmp/rgb.png" -o "$tmp/rgb.webp"
"$bin/xunit-run" --add-noise 0 --no-model -q -i "$tmp/rgb.png" -o "$tmp/rgb.tif"
"$bin/xunit-run" --add-noise 0 --no-model -q -i "$tmp/rgb.png" -o "$tmp/rgb.npy"
cp "$tmp"/rgb.* "$out/fuzz_image/"
for f in $fx/parity/xdncnn_c1_f24_b3/input.npy; do cp "$f" "$out/fuzz_image/gray.npy"; done
/usr/bin/python3 - "$out/fuzz_image" <<'PY'
import sys, numpy as np
from PIL import Image
d = sys.argv[1]
rng = np.random.RandomState(0)
Image.fromarray(rng.randint(0, 255, (6, 5, 4), dtype=np.uint8), "RGBA").save(d + "/rgba.png")
Image.fromarray(rng.randint(0, 255, (6, 5), dtype=np.uint8), "L").save(d + "/gray.png")
Image.fromarray(rng.randint(0, 255, (6, 5, 2), dtype=np.uint8), "LA").save(d + "/gray_alpha.png")
Image.fromarray(rng.randint(0, 65535, (6, 5), dtype=np.uint16).astype(np.int32), "I").convert("I;16").save(d + "/gray16.png")
PY
# (inputs that once crashed a target live in fuzz/regressions/TARGET; scripts/fuzz.sh adds them)
ls "$out"/* | wc -l
