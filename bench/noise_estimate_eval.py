#!/usr/bin/python3
"""Calibration and validation of xunit_estimate_noise_level (engine/noise_estimate.cpp), through
the Python package and the built library.

    /usr/bin/python3 bench/noise_estimate_eval.py            # the table (~3 minutes, one core)
    /usr/bin/python3 bench/noise_estimate_eval.py --speed    # ms for a 12 MP RGB image
    /usr/bin/python3 bench/noise_estimate_eval.py --table    # re-simulates kBlockQuantile

Images: Kodak24 and Set12, and every 10th image of BSDS400 (40), from ../shared/data (--data).
The noise is the saved-file protocol: round(clip(x + sigma * N(0, 1), 0, 255)) to uint8, seeded
per image and sigma; the JPEG variants then save that at a quality with Pillow, with its default
4:2:0 chroma subsampling ("jpeg90") or without ("jpeg90-444"). For each set, variant and sigma
the table gives the mean estimate, the bias (mean of estimate - sigma), the spread (standard
deviation of estimate - sigma), the largest error and its image. Needs the build (build/lib) or
XUNIT_LIBRARY, numpy and python3-pil."""
import argparse
import glob
import io
import os
import sys
import time

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
os.environ.setdefault("XUNIT_LIBRARY", os.path.join(ROOT, "build", "lib", "libxunit.so.1"))
import xunit  # noqa: E402

SETS = (("kodak24", "color/kodak24"), ("set12", "gray/set12"), ("bsds400", "color/bsds400"))


def load_sets(data, bsds_every):
    sets = []
    for name, sub in SETS:
        files = sorted(glob.glob(os.path.join(data, sub, "*")))
        if name == "bsds400":
            files = files[::bsds_every]
        if not files:
            sys.exit("no images in %s (give --data)" % os.path.join(data, sub))
        sets.append((name, [(os.path.basename(f), np.asarray(Image.open(f))) for f in files]))
    return sets


def degrade(x, sigma, seed, variant):
    rng = np.random.default_rng(seed)
    y = x if sigma == 0 else np.clip(np.round(x + sigma * rng.standard_normal(x.shape)), 0, 255).astype(np.uint8)
    if variant.startswith("jpeg"):
        quality = int(variant[4:].split("-")[0])
        buf = io.BytesIO()
        Image.fromarray(y).save(buf, "JPEG", quality=quality, **({"subsampling": 0} if variant.endswith("-444") else {}))
        y = np.asarray(Image.open(io.BytesIO(buf.getvalue())))
    return y


def table(args):
    sets = load_sets(args.data, args.bsds_every)
    print("%-8s %-10s %5s %3s %7s %7s %6s %6s  %s" % ("set", "variant", "sigma", "n", "mean", "bias", "sd", "max|e|",
                                                   "worst"))
    for variant in args.variants:
        for si, (name, images) in enumerate(sets):
            for k, sigma in enumerate(args.sigmas):
                est = np.array([xunit.estimate_noise_level(degrade(x, sigma, [si, i, k, 12345], variant))
                                for i, (_, x) in enumerate(images)])
                err = est - sigma
                worst = int(np.argmax(np.abs(err)))
                print("%-8s %-10s %5g %3d %7.2f %+7.2f %6.2f %6.2f  %s" % (
                    name, variant, sigma, len(images), est.mean(), err.mean(), err.std(), np.abs(err).max(),
                    images[worst][0]), flush=True)


def speed():
    """A 12 MP RGB photo-like image (Kodak image 1 tiled, sigma 10), single call, best of 5."""
    photo = sorted(glob.glob(os.path.join(ROOT, "..", "shared", "data", "color", "kodak24", "*.png")))
    base = np.asarray(Image.open(photo[0])) if photo else np.full((512, 768, 3), 128, np.uint8)
    big = np.tile(base, (3000 // base.shape[0] + 1, 4000 // base.shape[1] + 1, 1))[:3000, :4000]
    rng = np.random.default_rng(1)
    big = np.ascontiguousarray(np.clip(np.round(big + 10 * rng.standard_normal(big.shape)), 0, 255).astype(np.uint8))
    for name, img in (("12 MP RGB uint8", big), ("12 MP RGB float32", big.astype(np.float32) / 255),
                      ("12 MP gray uint8", np.ascontiguousarray(big[..., 1]))):
        times = []
        for _ in range(5):
            t = time.perf_counter()
            s = xunit.estimate_noise_level(img)
            times.append(time.perf_counter() - t)
        print("%s: %.1f ms (sigma %.2f, expected ~10)" % (name, 1000 * min(times), s))


def block_table():
    """kBlockQuantile: quantiles of the 8x8 block mean square of the 3x3 band for unit white
    Gaussian noise, at p = 0, 0.005, ..., 0.5."""
    rng = np.random.default_rng(7)
    energies = []
    for _ in range(16):
        x = rng.standard_normal((2050, 2050))
        c = x[1:-1, 1:-1]
        band = (4 * c - 2 * (x[:-2, 1:-1] + x[2:, 1:-1] + x[1:-1, :-2] + x[1:-1, 2:])
                + x[:-2, :-2] + x[:-2, 2:] + x[2:, :-2] + x[2:, 2:]) / 6
        energies.append((band.reshape(256, 8, 256, 8) ** 2).mean((1, 3)).ravel())
    q = np.quantile(np.concatenate(energies), np.arange(101) * 0.005)
    q[0] = 0
    print(", ".join("%.4ff" % v for v in q))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"))
    p.add_argument("--bsds-every", type=int, default=10)
    p.add_argument("--sigmas", type=lambda s: [float(v) for v in s.split(",")],
                   default=[0, 1, 2, 5, 10, 15, 25, 35, 50])
    p.add_argument("--variants", type=lambda s: s.split(","), default=["png", "jpeg90"],
                   help="png, jpegQ, jpegQ-444 (comma-separated)")
    p.add_argument("--speed", action="store_true")
    p.add_argument("--table", action="store_true")
    args = p.parse_args()
    if args.table:
        block_table()
    elif args.speed:
        speed()
    else:
        table(args)


if __name__ == "__main__":
    main()
