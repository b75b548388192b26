#!/usr/bin/python3
"""Validation PSNR of a trained model in PyTorch and in the engine, on the same inputs.

    /usr/bin/python3 models/evaluate.py --config models/configs/denoise_color.json \\
        --checkpoint /work/train/denoise_color/best.pt --model models/xdncnn-color.xunit \\
        [--precision fp32,bf16] [--json out.json]

The inputs are made exactly as models/train.py's validation makes them (same images, same
seeded noise, same bicubic downscaling), written as float32 .npy files, run through xunit-run
(.npy in, raw .npy out), and scored with the same PSNR code as the PyTorch forward pass:
  denoise: mean over images of PSNR(clamp(out, 0, 1), clean) over all channels, per sigma;
  sr:      mean Y-PSNR (BT.601) with a border of `scale` pixels shaved, plus plain bicubic
           upscaling (PIL) as the baseline.
A noise-level-conditioned denoiser is given each image's true sigma (and is run once more with
--sigma auto); with the config's val_protocol "file" the noisy inputs are rounded to 8 bits
after clipping, as a saved PNG would hold them.
Prints one line per precision; with --json writes everything (per image too).
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
import train  # noqa: E402  (the validation protocol lives there)


def to_np(t):
    return t.permute(1, 2, 0).numpy().astype(np.float32)


def from_np(a):
    return torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1)


def bicubic_up(lr, scale):
    c, h, w = lr.shape
    img = Image.fromarray(train.to_uint8(lr), mode="RGB" if c == 3 else "L")
    up = np.asarray(img.resize((w * scale, h * scale), resample=Image.BICUBIC), dtype=np.float32) / 255.0
    return torch.from_numpy(up if up.ndim == 3 else up[:, :, None]).permute(2, 0, 1)


def sr_psnr(out, hr, cfg):
    s = cfg["scale"]
    out, hr = out.clamp(0, 1)[None], hr[None]
    if cfg["in_channels"] == 3:
        out, hr = train.rgb_to_y(out), train.rgb_to_y(hr)
    return train.psnr(out[..., s:-s, s:-s], hr[..., s:-s, s:-s])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--checkpoint", required=True, help="the PyTorch state_dict the model was converted from")
    ap.add_argument("--model", required=True, help="the .xunit model")
    ap.add_argument("--precision", default="fp32", help="comma-separated: fp32, bf16, auto")
    ap.add_argument("--val-dir", default=None, help="override the config's validation folder")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--json", default=None)
    ap.add_argument("--xunit-run", default=os.path.join(ROOT, "build", "bin", "xunit-run"))
    args = ap.parse_args()

    cfg = train.load_config(args.config)
    torch.set_num_threads(args.threads)
    model = train.build_model(cfg)
    model.load_state_dict(train.load_state_dict_file(args.checkpoint))
    model.eval()
    val = train.Validator(cfg, torch.device("cpu"), full=True, val_dir=args.val_dir)

    results = {"config": os.path.abspath(args.config), "model": os.path.abspath(args.model),
               "images": [item[0] for item in val.items], "task": cfg["task"]}
    noise_map = cfg["task"] == "denoise" and cfg["noise_map"]
    with tempfile.TemporaryDirectory() as tmp:
        # One input folder per sigma: a noise-level-conditioned model is run with that sigma
        # (--sigma N), and once more estimating it (--sigma auto).
        targets = {}  # (folder, file) -> (clean, sigma) | (hr, lr)
        if cfg["task"] == "denoise":
            for i, (name, n, x) in enumerate(val.items):
                for s in cfg["val_sigmas"]:
                    noisy = x + float(s) / 255.0 * n
                    if cfg["val_protocol"] == "file":
                        noisy = noisy.clamp(0, 1).mul_(255.0).round_().div_(255.0)
                    targets[("s%d" % s, "%03d.npy" % i)] = (x, s, noisy)
        else:
            for i, (name, lr, hr) in enumerate(val.items):
                targets[("sr", "%03d.npy" % i)] = (hr, lr, lr)
        for (folder, key), item in targets.items():
            os.makedirs(os.path.join(tmp, "in", folder), exist_ok=True)
            np.save(os.path.join(tmp, "in", folder, key), to_np(item[2]))

        def score(outputs):
            if cfg["task"] == "denoise":
                per_sigma = {}
                for k, (x, s, _) in targets.items():
                    per_sigma.setdefault(str(s), []).append(train.psnr(outputs(k).clamp(0, 1), x))
                return {s: float(np.mean(v)) for s, v in per_sigma.items()}
            vals = [sr_psnr(outputs(k), hr, cfg) for k, (hr, lr, _) in sorted(targets.items())]
            return {"x%d" % cfg["scale"]: float(np.mean(vals))}

        with torch.no_grad():
            ref = {}
            for k, item in targets.items():
                level = torch.full((1,), float(item[1])) if noise_map else None
                ref[k] = train.forward(model, cfg, item[2][None], level)[0]
        results["pytorch"] = score(lambda k: ref[k])
        print("pytorch fp32:  %s" % json.dumps(results["pytorch"]), flush=True)
        if cfg["task"] == "sr":
            results["bicubic"] = score(lambda k: bicubic_up(targets[k][1], cfg["scale"]))
            print("bicubic:       %s" % json.dumps(results["bicubic"]), flush=True)

        def run_xunit(p, sigma_mode):
            outs = {}
            for folder in sorted({f for f, _ in targets}):
                out_dir = os.path.join(tmp, "out_%s_%s_%s" % (p, sigma_mode, folder))
                cmd = [args.xunit_run, "-q", "-m", args.model, "-i", os.path.join(tmp, "in", folder),
                       "-o", out_dir, "--precision", p, "-j", str(args.threads)]
                if noise_map:
                    cmd += ["--sigma", folder[1:] if sigma_mode == "given" else "auto"]
                done = subprocess.run(cmd, capture_output=True, text=True)
                if done.returncode != 0:
                    raise RuntimeError(done.stderr.strip())
                for f, key in targets:
                    if f == folder:
                        outs[(f, key)] = from_np(np.load(os.path.join(out_dir, key)))
            return outs

        for p in args.precision.split(","):
            try:
                outs = run_xunit(p, "given")
            except RuntimeError as e:
                if p == "fp32":
                    raise
                print("xunit %-7s not run: %s" % (p + ":", e), flush=True)  # e.g. bf16 without AVX-512
                continue
            results["xunit_" + p] = score(lambda k: outs[k])
            results["max_abs_diff_" + p] = float(max((outs[k] - ref[k]).abs().max() for k in targets))
            print("xunit %-7s %s  (max |xunit - pytorch| %.2e)" % (p + ":", json.dumps(results["xunit_" + p]),
                                                                     results["max_abs_diff_" + p]), flush=True)
        if noise_map:
            outs = run_xunit("fp32", "auto")
            results["xunit_fp32_auto"] = score(lambda k: outs[k])
            print("xunit fp32, --sigma auto: %s" % json.dumps(results["xunit_fp32_auto"]), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
