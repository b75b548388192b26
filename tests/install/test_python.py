"""The xunit Python package against the library and models: installed (check_install.sh), or
from the source tree against a build (ctest's `python`: XUNIT_LIBRARY=build/lib/libxunit.so.1).

    PYTHONPATH=P/lib/python3/dist-packages /usr/bin/python3 test_python.py XUNIT_RUN
(XUNIT_RUN: the xunit-run of the same install or build, whose output the package must reproduce
bit for bit.)"""
import os
import subprocess
import sys
import tempfile
import threading
import time
import weakref

import numpy as np
import xunit

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def raises(fn, exc, text):
    try:
        fn()
    except exc as e:
        return text in str(e)
    return False


xunit_run = sys.argv[1]
model_dir = xunit.shipped_model_dir()
check(model_dir is not None and os.path.isfile(os.path.join(model_dir, "xdncnn-color.xunit")),
      "the package finds the shipped models: %s" % model_dir)
check(xunit.version().count(".") == 2, "version %s" % xunit.version())
major, minor, patch = (int(v) for v in xunit.version().split("."))
check(xunit.version_number() == major * 10000 + minor * 100 + patch,
      "version number %d" % xunit.version_number())

rng = np.random.default_rng(7)
yy, xx = np.mgrid[0:96, 0:128]
# Smooth shading with a few sharp-edged boxes: an image a denoiser can tell from its noise.
clean = np.stack([128 + 60 * np.sin(xx / 9.0) * np.cos(yy / 13.0), 100 + yy * 1.2, 200 - xx * 0.8], -1)
clean[20:60, 30:70] = (230, 40, 60)
clean[50:90, 90:120] = (20, 200, 220)
clean = clean.astype(np.float32)
noisy = np.clip(np.round(clean + rng.normal(0, 25, clean.shape)), 0, 255).astype(np.uint8)

with xunit.Model(os.path.join(model_dir, "xdncnn-color.xunit")) as m:
    check((m.task, m.scale, m.in_channels, m.out_channels) == ("denoise", 1, 3, 3), repr(m))
    check(m.metadata("family") == "xdncnn" and m.metadata("no such key") is None, "metadata")
    out = m.run(noisy)
    check(out.dtype == np.uint8 and out.shape == noisy.shape, "uint8 in, uint8 out of the same shape")

    def psnr(a):
        return 10 * np.log10(255.0 ** 2 / np.mean((a.astype(np.float64) - clean) ** 2))
    check(psnr(out) > psnr(noisy) + 3, "restores: PSNR %.2f -> %.2f dB" % (psnr(noisy), psnr(out)))

    f = noisy.astype(np.float32) / 255
    # Bit for bit what the CLI writes for the same input.
    with tempfile.TemporaryDirectory() as tmp:
        np.save(os.path.join(tmp, "in.npy"), f)
        subprocess.run([xunit_run, "-m", "xdncnn-color", "-i", os.path.join(tmp, "in.npy"), "-o",
                        os.path.join(tmp, "out.npy"), "-q"], check=True)
        check(np.array_equal(np.load(os.path.join(tmp, "out.npy")), m.run(f)), "identical to xunit-run's output")
    outf = m.run(f, threads=1, tile=40)
    check(outf.dtype == np.float32 and np.abs(outf * 255 - out).max() <= 0.5 + 1e-3,
          "float32 in [0,1], 1 thread, 40-px stripes: same image (max diff %.3g of 255)"
          % np.abs(outf * 255 - out).max())
    check(np.array_equal(m.run(f.astype(np.float64), tile=0), m.run(f, tile=0)), "float64 is run as float32")
    out16 = m.run(noisy.astype(np.uint16) * 257)
    check(out16.dtype == np.uint16 and np.abs(out16 / 257.0 - outf * 255).max() < 0.01, "uint16")
    check(np.array_equal(m.run(np.asfortranarray(noisy)), out), "non-contiguous input")

    seen = []
    m.run(noisy, threads=1, tile=32, progress=lambda fr: seen.append(fr))
    check(len(seen) > 1 and abs(seen[-1] - 1.0) < 1e-6, "progress callback (%d calls)" % len(seen))
    try:
        m.run(noisy, tile=32, progress=lambda fr: fr > 0.2)
        check(False, "cancelling from the progress callback raises")
    except xunit.Error as e:
        check(e.status == "XUNIT_ERROR_CANCELLED", "cancel raises xunit.Error %s: %s" % (e.status, e))

    # Threads share one model; ctypes releases the GIL during the call.
    results = [None] * 4

    def work(i):
        results[i] = m.run(noisy, threads=1)
    ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    check(all(np.array_equal(r, out) for r in results), "4 Python threads on one model")

    check(raises(lambda: m.run(np.concatenate([noisy, noisy[..., :2]], -1)), xunit.Error,
                 "the image has 5 colour channel(s); the model takes 3"), "5 channels refused")
    check(raises(lambda: m.run(noisy.astype(np.int32)), TypeError, "int32"), "int32 refused")
    check(raises(lambda: m.run(noisy[None]), ValueError, "shape"), "4-D refused")
    check(raises(lambda: m.run(noisy, precision="fp8"), ValueError, "fp8"), "unknown precision refused")
    check(raises(lambda: m.run(noisy, tile=-7), xunit.Error, "tile"), "bad tile: C error text")
check(raises(lambda: m.run(noisy), ValueError, "closed"), "a closed model refuses to run")

with xunit.Model(os.path.join(model_dir, "xdncnn-gray.xunit")) as g:
    gray = noisy[..., 1]
    check(g.run(gray).shape == gray.shape, "a (H, W) array through a gray model stays (H, W)")

data = open(os.path.join(model_dir, "xdncnn-color.xunit"), "rb").read()
with xunit.Model(data=data) as mm:
    check(np.array_equal(mm.run(noisy), out), "Model(data=bytes)")
check(raises(lambda: xunit.Model(data=data[:-9]), xunit.Error, ""), "truncated model bytes: xunit.Error")
e = None
try:
    xunit.Model("/nonexistent/x.xunit")
except xunit.Error as err:
    e = err
check(e is not None and e.status == "XUNIT_ERROR_IO" and "/nonexistent/x.xunit" in str(e),
      "missing file: %s: %s" % (e.status if e else None, e))


# --- Shipped models by name, as xunit-run -m names them.
names = xunit.shipped_models()
check({"xdncnn-color", "xdncnn-gray", "xsrgan-x2", "xsrgan-x4"} <= set(names), "shipped_models(): %s" % names)
check(xunit.find_model("xdncnn-gray") == os.path.join(model_dir, "xdncnn-gray.xunit"), "find_model by name")
with xunit.Model("xdncnn-color") as by_name, xunit.Model("xdncnn-color.xunit") as by_file_name:
    check(np.array_equal(by_name.run(noisy), out) and np.array_equal(by_file_name.run(noisy), out),
          "Model('xdncnn-color') is the shipped model")
e = None
try:
    xunit.Model("no-such-model")
except xunit.Error as err:
    e = err
check(e is not None and e.status == "XUNIT_ERROR_IO" and "no model 'no-such-model'" in str(e)
      and model_dir in str(e), "an unknown name: xunit.Error naming where it looked: %s" % e)


# --- Channels as xunit-run adapts them (bit for bit the CLI's PNGs).
def cli(model, img, args=()):
    from PIL import Image
    with tempfile.TemporaryDirectory() as tmp:
        Image.fromarray(img).save(os.path.join(tmp, "in.png"))
        subprocess.run([xunit_run, "-q", "-i", os.path.join(tmp, "in.png"), "-o", os.path.join(tmp, "out.png")]
                       + (["-m", model] if model else []) + list(args), check=True)
        return np.asarray(Image.open(os.path.join(tmp, "out.png")))


small = noisy[:40, :48]
gray2d = small[..., 1].copy()
alpha = (np.arange(40 * 48).reshape(40, 48) % 251).astype(np.uint8)
rgba = np.dstack([small, alpha])
gray_rgb = np.dstack([gray2d] * 3)
color_path = os.path.join(model_dir, "xdncnn-color.xunit")
gray_path = os.path.join(model_dir, "xdncnn-gray.xunit")
with xunit.Model("xdncnn-color") as m, xunit.Model("xdncnn-gray") as g, xunit.Model("xsrgan-x2") as sr:
    r = m.run(gray2d)
    check(r.shape == gray2d.shape and r.dtype == np.uint8 and np.array_equal(r, cli(color_path, gray2d)),
          "a (H, W) image through the color model: replicated, averaged back, as xunit-run")
    check(m.run(gray2d[..., None]).shape == gray2d.shape + (1,), "(H, W, 1) stays (H, W, 1)")
    r = m.run(rgba)
    check(r.shape == rgba.shape and np.array_equal(r[..., 3], alpha) and np.array_equal(r[..., :3], m.run(small))
          and np.array_equal(r, cli(color_path, rgba)), "RGBA: alpha passed through, RGB restored, as xunit-run")
    r16 = m.run(rgba.astype(np.uint16) * 257)
    check(r16.dtype == np.uint16 and np.array_equal(r16[..., 3], alpha.astype(np.uint16) * 257)
          and np.abs(r16[..., :3] / 257.0 - r[..., :3]).max() <= 1, "uint16 RGBA in, uint16 RGBA out")
    rf = m.run(rgba.astype(np.float32) / 255)
    check(rf.dtype == np.float32 and rf.shape == rgba.shape, "float32 RGBA in, float32 RGBA out")
    r = g.run(small)
    check(r.shape == small.shape and np.array_equal(r, cli(gray_path, small)),
          "a color image through the gray model: each channel, as xunit-run")
    check(xunit.gray_content(gray_rgb) and not xunit.gray_content(small) and not xunit.gray_content(gray2d),
          "gray_content()")
    r = g.run(gray_rgb)
    check(np.array_equal(r, np.dstack([g.run(gray2d)] * 3)) and np.array_equal(r, cli(None, gray_rgb)),
          "gray content in RGB through the gray model: one run, as xunit-run's default routing")
    r = sr.run(rgba[:20, :24])
    ref = cli(None, rgba[:20, :24], ["-s", "2"])
    check(r.shape == (40, 48, 4) and np.abs(r.astype(int) - ref).max() <= 1,
          "super-resolution of RGBA: alpha resized, as xunit-run (max diff %d)" % np.abs(r.astype(int) - ref).max())

    # --- Float images: [0, 1] give or take 1; 0..255 is refused, not run into 20 dB.
    check(raises(lambda: m.run(small.astype(np.float32)), ValueError, "divide it by 255"), "float32 0..255 refused")
    bad = small.astype(np.float32) / 255
    bad[3, 4, 1] = np.nan
    check(raises(lambda: m.run(bad), ValueError, "NaN"), "NaN refused")
    unclipped = small.astype(np.float32) / 255 + rng.normal(0, 0.2, small.shape).astype(np.float32)
    check(m.run(unclipped).shape == small.shape, "unclipped noise (sigma 0.2) runs")
    check(m.run(small.astype(np.float32), check_range=False).dtype == np.float32, "check_range=False runs")


# --- The noise level: estimate_noise_level, and run's sigma.
level = xunit.estimate_noise_level(noisy)
check(abs(level - 25) < 2, "estimate_noise_level of sigma-25 noise: %.2f" % level)
check(xunit.estimate_noise_level(clean.round().astype(np.uint8)) < 1, "a clean image reads about 0")
check(abs(xunit.estimate_noise_level(noisy.astype(np.uint16) * 257) - level) < 1e-3
      and abs(xunit.estimate_noise_level(noisy.astype(np.float32) / 255) - level) < 1e-3
      and abs(xunit.estimate_noise_level(noisy.astype(np.float64) / 255) - level) < 1e-3,
      "uint8, uint16, float32 and float64 read the same level")
check(xunit.estimate_noise_level(np.asfortranarray(noisy)) == level, "non-contiguous input")
check(xunit.estimate_noise_level(np.dstack([noisy, noisy[..., :1]])) == level, "RGBA: alpha left out")
check(abs(xunit.estimate_noise_level(noisy[..., 1]) - 25) < 2.5, "(H, W) gray")
check(raises(lambda: xunit.estimate_noise_level(noisy.astype(np.int32)), TypeError, "int32"), "int32 refused")
check(raises(lambda: xunit.estimate_noise_level(noisy[None]), ValueError, "shape"), "4-D refused")
# A 4:2:0 JPEG of the noisy image (Pillow's default subsampling) kept the noise's luma share:
# told so, the estimate reads the level before saving; gray images read the same either way.
import io  # noqa: E402
from PIL import Image  # noqa: E402
buf = io.BytesIO()
Image.fromarray(noisy).save(buf, "JPEG", quality=95)
jpeg = np.asarray(Image.open(io.BytesIO(buf.getvalue())))
told, plain = xunit.estimate_noise_level(jpeg, chroma_subsampled=True), xunit.estimate_noise_level(jpeg)
# (a small image whose sinusoids the second scale of the luma read takes partly for texture)
check(abs(told - 25) < 6 and told > plain + 5, "a 4:2:0 JPEG of sigma-25 noise: %.2f told, %.2f plain" % (told, plain))
check(xunit.estimate_noise_level(noisy[..., 1], chroma_subsampled=True) == xunit.estimate_noise_level(noisy[..., 1]),
      "chroma_subsampled changes nothing for gray")
e = None
try:
    xunit.estimate_noise_level(np.zeros((0, 5), np.uint8))
except xunit.Error as err:
    e = err
check(e is not None and e.status == "XUNIT_ERROR_INVALID_ARGUMENT", "an empty image: xunit.Error %s" % e)
with xunit.Model("xdncnn-color") as m:
    blind = m.run(noisy)
    check(np.array_equal(m.run(noisy, sigma="auto"), blind), 'sigma="auto" is the default')
    for bad in ("10", "AUTO", -1, 256, float("nan"), True, None, [5]):
        check(raises(lambda: m.run(noisy, sigma=bad), ValueError, "sigma is"), "sigma=%r refused" % (bad,))
with xunit.Model("xsrgan-x2") as blind:  # a super-resolution model takes no noise level
    e = None
    try:
        blind.run(noisy, sigma=10)
    except xunit.Error as err:
        e = err
    check(e is not None and e.status == "XUNIT_ERROR_INVALID_ARGUMENT" and "takes no noise level" in str(e),
          "sigma=10 on a blind model: xunit.Error %s" % e)

# Denoisers conditioned on the noise level (the parity fixtures): the levels xunit-run gives them,
# bit for bit, through every channel route (one estimate on what the model runs on).
parity = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "parity")
with tempfile.TemporaryDirectory() as tmp:
    paths = {}
    for fixture, name in (("xdncnn_nm_c3_f16_b2", "color"), ("xdncnn_nm_c1_f16_b1", "gray")):
        paths[name] = os.path.join(tmp, name + ".xunit")
        subprocess.run([os.path.join(os.path.dirname(xunit_run), "xunit-convert"),
                        os.path.join(parity, fixture, "model.pt"), paths[name]], check=True, capture_output=True)
    with xunit.Model(paths["color"]) as nc, xunit.Model(paths["gray"]) as ng:
        check(nc.noise_level_input and ng.noise_level_input, "Model.noise_level_input")
        check(np.array_equal(nc.run(small, sigma=10), cli(paths["color"], small, ["--sigma", "10"])),
              "sigma=10 as xunit-run --sigma 10")
        check(np.array_equal(nc.run(small, sigma=np.float32(10)), nc.run(small, sigma=10)), "a numpy float sigma")
        check(not np.array_equal(nc.run(small, sigma=10), nc.run(small, sigma=30)), "the level matters")
        check(np.array_equal(nc.run(small), cli(paths["color"], small)), "sigma auto as xunit-run's estimate")
        check(np.array_equal(nc.run(gray2d), cli(paths["color"], gray2d)), "auto, gray through the color model")
        check(np.array_equal(ng.run(small), cli(paths["gray"], small)), "auto, color through the gray model")
        check(np.array_equal(ng.run(gray_rgb), cli(paths["gray"], gray_rgb)), "auto, gray content")
        check(np.array_equal(nc.run(rgba), cli(paths["color"], rgba)), "auto, RGBA")


# --- close() while another thread is inside run(): it waits; runs after it are refused.
big = np.ascontiguousarray(np.tile(noisy, (2, 2, 1)))
m = xunit.Model("xdncnn-color")
expected = m.run(big, threads=1, tile=32)  # the same stripes as below: the same rounding
started, release = threading.Event(), threading.Event()
got, inner = {}, []


def slow_progress(fraction):
    if not started.is_set():
        try:
            m.close()  # from inside its own run: refused, it would wait for ever
        except RuntimeError as err:
            inner.append(str(err))
        started.set()
        release.wait(10)
    return False


def runner():
    got["out"] = m.run(big, threads=1, tile=32, progress=slow_progress)


t = threading.Thread(target=runner)
t.start()
started.wait(10)
closer = threading.Thread(target=m.close)
closer.start()
deadline = time.time() + 10
while m._handle is not None and time.time() < deadline:  # until close() has begun
    time.sleep(0.01)
time.sleep(0.1)
check(closer.is_alive(), "close() waits while a run is in flight")
check(raises(lambda: m.run(noisy), ValueError, "closed"), "a run started while close() waits is refused")
release.set()
t.join(30)
closer.join(30)
check(not closer.is_alive() and np.array_equal(got.get("out"), expected),
      "the run in flight finishes with the right result, then close() returns")
check(len(inner) == 1 and "inside a run" in inner[0], "close() from the run's own callback: RuntimeError")
check(raises(lambda: m.run(noisy), ValueError, "closed"), "closed after close()")
m.close()  # twice: nothing

# `with` and garbage collection: the model lives as long as a run holds it.
results = {}
with xunit.Model("xdncnn-color") as m2:
    ts = [threading.Thread(target=lambda i=i: results.__setitem__(i, m2.run(big, threads=1, tile=32)))
          for i in range(2)]
    [t.start() for t in ts]
    time.sleep(0.05)
[t.join() for t in ts]
check(len(results) == 2 and all(np.array_equal(r, expected) for r in results.values()),
      "leaving `with` while 2 threads run: both finish")
m3 = xunit.Model("xdncnn-color")
gone = []
weakref.finalize(m3, lambda: gone.append(True))
t = threading.Thread(target=lambda mm=m3: results.__setitem__("gc", mm.run(big, threads=1, tile=32)))
t.start()
del m3
t.join()
del t
check(np.array_equal(results["gc"], expected), "a model dropped by its owner while a thread runs it: the run finishes")

if failures:
    print("%d failed" % len(failures))
    sys.exit(1)
print("all passed")
