#!/usr/bin/python3
"""xunit against its peers on the same model and input, with ratios from one run.

    /usr/bin/python3 bench/peers/compare.py --arch xdncnn --features 64 --blocks 8 \\
        --size 512x512 --threads 2 [--peer-python python3] [--rounds 3] [--json out.json]

Builds a random-weight network in PyTorch (Debian's python3-torch; BatchNorm statistics
randomized), converts its checkpoint with xunit-convert, checks that xunit-run reproduces
PyTorch's output, then times in alternating rounds (the machine is shared and noisy: a peer and
xunit are always measured minutes apart at most):
  - xunit (xunit-bench: warm runs through the C API, u8 image in and out) at each of
    --xunit-precisions (default fp32 and auto; auto is fp32 on a CPU without AVX512-BF16),
  - PyTorch eager, channels_last, jit-frozen and bf16 autocast,
  - with --peer-python, a Python that has onnxruntime / openvino from PyPI: the model exported
    to ONNX and timed there (bench/peers/onnx_peer.py).
Every time is the median of --repeat runs; the table reports per mode the median over rounds
and the median of the per-round ratios peer / xunit's fastest precision (by median). Each
xunit precision's output is checked against PyTorch's (max |difference| printed).
"""

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "models"))
sys.path.insert(0, HERE)
from pytorch_peer import time_modes  # noqa: E402
from xunit2018 import build2018  # noqa: E402
from xunit_models import build, randomize_batchnorm  # noqa: E402


def parse_size(s):
    w, h = s.lower().split("x")
    return int(w), int(h)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


class FixedSigma(torch.nn.Module):
    """A noise-level-conditioned net at one level: forward(x), as the peers run it."""

    def __init__(self, model, sigma):
        super().__init__()
        self.model, self.sigma = model, sigma

    def forward(self, x):
        return self.model(x, noise_level=self.sigma)


def xunit_seconds(bin_dir, model, size, threads, repeat, tmp, precisions, sigma=None):
    """{precision: median seconds} from one xunit-bench process."""
    csv_path = os.path.join(tmp, "xunit.csv")
    run([os.path.join(bin_dir, "xunit-bench"), "--model", model, "--size", "%dx%d" % size,
         "--threads", str(threads), "--repeat", str(repeat), "--csv", csv_path,
         "--precision", ",".join(precisions)]
        + (["--sigma", str(sigma)] if sigma is not None else []))
    with open(csv_path) as f:
        return {row["precision"]: float(row["median_ms"]) / 1e3 for row in csv.DictReader(f)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", default="xdncnn",
                    choices=["xdncnn", "dncnn", "xsrgan", "srgan", "xdense", "xdncnn2018", "ffdnet",
                             "kair_dncnn"],
                    help="xdncnn2018: the xUnit authors' xDnCNN (Gaussian gates, 9x9; --blocks cells); "
                         "ffdnet, kair_dncnn: KAIR's (--blocks convs; FFDNet at a fixed --sigma)")
    ap.add_argument("--sigma", type=float, default=25.0,
                    help="ffdnet: the noise level every runtime is given (8-bit levels)")
    ap.add_argument("--features", type=int, default=64)
    ap.add_argument("--blocks", default="8", help="blocks; for xdense the layers per dense block, e.g. 4,6,8")
    ap.add_argument("--growth", type=int, default=None, help="xdense growth rate (default 16, SR 8)")
    ap.add_argument("--channels", type=int, default=3)
    ap.add_argument("--scale", type=int, default=None, help="SR scale (xsrgan/srgan default 4; xdense 1)")
    ap.add_argument("--size", type=parse_size, default=(512, 512), help="input WxH")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--peer-python", default=None, help="a Python with onnxruntime/openvino")
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--json", default=None, help="write the results here")
    ap.add_argument("--xunit-precisions", default="fp32,auto", help="xunit-bench --precision values")
    ap.add_argument("--pytorch-modes", default="eager,channels_last,jit_frozen,bf16_autocast",
                    help="PyTorch modes to time, comma-separated ('' for none: the slowest peer)")
    args = ap.parse_args()

    bin_dir = os.path.join(args.build_dir, "bin")
    torch.manual_seed(0)
    blocks = [int(b) for b in args.blocks.split(",")]
    cfg = dict(in_channels=args.channels, num_features=args.features,
               gen_blocks=blocks if args.arch == "xdense" else blocks[0])
    scale = args.scale or (4 if args.arch in ("xsrgan", "srgan") else 1)
    if scale > 1:
        cfg["scale"] = scale
    if args.arch == "xdense" and args.growth:
        cfg["growth_rate"] = args.growth
    conditioned = args.arch == "ffdnet"
    if args.arch == "xdncnn2018":
        model = build2018("xdncnn2018", in_channels=args.channels, num_features=args.features,
                          num_cells=blocks[0])
    elif args.arch in ("ffdnet", "kair_dncnn"):
        model = build(args.arch, in_channels=args.channels, num_features=args.features,
                      num_convs=blocks[0])
    else:
        model = build(args.arch, **cfg)
    randomize_batchnorm(model, torch.Generator().manual_seed(1))
    model.eval()
    net = FixedSigma(model, args.sigma) if conditioned else model  # what the peers run
    w, h = args.size
    x = torch.rand(1, args.channels, h, w, generator=torch.Generator().manual_seed(2))
    name = "%s-%d-%s%s" % (args.arch, args.features, args.blocks.replace(",", "."), "-x%d" % scale if scale > 1 else "")

    with tempfile.TemporaryDirectory() as tmp:
        ckpt, xm = os.path.join(tmp, "model.pt"), os.path.join(tmp, "model.xunit")
        torch.save(model.state_dict(), ckpt)
        run([os.path.join(bin_dir, "xunit-convert"), ckpt, xm])

        # Same model, same input: check the outputs before timing anything.
        precisions = args.xunit_precisions.split(",")
        inp = os.path.join(tmp, "in.npy")
        np.save(inp, x[0].permute(1, 2, 0).numpy())
        with torch.no_grad():
            want = net(x)[0].permute(1, 2, 0).numpy()
        max_diff = {}
        for p in precisions:
            out = os.path.join(tmp, "out_%s.npy" % p)
            run([os.path.join(bin_dir, "xunit-run"), "-q", "-m", xm, "-i", inp, "-o", out, "-j", str(args.threads),
                 "--precision", p] + (["--sigma", str(args.sigma)] if conditioned else []))
            max_diff[p] = float(np.abs(np.load(out) - want).max())

        onnx_path = None
        if args.peer_python:
            onnx_path = os.path.join(tmp, "model.onnx")
            torch.onnx.export(net, x, onnx_path, opset_version=13, input_names=["x"], output_names=["y"],
                              dynamic_axes={"x": {2: "h", 3: "w"}, "y": {2: "h", 3: "w"}})
            np.save(os.path.join(tmp, "x.npy"), x.numpy())

        torch.set_num_threads(args.threads)
        times = {}  # mode -> per-round seconds
        for r in range(args.rounds):
            for p, t in xunit_seconds(bin_dir, xm, args.size, args.threads, args.repeat, tmp, precisions,
                                      args.sigma if conditioned else None).items():
                times.setdefault("xunit " + p, []).append(t)
            modes = [m for m in args.pytorch_modes.split(",") if m]
            for mode, t in (time_modes(net, x, modes, args.repeat) if modes else {}).items():
                times.setdefault("pytorch %s %s" % (torch.__version__.split("+")[0], mode), []).append(t)
            if onnx_path:
                res = subprocess.run([args.peer_python, os.path.join(HERE, "onnx_peer.py"), "--model", onnx_path,
                                      "--input", os.path.join(tmp, "x.npy"), "--threads", str(args.threads),
                                      "--repeat", str(args.repeat)], capture_output=True, text=True)
                for line in res.stdout.splitlines():
                    rec = json.loads(line)
                    if "seconds" in rec:
                        times.setdefault("%s %s" % (rec["runtime"], rec["mode"]), []).append(rec["seconds"])
                    elif r == 0:
                        print("# %s %s: %s" % (rec["runtime"], rec["mode"], rec["error"]))
            print("# round %d/%d done" % (r + 1, args.rounds), flush=True)

    ours = min((ts for mode, ts in times.items() if mode.startswith("xunit ")), key=statistics.median)
    rows = []
    for mode, ts in times.items():
        ratios = [t / o for t, o in zip(ts, ours)] if len(ts) == len(ours) else [statistics.median(ts) / statistics.median(ours)]
        rows.append({"mode": mode, "seconds": statistics.median(ts), "ratio": statistics.median(ratios),
                     "rounds": ts})
    print("\n%s, %dx%d input, %d thread(s); max |xunit - PyTorch|: %s" % (
        name, w, h, args.threads, ", ".join("%s %.2e" % kv for kv in max_diff.items())))
    print("| runtime | median s/image | time / xunit's fastest |")
    print("|---|---:|---:|")
    for row in sorted(rows, key=lambda r: r["seconds"]):
        print("| %s | %.3f | %.2fx |" % (row["mode"], row["seconds"], row["ratio"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"model": name, "size": [w, h], "threads": args.threads, "max_abs_diff": max_diff,
                       "results": rows}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
