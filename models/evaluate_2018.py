#!/usr/bin/python3
"""PSNR of the xUnit authors' 2018 checkpoints (models/xunit2018.py) in PyTorch, and optionally
of the same networks run by xunit-run, on the same inputs.

    /usr/bin/python3 models/evaluate_2018.py [--ckpt-dir ../shared/external/xunit-2018]
        [--data ../shared/data] [--only dncnn|srcnn] [--json out.json]
        [--model NAME=path.xunit ...] [--xunit-run build/bin/xunit-run] [--threads 1]

Protocol (the authors' run_net.py, on held-out sets that live in shared/data):
  denoising (xdncnn_res_f64k3k9_s25/s50.pkl), gray/set12, images sorted by name, index i = 0..11:
    x = uint8 / 255 (gray [0, 1]); noisy = x + sigma/255 * randn(x.shape,
    generator=torch.Generator().manual_seed(i)), NOT clipped; the net returns
    clean = noisy - joints(...); score PSNR(clamp(clean, 0, 1), x), peak 1, whole image;
    mean over the 12 images. Each checkpoint is scored at its own sigma (25 / 50).
  super-resolution (xsrcnn{f,c}_s{3,4}_*.pkl), color/set5, sorted by name:
    HR uint8 RGB cropped (top-left) to a multiple of the scale; LR = PIL BICUBIC downscale of
    the uint8 HR; up = PIL BICUBIC upscale of the uint8 LR back to the HR size; Y = 16/255 +
    (65.481 R + 128.553 G + 24.966 B)/255 with RGB = uint8/255 (float, not re-quantized);
    the net maps Y(up) -> Y directly (no residual; the script also prints the PSNR of the
    residual reading Y(up) + net(Y(up)) to show it); score PSNR(clamp(out, 0, 1), Y(HR)),
    peak 1, `scale` pixels shaved at each border; mean over the 5 images; baseline = Y(up).

With --model NAME=file.xunit (NAME a checkpoint stem, e.g. xsrcnnf_s3_k9k3k5), the inputs
(float32 (H, W, 1) .npy) are also run through xunit-run and scored the same way, with the max
|xunit - pytorch| reported.
"""

import argparse
import glob
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
from xunit2018 import load_2018_checkpoint  # noqa: E402

DEFAULT_CKPT = os.path.join(os.path.dirname(ROOT), "shared", "external", "xunit-2018")
DEFAULT_DATA = os.path.join(os.path.dirname(ROOT), "shared", "data")

DENOISE = [("xdncnn_res_f64k3k9_s25", 25), ("xdncnn_res_f64k3k9_s50", 50)]
SR = [("xsrcnnf_s3_k9k3k5", 3), ("xsrcnnf_s4_k9k3k5", 4),
      ("xsrcnnc_s3_c42c32", 3), ("xsrcnnc_s4_c42c32", 4)]


def psnr(a, b):
    mse = float(((a.double() - b.double()) ** 2).mean())
    return -10.0 * np.log10(mse)


def rgb_to_y(rgb):
    """BT.601 studio-range Y of a float RGB array in [0, 1], (H, W, 3) -> (H, W)."""
    return (16.0 + 65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255.0


def denoise_cases(data_dir, sigma):
    """[(key, noisy [1,1,H,W], clean [1,1,H,W])] for gray/set12 at `sigma`."""
    out = []
    for i, p in enumerate(sorted(glob.glob(os.path.join(data_dir, "gray", "set12", "*.png")))):
        x = torch.from_numpy(np.asarray(Image.open(p).convert("L"), dtype=np.float32) / 255.0)
        x = x[None, None]
        n = torch.randn(x.shape, generator=torch.Generator().manual_seed(i), dtype=torch.float32)
        out.append(("%02d_s%d" % (i, sigma), x + float(sigma) / 255.0 * n, x))
    return out


def sr_cases(data_dir, scale):
    """[(key, Y(bicubic up) [1,1,H,W], Y(HR) [1,1,H,W])] for color/set5 at `scale`."""
    out = []
    for p in sorted(glob.glob(os.path.join(data_dir, "color", "set5", "*.png"))):
        hr = Image.open(p).convert("RGB")
        w, h = hr.size
        w, h = w - w % scale, h - h % scale
        hr = hr.crop((0, 0, w, h))
        lr = hr.resize((w // scale, h // scale), resample=Image.BICUBIC)
        up = lr.resize((w, h), resample=Image.BICUBIC)
        y_hr = rgb_to_y(np.asarray(hr, dtype=np.float64) / 255.0)
        y_up = rgb_to_y(np.asarray(up, dtype=np.float64) / 255.0)
        key = "%s_x%d" % (os.path.splitext(os.path.basename(p))[0], scale)
        out.append((key, torch.from_numpy(y_up.astype(np.float32))[None, None],
                    torch.from_numpy(y_hr.astype(np.float32))[None, None]))
    return out


def score_denoise(outputs, cases):
    return float(np.mean([psnr(outputs[k].clamp(0, 1), x) for k, _, x in cases]))


def score_sr(outputs, cases, scale):
    s = scale
    return float(np.mean([psnr(outputs[k].clamp(0, 1)[..., s:-s, s:-s], y[..., s:-s, s:-s])
                          for k, _, y in cases]))


def run_xunit(xunit_run, model, cases, threads):
    with tempfile.TemporaryDirectory() as tmp:
        ind, outd = os.path.join(tmp, "in"), os.path.join(tmp, "out")
        os.makedirs(ind)
        for k, inp, _ in cases:
            np.save(os.path.join(ind, k + ".npy"), inp[0].permute(1, 2, 0).numpy())
        subprocess.run([xunit_run, "-q", "-m", model, "-i", ind, "-o", outd,
                        "-j", str(threads)], check=True)
        return {k: torch.from_numpy(np.load(os.path.join(outd, k + ".npy"))).permute(2, 0, 1)[None]
                for k, _, _ in cases}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ckpt-dir", default=DEFAULT_CKPT)
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--only", choices=["dncnn", "srcnn"], default=None)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", default=None)
    ap.add_argument("--model", action="append", default=[],
                    help="NAME=path.xunit: also score xunit-run on checkpoint NAME's inputs")
    ap.add_argument("--xunit-run", default=os.path.join(ROOT, "build", "bin", "xunit-run"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    engine = dict(m.split("=", 1) for m in args.model)
    results = {}

    jobs = []
    if args.only in (None, "dncnn"):
        jobs += [(name, "denoise", sigma) for name, sigma in DENOISE]
    if args.only in (None, "srcnn"):
        jobs += [(name, "sr", scale) for name, scale in SR]
    for name, task, param in jobs:
        model = load_2018_checkpoint(os.path.join(args.ckpt_dir, name + ".pkl"))
        r = {}
        if task == "denoise":
            cases = denoise_cases(args.data, param)
            with torch.no_grad():
                ref = {k: model(inp) for k, inp, _ in cases}
            r["sigma"] = param
            r["pytorch"] = score_denoise(ref, cases)
            r["noisy"] = score_denoise({k: inp for k, inp, _ in cases}, cases)
            # the residual reading check: the raw network output taken as the clean image
            r["raw_output_as_clean"] = score_denoise({k: inp - ref[k] for k, inp, _ in cases},
                                                     cases)
            r["per_image"] = {k: psnr(ref[k].clamp(0, 1), x) for k, _, x in cases}
            print("%-24s sigma %d  pytorch %.3f dB  (noisy %.3f; raw output as clean %.2f)" % (
                name, param, r["pytorch"], r["noisy"], r["raw_output_as_clean"]), flush=True)
            score = lambda outs: score_denoise(outs, cases)  # noqa: E731
        else:
            cases = sr_cases(args.data, param)
            with torch.no_grad():
                ref = {k: model(inp) for k, inp, _ in cases}
            r["scale"] = param
            r["pytorch"] = score_sr(ref, cases, param)
            r["bicubic"] = score_sr({k: inp for k, inp, _ in cases}, cases, param)
            r["as_residual"] = score_sr({k: inp + ref[k] for k, inp, _ in cases}, cases, param)
            s = param
            r["per_image"] = {k: psnr(ref[k].clamp(0, 1)[..., s:-s, s:-s], y[..., s:-s, s:-s])
                              for k, _, y in cases}
            print("%-24s x%d  pytorch %.3f dB  bicubic %.3f dB  (read as residual: %.2f)" % (
                name, param, r["pytorch"], r["bicubic"], r["as_residual"]), flush=True)
            score = lambda outs: score_sr(outs, cases, param)  # noqa: E731
        if name in engine:
            outs = run_xunit(args.xunit_run, engine[name], cases, args.threads)
            r["xunit"] = score(outs)
            r["max_abs_diff"] = float(max((outs[k] - ref[k]).abs().max() for k in ref))
            print("%-24s      xunit   %.3f dB  (max |xunit - pytorch| %.2e)" % (
                name, r["xunit"], r["max_abs_diff"]), flush=True)
        results[name] = r
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
