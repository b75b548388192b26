#!/usr/bin/python3
"""Calibration and validation of xunit_estimate_noise_level (engine/noise_estimate.cpp), through
the Python package and the built library.

    /usr/bin/python3 bench/noise_estimate_eval.py            # the table (~3 minutes, one core)
    /usr/bin/python3 bench/noise_estimate_eval.py --speed    # ms for a 12 MP RGB image
    /usr/bin/python3 bench/noise_estimate_eval.py --table    # re-simulates kBlockQuantile
    /usr/bin/python3 bench/noise_estimate_eval.py --native [--model M]  # clean BSDS400 JPEGs as they are
    /usr/bin/python3 bench/noise_estimate_eval.py --jpeg-psnr --model M # noisy Kodak24 JPEGs denoised

Images: Kodak24 and Set12, and every 10th image of BSDS400 (40), from ../shared/data (--data).
The noise is the saved-file protocol: round(clip(x + sigma * N(0, 1), 0, 255)) to uint8, seeded
per image and sigma; the JPEG variants then save that at a quality with Pillow, with its default
4:2:0 chroma subsampling ("jpeg90") or without ("jpeg90-444"); "jpeg90-luma" is the 4:2:0 file
estimated as xunit-run does, told that its chroma is subsampled. For each set, variant and sigma
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


def load_sets(data, bsds_every, names=None):
    sets = []
    for name, sub in SETS:
        if names and name not in names:
            continue
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
                est = np.array([xunit.estimate_noise_level(degrade(x, sigma, [si, i, k, 12345], variant),
                                                           chroma_subsampled=variant.endswith("-luma"))
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


def psnr(a, b):
    return 10 * np.log10(255.0 ** 2 / np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))


def native(data, model):
    """All 400 BSDS400 photos as the files are (clean 4:2:0 JPEGs): what the estimate reads with
    and without the chroma_subsampled hint xunit-run gives it (clean images should read ~0), and
    with a model, the PSNR of its output against the input at each level (what auto costs)."""
    from PIL import JpegImagePlugin
    m = xunit.Model(model) if model else None
    rows = []
    for f in sorted(glob.glob(os.path.join(data, "color", "bsds400", "*.jpg"))):
        im = Image.open(f)
        subsampled = JpegImagePlugin.get_sampling(im) != 0
        x = np.asarray(im.convert("RGB"))
        plain, told = xunit.estimate_noise_level(x), xunit.estimate_noise_level(x, chroma_subsampled=subsampled)
        row = [plain, told, subsampled, os.path.basename(f)]
        if m:
            kept = psnr(m.run(x, sigma=plain), x)
            row += [kept, kept if told == plain else psnr(m.run(x, sigma=told), x)]
        rows.append(row)
    if not rows:
        sys.exit("no BSDS400 images under %s" % data)
    print("%d files, %d with subsampled chroma" % (len(rows), sum(r[2] for r in rows)))
    for name, k in (("plain", 0), ("told", 1)):
        v = np.array([r[k] for r in rows])
        print("%-5s mean %.2f  p90 %.2f  p99 %.2f  max %.2f  above 2: %d  above 5: %d" % (
            name, v.mean(), np.percentile(v, 90), np.percentile(v, 99), v.max(), (v > 2).sum(), (v > 5).sum()))
    print("highest (told):", ", ".join("%s %.2f" % (r[3], r[1]) for r in sorted(rows, key=lambda r: -r[1])[:6]))
    if m:
        p = np.array([r[4:] for r in rows])
        print("%s, PSNR of the output against the input: plain level mean %.2f dB (min %.2f), told mean %.2f dB "
              "(min %.2f); %d images lose more than 1 dB" % (os.path.basename(model), p[:, 0].mean(), p[:, 0].min(),
                                                             p[:, 1].mean(), p[:, 1].min(), (p[:, 1] < p[:, 0] - 1).sum()))


def jpeg_psnr(data, model, sigmas, quality=95):
    """Kodak24 with noise (the table's protocol), saved as 4:2:0 JPEG at `quality`, denoised by
    `model` at the level the plain estimate reads, the level read when told of the subsampling,
    and the true sigma: mean PSNR (output rounded to 8 bits) and mean level read."""
    m = xunit.Model(model)
    images = load_sets(data, 10, ["kodak24"])[0][1]
    for k, sigma in enumerate(sigmas):
        res = {"plain": [], "told": [], "given": []}
        read = {"plain": [], "told": []}
        for i, (_, x) in enumerate(images):
            y = degrade(x, sigma, [0, i, k, 777], "jpeg%d" % quality)
            for name, level in (("plain", xunit.estimate_noise_level(y)),
                                ("told", xunit.estimate_noise_level(y, chroma_subsampled=True)),
                                ("given", float(sigma))):
                if name in read:
                    read[name].append(level)
                res[name].append(psnr(m.run(y, sigma=level), x))
        print("sigma %g, JPEG q%d 4:2:0: plain %.2f dB (reads %.1f), told %.2f dB (reads %.1f), given %.2f dB" % (
            sigma, quality, np.mean(res["plain"]), np.mean(read["plain"]), np.mean(res["told"]),
            np.mean(read["told"]), np.mean(res["given"])), flush=True)


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
    p.add_argument("--variants", type=lambda s: s.split(","), default=["png", "jpeg90", "jpeg90-luma"],
                   help="png, jpegQ, jpegQ-444, jpegQ-luma (comma-separated)")
    p.add_argument("--speed", action="store_true")
    p.add_argument("--table", action="store_true")
    p.add_argument("--native", action="store_true")
    p.add_argument("--jpeg-psnr", action="store_true")
    p.add_argument("--quality", type=int, default=95, help="--jpeg-psnr: the JPEG quality")
    p.add_argument("--model", default=None, help="a color denoiser conditioned on sigma (--native, --jpeg-psnr)")
    args = p.parse_args()
    if args.table:
        block_table()
    elif args.native:
        native(args.data, args.model)
    elif args.jpeg_psnr:
        if not args.model:
            sys.exit("--jpeg-psnr needs --model")
        jpeg_psnr(args.data, args.model, [s for s in args.sigmas if s > 0], args.quality)
    elif args.speed:
        speed()
    else:
        table(args)


if __name__ == "__main__":
    main()
