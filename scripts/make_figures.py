#!/usr/bin/python3
"""The README's pictures, from the built tools and committed benchmark results.

    /usr/bin/python3 scripts/make_figures.py

docs/images/denoise.jpg     clean / noisy (sigma 25) / denoised crops of Kodak image 23 (or the
                            synthetic test scene), with PSNRs, through xunit-run and the shipped denoiser
docs/images/throughput.png  seconds per image of xunit and its peers, from bench/results/*.json
                            (written by bench/peers/compare.py --json)
Needs python3-pil and build/bin (scripts/build.sh).
"""

import glob
import json
import os
import subprocess
import sys
import tempfile

from PIL import Image, ImageDraw, ImageFont

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "bin")
OUT = os.path.join(ROOT, "docs", "images")
# Kodak PhotoCD image 23 (public, in ../shared/data; one of the validation images of MODELS.md).
PHOTO = os.path.join(ROOT, "..", "shared", "data", "color", "kodak24", "kodim23.png")


def font(size):
    for path in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",):
        if os.path.exists(path):
            return ImageFont.truetype(path, size)
    return ImageFont.load_default()


def psnr_of(output, reference):
    res = subprocess.run([os.path.join(BIN, "xunit-run"), "--add-noise", "0", "--no-model", "-q", "-y", "-i", output,
                          "-o", output + ".copy.png", "--psnr", reference], check=True, capture_output=True, text=True)
    return float(res.stdout.split("PSNR ")[1].split(" dB")[0])


def denoise_figure():
    with tempfile.TemporaryDirectory() as tmp:
        clean, noisy, denoised = (os.path.join(tmp, n) for n in ("clean.png", "noisy.png", "denoised.png"))
        if os.path.exists(PHOTO):  # a real photograph where the public data sets are checked out
            Image.open(PHOTO).convert("RGB").save(clean)
            crop = (200, 50, 500, 350)  # the red parrot: feathers, eye and beak
        else:
            subprocess.run([os.path.join(BIN, "xunit-imgtool"), "synth", "720", "480", clean], check=True)
            crop = (300, 40, 620, 360)  # the disc's edge, the checkerboard and the stripes
        subprocess.run([os.path.join(BIN, "xunit-run"), "-q", "--add-noise", "25", "--seed", "1", "--no-model",
                        "-i", clean, "-o", noisy], check=True)
        subprocess.run([os.path.join(BIN, "xunit-run"), "-q", "-i", noisy, "-o", denoised], check=True)
        panels = [("clean", clean, None), ("noisy, sigma 25", noisy, psnr_of(noisy, clean)),
                  ("xunit-run", denoised, psnr_of(denoised, clean))]
        w, h = crop[2] - crop[0], crop[3] - crop[1]
        fig = Image.new("RGB", (3 * w + 40, h + 44), "white")
        draw = ImageDraw.Draw(fig)
        for i, (label, path, value) in enumerate(panels):
            fig.paste(Image.open(path).convert("RGB").crop(crop), (10 + i * (w + 10), 34))
            text = label if value is None else "%s: %.2f dB" % (label, value)
            draw.text((10 + i * (w + 10), 8), text, fill="black", font=font(18))
        fig.save(os.path.join(OUT, "denoise.jpg"), quality=92)


def throughput_figure():
    results = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(ROOT, "bench", "results", "*.json")))]
    if not results:
        print("no bench/results/*.json: skipping the throughput chart")
        return
    row_h, label_w, bar_w = 26, 290, 420
    height = sum(40 + row_h * len(r["results"]) for r in results) + 20
    fig = Image.new("RGB", (label_w + bar_w + 110, height), "white")
    draw = ImageDraw.Draw(fig)
    y = 10
    for r in results:
        draw.text((10, y), "%s, %dx%d, %d threads: seconds per image" % (r["model"], r["size"][0], r["size"][1],
                                                                           r["threads"]), fill="black", font=font(17))
        y += 30
        longest = max(x["seconds"] for x in r["results"])
        for x in sorted(r["results"], key=lambda x: x["seconds"]):
            ours = x["mode"].startswith("xunit")
            words = x["mode"].replace("pytorch", "PyTorch").replace("_", " ").split(" ")
            words[1] = words[1].split("-")[0] if len(words) > 1 else ""  # version without its build tag
            draw.text((10, y + 3), " ".join(words), fill="black", font=font(15))
            length = max(2, int(bar_w * x["seconds"] / longest))
            draw.rectangle((label_w, y + 2, label_w + length, y + row_h - 4), fill="#d9531e" if ours else "#7a8ca3")
            draw.text((label_w + length + 6, y + 3), "%.3f s" % x["seconds"], fill="black", font=font(15))
            y += row_h
        y += 10
    fig.save(os.path.join(OUT, "throughput.png"), optimize=True)


def main():
    os.makedirs(OUT, exist_ok=True)
    denoise_figure()
    throughput_figure()
    print("wrote", ", ".join(sorted(os.listdir(OUT))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
