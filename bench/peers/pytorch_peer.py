#!/usr/bin/python3
"""Time an xUnit network in PyTorch (CPU) as a peer baseline for the engine.

Example:
  /usr/bin/python3 bench/peers/pytorch_peer.py --arch xdncnn --features 64 --blocks 8 \
      --channels 3 --scale 1 --size 512x512 --threads 4 --repeat 5

Modes: eager (NCHW), channels_last, jit-frozen (torch.jit.freeze(torch.jit.trace(...))),
bf16 autocast (torch.autocast('cpu', dtype=torch.bfloat16)).  Each mode is warmed up
once, then timed `--repeat` times; the median seconds per image is reported, one line per
mode, followed by the best FP32 mode.  Weights are random (speed only).
"""

import argparse
import copy
import os
import sys

import torch

from timing import median_time  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "models"))
from xunit_models import build, randomize_batchnorm  # noqa: E402

MODES = ("eager", "channels_last", "jit_frozen", "bf16_autocast")
FP32_MODES = ("eager", "channels_last", "jit_frozen")


def parse_size(s):
    try:
        h, w = s.lower().split("x")
        return int(h), int(w)
    except ValueError:
        raise argparse.ArgumentTypeError("size must be HxW, e.g. 512x512")


def time_modes(model, x, modes, repeat, verbose=False, pixels=None):
    """Median seconds per image of `model` on `x` in each of `modes` (see MODES); a mode that
    fails on this machine is reported (verbose) and left out."""
    results = {}
    with torch.inference_mode():
        for mode in modes:
            try:
                if mode == "eager":
                    def fn(m=model, xi=x):
                        return m(xi)
                elif mode == "channels_last":
                    m_cl = copy.deepcopy(model).eval().to(memory_format=torch.channels_last)
                    x_cl = x.contiguous(memory_format=torch.channels_last)

                    def fn(m=m_cl, xi=x_cl):
                        return m(xi)
                elif mode == "jit_frozen":
                    with torch.no_grad():
                        traced = torch.jit.freeze(torch.jit.trace(model.eval(), x))

                    def fn(m=traced, xi=x):
                        return m(xi)
                elif mode == "bf16_autocast":
                    def fn(m=model, xi=x):
                        with torch.autocast("cpu", dtype=torch.bfloat16):
                            return m(xi)
                t = median_time(fn, repeat)
                results[mode] = t
                if verbose:
                    print("%-14s %.6f s/img  (%.2f Mpix/s out)" % (mode, t, pixels / t / 1e6))
            except Exception as e:  # keep going: report what works on this machine
                if verbose:
                    print("%-14s FAILED: %s" % (mode, str(e).splitlines()[0] if str(e) else type(e).__name__))
            sys.stdout.flush()
    return results


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", default="xdncnn", choices=["xdncnn", "dncnn", "xsrgan", "srgan"])
    ap.add_argument("--features", type=int, default=64)
    ap.add_argument("--blocks", type=int, default=8)
    ap.add_argument("--channels", type=int, default=3)
    ap.add_argument("--scale", type=int, default=1)
    ap.add_argument("--kernel-size", type=int, default=7, help="xUnit depthwise kernel")
    ap.add_argument("--size", type=parse_size, default=(512, 512), help="input HxW")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--modes", default=",".join(MODES),
                    help="comma-separated subset of " + ",".join(MODES))
    args = ap.parse_args(argv)

    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for m in modes:
        if m not in MODES:
            ap.error("unknown mode %r" % m)

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = dict(in_channels=args.channels, num_features=args.features, gen_blocks=args.blocks)
    if args.arch in ("xdncnn", "xsrgan"):
        cfg["kernel_size"] = args.kernel_size
    if args.arch in ("xsrgan", "srgan"):
        if args.scale < 2:
            ap.error("%s needs --scale 2, 4 or 8" % args.arch)
        cfg["scale"] = args.scale
    elif args.scale != 1:
        ap.error("%s is a denoiser: --scale must be 1" % args.arch)
    model = build(args.arch, **cfg)
    randomize_batchnorm(model, torch.Generator().manual_seed(1))
    model.eval()

    h, w = args.size
    x = torch.rand(1, args.channels, h, w, generator=torch.Generator().manual_seed(2))
    print("# pytorch %s | %s C=%d F=%d blocks=%d scale=%d | %dx%d | threads=%d repeat=%d"
          % (torch.__version__, args.arch, args.channels, args.features, args.blocks,
             args.scale, h, w, args.threads, args.repeat))

    results = time_modes(model, x, modes, args.repeat, verbose=True, pixels=h * w * args.scale ** 2)
    fp32 = {m: t for m, t in results.items() if m in FP32_MODES}
    if fp32:
        best = min(fp32, key=fp32.get)
        print("best_fp32      %.6f s/img  (%s)" % (fp32[best], best))
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main())
