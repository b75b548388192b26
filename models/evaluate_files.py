#!/usr/bin/python3
"""Denoising as a user meets it: noisy images as files (PNG, JPEG), run by xunit-run.

    /usr/bin/python3 models/evaluate_files.py --model models/xdncnn-color.xunit \\
        [--model OLD.xunit ...] [--val-dir ../shared/data/color/kodak24] [--sigma 25] \
        [--precision fp32,bf16] [--json out.json]

For each model (all given the same files):
  * unclipped: noisy = x + sigma/255 N(0,1) as float .npy (the training papers' protocol);
  * png:       the same noise, clipped and rounded to 8 bits, written as PNG;
  * jpeg95:    that PNG's pixels written as JPEG quality 95 (PIL, 4:2:0);
  * white / black page: a 512x512 page of 255 (0) with the noise, saved as PNG: the mean and
    standard deviation of the denoised page (a clean page is 255 / 0 with no spread);
  * clean: the clean images themselves (PNG): what denoising costs an image without noise.
Noise for image i (sorted by name) is drawn by torch.Generator().manual_seed(i). PSNR over all
channels of the 8-bit output files (npy: of the output clamped to [0, 1]), mean over images.
Every model is run with the CLI's defaults (--sigma auto for noise-level-conditioned models),
once per --precision (default: the CLI's, fp32); results are keyed MODEL, or MODEL@PRECISION
when more than one precision is asked for.
--as-rgb: gray images (and the same noise) stored as RGB files, what a black-and-white photo
saved as RGB is: xunit-run routes such content to a gray model (given as xdncnn-color or
xdncnn-gray by name); a model given by its path runs as it is.
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
import xunit_file  # noqa: E402


def psnr(a, b):
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)


def save_u8(a, path, **kw):
    a = np.clip(np.round(a * 255.0), 0, 255).astype(np.uint8)
    Image.fromarray(a[:, :, 0] if a.shape[2] == 1 else a).save(path, **kw)


def load_unit(path):
    if path.endswith(".npy"):
        a = np.clip(np.load(path), 0, 1)
    else:
        a = np.asarray(Image.open(path), dtype=np.float32) / 255.0
    return a if a.ndim == 3 else a[:, :, None]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", action="append", required=True)
    ap.add_argument("--val-dir", default=os.path.join(ROOT, "..", "shared", "data", "color", "kodak24"))
    ap.add_argument("--sigma", type=float, default=25.0)
    ap.add_argument("--xunit-run", default=os.path.join(ROOT, "build", "bin", "xunit-run"))
    ap.add_argument("--json", default=None)
    ap.add_argument("--precision", default="fp32", help="comma-separated: fp32, bf16, auto")
    ap.add_argument("--as-rgb", action="store_true", help="gray images stored as RGB (see above)")
    args = ap.parse_args()

    files = train.list_images(args.val_dir)
    if args.as_rgb:
        channels = 1
    else:
        channels = {int(xunit_file.read(m)[0]["in_channels"]) for m in args.model}
        if len(channels) != 1:
            raise SystemExit("the models take different channel counts")
        channels = channels.pop()
    s = args.sigma / 255.0
    results = {"val_dir": train.repo_path(args.val_dir), "sigma": args.sigma, "as_rgb": args.as_rgb,
               "models": {}}
    with tempfile.TemporaryDirectory() as tmp:
        sets = {k: os.path.join(tmp, k) for k in ("unclipped", "png", "jpeg95", "pages", "clean")}
        for d in sets.values():
            os.makedirs(d)
        cleans = {}
        for i, f in enumerate(files):
            x = train.load_image(f, channels)
            n = torch.randn(x.shape, generator=torch.Generator().manual_seed(i))
            clean = x.permute(1, 2, 0).numpy()
            noisy = (x + s * n).permute(1, 2, 0).numpy().astype(np.float32)
            if args.as_rgb:
                clean, noisy = np.repeat(clean, 3, axis=2), np.repeat(noisy, 3, axis=2)
            stem = "%03d" % i
            cleans[stem] = clean
            np.save(os.path.join(sets["unclipped"], stem + ".npy"), noisy)
            save_u8(np.clip(noisy, 0, 1), os.path.join(sets["png"], stem + ".png"))
            save_u8(np.clip(noisy, 0, 1), os.path.join(sets["jpeg95"], stem + ".jpg"), quality=95)
            save_u8(clean, os.path.join(sets["clean"], stem + ".png"))
        page_noise = torch.randn((512, 512, channels), generator=torch.Generator().manual_seed(1000)).numpy()
        if args.as_rgb:
            page_noise = np.repeat(page_noise, 3, axis=2)
        save_u8(np.clip(1.0 + s * page_noise, 0, 1), os.path.join(sets["pages"], "white.png"))
        save_u8(np.clip(0.0 + s * page_noise, 0, 1), os.path.join(sets["pages"], "black.png"))

        precisions = args.precision.split(",")
        for model, precision in [(m, p) for m in args.model for p in precisions]:
            res = {}
            for name, d in sets.items():
                out = os.path.join(tmp, "out_%d_%s" % (len(results["models"]), name))
                subprocess.run([args.xunit_run, "-q", "-m", model, "-i", d, "-o", out,
                                "--precision", precision], check=True)
                if name == "pages":
                    for page in ("white", "black"):
                        a = load_unit(os.path.join(out, page + ".png")) * 255.0
                        res[page + "_page"] = {"mean": float(a.mean()), "std": float(a.std())}
                    continue
                ext = {"unclipped": ".npy", "jpeg95": ".jpg"}.get(name, ".png")
                res[name] = float(np.mean([psnr(load_unit(os.path.join(out, stem + ext)), c)
                                           for stem, c in cleans.items()]))
            key = train.repo_path(model) if os.path.exists(model) else model
            key += "@" + precision if len(precisions) > 1 else ""
            results["models"][key] = res
            print("%s: %s" % (os.path.basename(key), json.dumps(res)), flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
