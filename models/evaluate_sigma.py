#!/usr/bin/python3
"""How well `--sigma auto` does against the best fixed sigma, image by image, in the engine.

    /usr/bin/python3 models/evaluate_sigma.py --model models/xdncnn-color.xunit \\
        --val-dir ../shared/data/color/kodak24 [--sigmas 0,5,10,15,25,35,50] [--json out.json]

Saved-file protocol (as models/train.py's val_protocol "file"): for image i (sorted by name),
noisy = round(clip(x + sigma/255 * N(0,1), 0, 1) * 255) / 255 with N drawn by
torch.Generator().manual_seed(i). Each noisy image is denoised by the engine (the Python
binding, fp32) with the sigma xunit_estimate_noise_level estimates (what --sigma auto runs),
and with fixed sigmas on a grid around the true one (true x 0.6 .. 1.4, and 0); the best of
the grid is "the best fixed sigma". Reported per sigma: the estimate's mean and spread, the mean
PSNR with auto, with the true sigma and with the best fixed one, and the worst gap (best fixed -
auto) over the images; for sigma 0 (clean input) the worst PSNR with auto (target >= 45 dB).
"""

import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "python"))
import train  # noqa: E402  (image loading and PSNR as in training)
import xunit  # noqa: E402

GRID = (0.6, 0.8, 0.9, 1.0, 1.1, 1.2, 1.4)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--val-dir", required=True)
    ap.add_argument("--sigmas", default="0,5,10,15,25,35,50")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    model = xunit.Model(args.model)
    channels = int(model.metadata("in_channels"))
    files = train.list_images(args.val_dir)
    sigmas = [float(s) for s in args.sigmas.split(",")]

    def denoise(noisy, sigma):
        out = model.run(noisy, sigma=float(sigma), threads=args.threads, check_range=False)
        return torch.from_numpy(np.clip(out, 0, 1).reshape(noisy.shape))

    rows = []
    for i, f in enumerate(files):
        x = train.load_image(f, channels)
        n = torch.randn(x.shape, generator=torch.Generator().manual_seed(i))
        clean = x.permute(1, 2, 0).contiguous()
        for s in sigmas:
            noisy_t = (x + s / 255.0 * n).clamp(0, 1).mul(255.0).round().div(255.0)
            noisy = noisy_t.permute(1, 2, 0).contiguous().numpy()
            est = float(xunit.estimate_noise_level(noisy))
            row = {"image": os.path.basename(f), "sigma": s, "estimate": est,
                   "auto": train.psnr(denoise(noisy, est), clean)}
            grid = sorted({round(s * g, 3) for g in GRID} | {0.0})
            scores = {g: train.psnr(denoise(noisy, g), clean) for g in grid}
            row["true"] = scores[round(s, 3)]
            row["best_fixed_sigma"], row["best_fixed"] = max(scores.items(), key=lambda kv: kv[1])
            row["gap"] = row["best_fixed"] - row["auto"]
            rows.append(row)
        print("%s: %s" % (os.path.basename(f), " ".join(
            "%g:est %.1f gap %.2f" % (r["sigma"], r["estimate"], r["gap"])
            for r in rows if r["image"] == os.path.basename(f))), flush=True)

    summary = {}
    print("\nsigma | estimate mean (min..max) | PSNR auto | true sigma | best fixed | worst gap")
    for s in sigmas:
        rs = [r for r in rows if r["sigma"] == s]
        est = [r["estimate"] for r in rs]
        summary[str(s)] = {
            "estimate_mean": float(np.mean(est)), "estimate_min": min(est), "estimate_max": max(est),
            "auto": float(np.mean([r["auto"] for r in rs])),
            "true": float(np.mean([r["true"] for r in rs])),
            "best_fixed": float(np.mean([r["best_fixed"] for r in rs])),
            "worst_gap": max(r["gap"] for r in rs),
            "worst_auto": min(r["auto"] for r in rs),
        }
        m = summary[str(s)]
        print("%5g | %.2f (%.2f..%.2f) | %.2f | %.2f | %.2f | %.2f%s" % (
            s, m["estimate_mean"], m["estimate_min"], m["estimate_max"], m["auto"], m["true"],
            m["best_fixed"], m["worst_gap"], "  (worst auto %.2f dB)" % m["worst_auto"] if s == 0 else ""))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"model": train.repo_path(args.model), "val_dir": train.repo_path(args.val_dir),
                       "summary": summary, "per_image": rows}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
