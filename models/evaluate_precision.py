#!/usr/bin/python3
"""PSNR of the shipped models and the xUnit authors' checkpoints at each --precision, as xunit-run
gives it, on the same input files: what bfloat16 costs.

    /usr/bin/python3 models/evaluate_precision.py [--precision fp32,bf16,auto] [--json out.json]

Inputs, made once and given to every precision:
  denoise: noise sigma/255 * N(0, 1) added to each clean validation image (image i, sorted by
           name: torch.Generator().manual_seed(i)), clipped and rounded to 8 bits, saved as PNG
           (the saved-file protocol of the model cards); PSNR over all channels of the 8-bit
           output PNG against the clean image, mean over images.
  sr:      the validation HR image cropped to a multiple of the scale, PIL BICUBIC downscaled
           (uint8), saved as PNG; Y-PSNR (BT.601) of the output PNG with `scale` pixels shaved.
The authors' checkpoints (../shared/external/xunit-2018, converted here by xunit-convert) are
skipped with a message where that folder is absent. A precision the CPU cannot run (bf16 below
AVX-512) is reported as such. Every model runs with the CLI's defaults otherwise (--sigma auto).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import train  # noqa: E402

DATA = os.path.join(ROOT, "..", "shared", "data")
EXTERNAL = os.path.join(ROOT, "..", "shared", "external", "xunit-2018")

# (name, model file or authors' checkpoint, task, validation folder, sigma or scale, channels)
CASES = [
    ("xdncnn-gray", "models/xdncnn-gray.xunit", "denoise", "gray/set12", 25, 1),
    ("xdncnn-gray", "models/xdncnn-gray.xunit", "denoise", "gray/set12", 50, 1),
    ("xdncnn-color", "models/xdncnn-color.xunit", "denoise", "color/kodak24", 25, 3),
    ("xdncnn-color", "models/xdncnn-color.xunit", "denoise", "color/kodak24", 50, 3),
    ("xsrgan-x2", "models/xsrgan-x2.xunit", "sr", "color/set5", 2, 3),
    ("xsrgan-x4", "models/xsrgan-x4.xunit", "sr", "color/set5", 4, 3),
    ("authors' xdncnn s25", "external:xdncnn_res_f64k3k9_s25.pkl", "denoise", "gray/set12", 25, 1),
    ("authors' xdncnn s50", "external:xdncnn_res_f64k3k9_s50.pkl", "denoise", "gray/set12", 50, 1),
]


def make_inputs(task, folder, param, channels, out_dir):
    """Writes the inputs; returns {stem: reference [C,H,W] tensor} (the clean image, or the HR
    image's Y)."""
    refs = {}
    for i, f in enumerate(train.list_images(os.path.join(DATA, folder))):
        stem = "%03d" % i
        x = train.load_image(f, channels)
        if task == "denoise":
            n = torch.randn(x.shape, generator=torch.Generator().manual_seed(i))
            lr, refs[stem] = (x + param / 255.0 * n).clamp(0, 1), x
        else:
            hr = x[:, : x.shape[1] // param * param, : x.shape[2] // param * param]
            lr, refs[stem] = train.bicubic_down(hr, param), train.rgb_to_y(hr[None])[0]
        Image.fromarray(train.to_uint8(lr)).save(os.path.join(out_dir, stem + ".png"))
    return refs


def score(task, param, channels, refs, out_dir):
    vals = []
    for stem, ref in refs.items():
        out = train.load_image(os.path.join(out_dir, stem + ".png"), channels)
        if task == "denoise":
            vals.append(train.psnr(out, ref))
        else:
            s = param
            vals.append(train.psnr(train.rgb_to_y(out[None])[0][:, s:-s, s:-s], ref[:, s:-s, s:-s]))
    return float(np.mean(vals))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--precision", default="fp32,bf16,auto")
    ap.add_argument("--json", default=None)
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    args = ap.parse_args()
    run_bin = os.path.join(args.build_dir, "bin", "xunit-run")
    precisions = args.precision.split(",")
    results = {"precisions": precisions, "rows": []}
    with tempfile.TemporaryDirectory() as tmp:
        for k, (name, model, task, folder, param, channels) in enumerate(CASES):
            if model.startswith("external:"):
                pkl = os.path.join(EXTERNAL, model.split(":", 1)[1])
                if not os.path.exists(pkl):
                    print("skipped %s: %s is absent" % (name, pkl))
                    continue
                model = os.path.join(tmp, "authors_%d.xunit" % k)
                subprocess.run([os.path.join(args.build_dir, "bin", "xunit-convert"), pkl, model],
                               check=True, capture_output=True)
            else:
                model = os.path.join(ROOT, model)
            inp = os.path.join(tmp, "in_%d" % k)
            os.makedirs(inp)
            refs = make_inputs(task, folder, param, channels, inp)
            row = {"model": name, "task": task, "val": folder,
                   ("sigma" if task == "denoise" else "scale"): param, "psnr": {}}
            for p in precisions:
                out = os.path.join(tmp, "out_%d_%s" % (k, p))
                res = subprocess.run([run_bin, "-q", "-m", model, "-i", inp, "-o", out, "--precision", p],
                                     capture_output=True, text=True)
                if res.returncode != 0:
                    row["psnr"][p] = None
                    row.setdefault("refused", {})[p] = res.stderr.strip().splitlines()[-1]
                    continue
                row["psnr"][p] = score(task, param, channels, refs, out)
            base = row["psnr"].get("fp32")
            shown = ", ".join("%s %s" % (p, "refused" if v is None else "%.3f" % v) for p, v in row["psnr"].items())
            worst = max((abs(v - base) for v in row["psnr"].values() if v is not None and base is not None),
                        default=0.0)
            row["largest_difference_db"] = worst
            print("%-22s %-14s %-6s %s (largest difference %.3f dB)" % (
                name, folder, ("s%d" if task == "denoise" else "x%d") % param, shown, worst), flush=True)
            results["rows"].append(row)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
