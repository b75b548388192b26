#!/usr/bin/python3
"""What one xunit-run call costs beyond the network's warm time, on one image.

    /usr/bin/python3 bench/run_overhead.py --model models/xdncnn-color.xunit \\
        --image photo.png [--size 512x512] [--threads 2] [--rounds 3] [--calls 5]

In alternating rounds (the machine is shared and noisy): xunit-bench's warm median for the
image's size (u8 in, u8 out through the C API, after a warm-up run), then --calls whole
`xunit-run -i IMAGE -o OUT.png` processes (start-up, model load and checksum, primitive
creation, decode, noise estimate, run, encode, write). Prints the medians and their difference;
--sigma is passed to xunit-run (default: the CLI's own default, auto).
"""

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time

from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--image", required=True, help="an image file xunit-run reads (its size is timed)")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--calls", type=int, default=5, help="xunit-run processes per round")
    ap.add_argument("--repeat", type=int, default=5, help="xunit-bench timed runs per round")
    ap.add_argument("--sigma", default=None, help="passed to xunit-run as --sigma")
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    args = ap.parse_args()

    bin_dir = os.path.join(args.build_dir, "bin")
    with Image.open(args.image) as im:
        size = "%dx%d" % im.size

    warm, calls = [], []
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.png")
        cmd = [os.path.join(bin_dir, "xunit-run"), "-q", "-y", "-m", args.model, "-i", args.image, "-o", out,
               "-j", str(args.threads)]
        if args.sigma is not None:
            cmd += ["--sigma", args.sigma]
        for r in range(args.rounds):
            csv_path = os.path.join(tmp, "bench.csv")
            subprocess.run([os.path.join(bin_dir, "xunit-bench"), "--model", args.model, "--size", size,
                            "--threads", str(args.threads), "--repeat", str(args.repeat), "--csv", csv_path],
                           check=True, capture_output=True)
            with open(csv_path) as f:
                warm.append(float(next(csv.DictReader(f))["median_ms"]))
            for _ in range(args.calls):
                t = time.perf_counter()
                subprocess.run(cmd, check=True)
                calls.append((time.perf_counter() - t) * 1e3)
    w, c = statistics.median(warm), statistics.median(calls)
    print("%s, %s, %d thread(s), %d round(s)" % (os.path.basename(args.model), size, args.threads, args.rounds))
    print("xunit-bench warm run (median of rounds' medians): %.1f ms  %s" % (w, " ".join("%.0f" % v for v in warm)))
    print("xunit-run whole call (median of %d):              %.1f ms  %s" % (len(calls), c, " ".join("%.0f" % v for v in calls)))
    print("difference: %.1f ms" % (c - w))
    return 0


if __name__ == "__main__":
    sys.exit(main())
