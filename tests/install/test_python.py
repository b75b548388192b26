"""The installed xunit Python package against the installed library and models.

    PYTHONPATH=P/lib/python3/dist-packages /usr/bin/python3 test_python.py XUNIT_RUN
(XUNIT_RUN: the installed xunit-run, whose output the package must reproduce bit for bit.)"""
import os
import subprocess
import sys
import tempfile
import threading

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
      "the package finds the installed models: %s" % model_dir)
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

    check(raises(lambda: m.run(noisy[..., :1]), xunit.Error, "channel"), "wrong channel count: C error text")
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

if failures:
    print("%d failed" % len(failures))
    sys.exit(1)
print("all passed")
