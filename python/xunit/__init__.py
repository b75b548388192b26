"""xunit: CPU inference for xUnit image-restoration networks, over libxunit's C API.

    import numpy as np, xunit
    with xunit.Model("xdncnn-color") as model:      # a shipped model's name, or a .xunit path
        clean = model.run(noisy)            # (H, W, C) or (H, W) uint8 / uint16 / float32

uint8 and uint16 images map their full range to [0, 1] and come back rounded and clamped, in
the same type; float32 images are in the network's own domain ([0, 1]) and come back
unclamped (values far outside [0, 1], such as 0..255, are refused: see Model.run). Channels are
adapted as xunit-run adapts them: a gray model runs on each of R, G, B of a color image (once
when they hold gray content), a color model on a gray image replicated to RGB and averaged
back, an alpha channel is passed through (resized for super-resolution). Calls release the
GIL: threads may share one model.

A denoiser conditioned on the noise level (Model.noise_level_input) is given the level its
input's noise is estimated at (estimate_noise_level), or run(image, sigma=N)'s N.
"""
import contextlib
import ctypes
import numbers
import os
import threading

import numpy as np

from . import _capi

__all__ = ["Error", "Model", "version", "version_number", "shipped_model_dir", "shipped_models",
           "model_dirs", "find_model", "gray_content", "estimate_noise_level"]

_lib = _capi.load_library()
_DTYPES = {np.dtype(np.uint8): _capi.PIXEL_U8, np.dtype(np.uint16): _capi.PIXEL_U16,
           np.dtype(np.float32): _capi.PIXEL_F32}


class Error(RuntimeError):
    """A failed libxunit call: `code` is its xunit_status, `status` that status's C name (e.g.
    "XUNIT_ERROR_IO"), and the message is libxunit's one-line explanation."""

    def __init__(self, code, message):
        self.code = code
        self.status = _capi.STATUS_NAMES.get(code, "XUNIT_ERROR_%d" % code)
        super().__init__(message or _lib.xunit_status_string(code).decode())


def _check(status):
    if status != 0:
        raise Error(status, _lib.xunit_last_error().decode(errors="replace"))


def version():
    """The library's version, e.g. '0.2.0'."""
    return _lib.xunit_version().decode()


def version_number():
    """The library's version as MAJOR * 10000 + MINOR * 100 + PATCH, e.g. 200 for 0.2.0."""
    return int(_lib.xunit_version_number())


def model_dirs():
    """The folders searched for shipped models, in order: $XUNIT_MODEL_DIR, the models installed
    with this package (share/xunit/models of its prefix), models/ of the source tree holding
    this package (python/xunit). xunit-run searches the same places from its own location."""
    dirs = []
    env = os.environ.get("XUNIT_MODEL_DIR")
    if env:
        dirs.append(env)
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        from . import _install_paths
        dirs.append(os.path.normpath(os.path.join(here, _install_paths.MODEL_RELATIVE_DIR)))
    except ImportError:  # a source checkout: no install paths
        pass
    dirs.append(os.path.normpath(os.path.join(here, "..", "..", "models")))
    return dirs


def shipped_model_dir():
    """The first folder of model_dirs() that holds a shipped model (a .xunit file), or None."""
    for d in model_dirs():
        if os.path.isdir(d) and any(n.endswith(".xunit") for n in os.listdir(d)):
            return d
    return None


def shipped_models():
    """The names of the shipped models (as xunit-run --list-models lists them), sorted."""
    d = shipped_model_dir()
    return [] if d is None else sorted(n[:-6] for n in os.listdir(d) if n.endswith(".xunit") and n[0] != ".")


def find_model(name):
    """`name` as given when it is a file, else the path of the shipped model of that name
    (".xunit" optional), as xunit-run -m resolves it. Raises Error (XUNIT_ERROR_IO) listing
    where it looked."""
    name = os.fspath(name)
    if os.path.isfile(name):
        return name
    if os.sep not in name:
        file = name if name.endswith(".xunit") else name + ".xunit"
        for d in model_dirs():
            if os.path.isfile(os.path.join(d, file)):
                return os.path.join(d, file)
    raise Error(_capi.STATUS_IO, "no model '%s' (not a file, nor a shipped model in %s)"
                % (name, ", ".join(model_dirs())))


# Gray content in a color image, as xunit-run tells it (cli/restore.h): every pixel's R, G, B
# within 2 levels of 255 of each other, and no tint (the means of R - G and B - G within a
# quarter level).
_GRAY_SPREAD = np.float32(2.5 / 255)
_GRAY_TINT = 0.25 / 255


def _unit(a):
    """uint8/uint16 samples as float32 in [0, 1] (as libxunit converts them); float32 as is."""
    if a.dtype == np.uint8:
        return a.astype(np.float32) / np.float32(255)
    if a.dtype == np.uint16:
        return a.astype(np.float32) / np.float32(65535)
    return a


def _quantize(v, dtype):
    """[0, 1] to 0..max, rounded half up in double precision, NaN and below 0 to 0 (as libxunit)."""
    top = np.iinfo(dtype).max
    d = v.astype(np.float64)
    return np.where(d > 0, np.where(d >= 1, top, np.floor(d * top + 0.5)), 0).astype(dtype)


def gray_content(image):
    """Whether a (H, W, 3) or (H, W, 4) image holds gray content in its R, G, B (a black-and-white
    photo saved as RGB), as xunit-run decides it; False for other shapes."""
    a = np.asarray(image)
    if a.ndim != 3 or a.shape[2] not in (3, 4) or a.size == 0:
        return False
    u = _unit(a if a.dtype in (np.uint8, np.uint16) else a.astype(np.float32))[..., :3]
    if not (u.max(axis=2) - u.min(axis=2) <= _GRAY_SPREAD).all():
        return False
    n = u.shape[0] * u.shape[1]
    r_g = np.sum(u[..., 0].astype(np.float64) - u[..., 1])
    b_g = np.sum(u[..., 2].astype(np.float64) - u[..., 1])
    return bool(abs(r_g) <= _GRAY_TINT * n and abs(b_g) <= _GRAY_TINT * n)


def _as_image(image):
    """`image` as a uint8, uint16 or float32 array of 2 or 3 dimensions (other float types are
    converted to float32); TypeError or ValueError otherwise."""
    a = np.asarray(image)
    if a.dtype.kind == "f" and a.dtype != np.float32:
        a = a.astype(np.float32)
    if a.dtype not in _DTYPES:
        raise TypeError("xunit: images are uint8, uint16 or float32 arrays, not %s" % a.dtype)
    if a.ndim not in (2, 3):
        raise ValueError("xunit: an image is a (H, W, C) or (H, W) array, not shape %s" % (a.shape,))
    return a


def _estimate(a, chroma_subsampled=False):
    """xunit_estimate_noise_level_stored on a contiguous array of _as_image."""
    h, w = a.shape[:2]
    c = 1 if a.ndim == 2 else a.shape[2]
    src = _capi.Image(w, h, c, _DTYPES[a.dtype], w * c * a.itemsize, a.ctypes.data)
    sigma = ctypes.c_float()
    _check(_lib.xunit_estimate_noise_level_stored(ctypes.byref(src), 1 if chroma_subsampled else 0,
                                                  ctypes.byref(sigma)))
    return float(sigma.value)


def estimate_noise_level(image, *, chroma_subsampled=False):
    """The standard deviation of the white noise in `image`, in 8-bit levels (0..255 whatever
    its type), measured in its flattest parts: about 0 for a clean photo, about N for one with
    Gaussian noise of N levels added (then clipped and saved). `image` as Model.run takes it:
    (H, W) or (H, W, C), uint8, uint16 or float32 in [0, 1]; with C = 2 or 4 the last channel
    is alpha and left out. What a noise-conditioned model is given with sigma="auto".

    chroma_subsampled=True: the image was decoded from a file that stored its chroma at a lower
    resolution (most JPEGs: 4:2:0 or 4:2:2; lossy WebP), which keeps only the luma's share of
    the noise; an RGB image is then read by its luma, and the result is what to give run() as
    sigma for it (Pillow: JpegImagePlugin.get_sampling(im) != 0 for a JPEG)."""
    return _estimate(np.ascontiguousarray(_as_image(image)), chroma_subsampled)


def _noise_level(sigma):
    """run()'s sigma: None for "auto", else the level as a float; ValueError otherwise."""
    if isinstance(sigma, str) and sigma == "auto":
        return None
    if isinstance(sigma, numbers.Real) and not isinstance(sigma, bool) and 0 <= float(sigma) <= 255:
        return float(sigma)
    raise ValueError('xunit: sigma is "auto" or a noise level in 8-bit levels, 0..255, not %r' % (sigma,))


def _upscale(plane, f):
    """Bilinear resize of a (H, W) float32 plane by an integer factor (align_corners=False), as
    xunit-run resizes an alpha channel for super-resolution."""
    if f == 1:
        return plane
    h, w = plane.shape

    def coord(n, size):
        s = np.maximum((np.arange(n * f, dtype=np.float32) + np.float32(0.5)) / np.float32(f) - np.float32(0.5),
                       np.float32(0))
        i0 = np.minimum(s.astype(np.int64), size - 1)
        return i0, np.minimum(i0 + 1, size - 1), (s - i0.astype(np.float32)).astype(np.float32)
    y0, y1, ty = coord(h, h)
    x0, x1, tx = coord(w, w)
    tx, ty = tx[None, :], ty[:, None]
    one = np.float32(1)
    top = plane[y0][:, x0] * (one - tx) + plane[y0][:, x1] * tx
    bot = plane[y1][:, x0] * (one - tx) + plane[y1][:, x1] * tx
    return (top * (one - ty) + bot * ty).astype(np.float32)


# A float image must lie in [0, 1] within this margin (room for unclipped noise of sigma 50/255
# at 5 sigma); beyond it, it is almost surely in another range (0..255).
_FLOAT_MARGIN = 1.0


class Model:
    """A loaded, validated .xunit model. Immutable: any number of threads may run it at once.

    close() (also by `with` and garbage collection) waits for the runs in flight on other
    threads to finish, refuses new ones, then frees the model: no run can use a freed model."""

    def __init__(self, path=None, *, data=None):
        """Loads a model: a shipped model's name ("xdncnn-color", as xunit-run -m takes it; see
        shipped_models()), the path of a .xunit file, or the bytes of one given as `data`. The
        file is read into memory and validated; it may change or go once loaded."""
        self._lock = threading.Condition()
        self._handle = None
        self._runs = {}  # thread id -> runs of this model in flight on that thread
        if (path is None) == (data is None):
            raise TypeError("Model(name or path) or Model(data=bytes)")
        handle = ctypes.c_void_p()
        if data is not None:
            buf = bytes(data)
            _check(_lib.xunit_model_load_memory(buf, len(buf), ctypes.byref(handle)))
        else:
            path = os.fspath(path)
            if os.sep not in path and not os.path.isfile(path):
                path = find_model(path)
            _check(_lib.xunit_model_load(os.fsencode(path), ctypes.byref(handle)))
        self._handle = handle
        info = _capi.ModelInfo()  # struct_size set
        _check(_lib.xunit_model_get_info(self._handle, ctypes.byref(info)))
        self.task = _capi.TASKS.get(info.task, str(info.task))
        self.scale = info.scale
        self.in_channels = info.in_channels
        self.out_channels = info.out_channels
        self.receptive_field = info.receptive_field
        self.parameters = info.parameters
        self.family = info.family.decode()
        # True for a denoiser conditioned on the noise level (run's sigma); False for a blind one.
        self.noise_level_input = bool(info.noise_level_input)

    @contextlib.contextmanager
    def _use(self):
        """The handle, held open for the duration: close() waits until every _use has ended."""
        me = threading.get_ident()
        with self._lock:
            if not self._handle:
                raise ValueError("xunit: the model is closed")
            self._runs[me] = self._runs.get(me, 0) + 1
        try:
            yield self._handle
        finally:
            with self._lock:
                self._runs[me] -= 1
                if not self._runs[me]:
                    del self._runs[me]
                if not self._runs:
                    self._lock.notify_all()

    def metadata(self, key):
        """A metadata value of the model file ("title", "source_sha256", ...), or None."""
        with self._use() as handle:
            v = _lib.xunit_model_get_metadata(handle, key.encode())
            return None if v is None else v.decode(errors="replace")

    def run(self, image, *, threads=0, tile=-1, precision="fp32", progress=None, check_range=True,
            sigma="auto"):
        """Restores `image`, a (H, W, C) or (H, W) uint8, uint16 or float32 array (other float
        types are converted to float32), into a new array of the same type and layout, scale
        times larger for super-resolution models.

        Channels: an image with the model's channel count runs as it is. Otherwise, as
        xunit-run: C = 2 or 4 is gray or RGB with alpha, the alpha passed through (resized
        bilinearly for super-resolution); a gray model runs on each of R, G, B (once, on their
        mean, when they hold gray content: see gray_content()); a color model runs on a gray
        image replicated to RGB and its result is averaged back to gray.

        check_range: float images must lie in [0, 1] give or take 1.0 (unclipped noise fits;
        0..255 does not), and hold no NaN or infinity; ValueError otherwise. False runs any
        values, for a model whose domain is another one.
        threads: 0 = all cores. tile: stripe width in input pixels (-1 automatic, 0 whole width).
        precision: "fp32", "bf16" or "auto". progress: called with the fraction done; return
        True to cancel (the call then raises Error with status XUNIT_ERROR_CANCELLED).
        sigma: for a model with a noise-level input (noise_level_input), the noise level in
        8-bit levels (0..255 whatever the type; larger removes more), or "auto" (the default):
        the level of the image the model is run on, estimated once (estimate_noise_level of the
        gray content, or of the colour channels run one by one), as xunit-run does. A number for
        a blind model raises Error (XUNIT_ERROR_INVALID_ARGUMENT)."""
        a = _as_image(image)
        level = _noise_level(sigma)
        if level is not None and not self.noise_level_input:
            raise Error(_capi.STATUS_INVALID_ARGUMENT,
                        "sigma=%g: the model (%s) takes no noise level (a blind model): leave sigma=\"auto\""
                        % (level, self.family))
        if precision not in _capi.PRECISIONS:
            raise ValueError("xunit: precision is one of %s, not %r" % (sorted(_capi.PRECISIONS), precision))
        if a.dtype == np.float32 and check_range and a.size:
            lo, hi = float(a.min()), float(a.max())
            if not (np.isfinite(lo) and np.isfinite(hi)):
                raise ValueError("xunit: the float image holds NaN or infinity")
            if lo < -_FLOAT_MARGIN or hi > 1 + _FLOAT_MARGIN:
                raise ValueError(
                    "xunit: a float32 image is in [0, 1] (the network's domain), this one spans %g..%g: "
                    "divide it by 255 (or 65535), or pass it as uint8 (uint16); check_range=False "
                    "runs it as it is" % (lo, hi))
        a = np.ascontiguousarray(a)
        c = 1 if a.ndim == 2 else a.shape[2]
        run = _Runs(self, threads, tile, precision, progress, level)
        if c == self.in_channels:
            run.total = 1
            run.set_noise_level(a)
            return run(a, squeeze=a.ndim == 2 and self.out_channels == 1)
        return self._adapted(a, c, run)

    def _adapted(self, a, c, run):
        """xunit-run's channel rules (cli/restore.cpp) for an image whose channel count is not
        the model's: in float32 [0, 1], back to the input's type at the end."""
        alpha = c in (2, 4)
        colour = c - 1 if alpha else c
        m, s = self.in_channels, self.scale
        if self.out_channels != m:
            raise Error(_capi.STATUS_INVALID_ARGUMENT, "the model turns %d channels into %d: not an image model"
                        % (m, self.out_channels))
        u = _unit(a).reshape(a.shape[0], a.shape[1], c)
        h, w = a.shape[:2]
        if colour == m:
            run.total = 1
            fed = np.ascontiguousarray(u[..., :colour])
            run.set_noise_level(fed)
            result = run(fed)
        elif m == 1 and colour == 3 and gray_content(a):
            run.total = 1
            rgb = u[..., :3]
            exact = (rgb[..., 0] == rgb[..., 1]) & (rgb[..., 1] == rgb[..., 2])
            gray = np.ascontiguousarray(
                np.where(exact, rgb[..., 0], (rgb[..., 0] + rgb[..., 1] + rgb[..., 2]) / np.float32(3)))
            run.set_noise_level(gray)
            out = run(gray, squeeze=True)
            result = np.stack([out + _upscale((rgb[..., k] - gray).astype(np.float32), s) for k in range(3)], -1)
        elif m == 1 and colour == 3:
            run.total = 3
            run.set_noise_level(np.ascontiguousarray(u[..., :3]))  # once: the median of the three
            result = np.stack([run(np.ascontiguousarray(u[..., k]), squeeze=True) for k in range(3)], -1)
        elif m == 3 and colour == 1:
            run.total = 1
            rgb = np.ascontiguousarray(np.repeat(u[..., :1], 3, axis=2))
            run.set_noise_level(rgb)
            out = run(rgb)
            result = ((out[..., 0] + out[..., 1] + out[..., 2]) / np.float32(3))[..., None]
        else:
            raise Error(_capi.STATUS_INVALID_ARGUMENT,
                        "the image has %d colour channel(s)%s; the model takes %d"
                        % (colour, " and alpha" if alpha else "", m))
        if alpha:
            result = np.concatenate([result, _upscale(np.ascontiguousarray(u[..., c - 1]), s)[..., None]], -1)
        if a.ndim == 2:
            result = result[..., 0]
        result = result.astype(np.float32)
        return result if a.dtype == np.float32 else _quantize(result, a.dtype)

    def close(self):
        """Frees the model now (also done by `with` and when it is garbage-collected). Runs in
        flight on other threads finish first: close() waits for them, and runs started after it
        are refused (ValueError: the model is closed). Calling it from inside one of this
        model's own runs (its progress callback) raises RuntimeError: it would wait for ever."""
        lock = getattr(self, "_lock", None)
        if lock is None:  # __init__ failed before there was anything to free
            return
        with lock:
            if self._runs.get(threading.get_ident()):
                raise RuntimeError("xunit: close() from inside a run of this model (its progress callback)")
            handle, self._handle = self._handle, None  # new runs are refused from here on
            while self._runs:
                lock.wait()
            if handle:
                _lib.xunit_model_free(handle)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown: the library may already be unloaded
            pass

    def __repr__(self):
        return "xunit.Model(%s, %s, x%d, %d->%d channels, %d parameters)" % (
            self.family, self.task, self.scale, self.in_channels, self.out_channels, self.parameters)


class _Runs:
    """Runs of one model for one image (several when its channels are run one by one), the
    progress callback told the fraction of all of them."""

    def __init__(self, model, threads, tile, precision, progress, level=None):
        self.model, self.progress, self.total, self.done, self.level = model, progress, 1, 0, level
        self.opts = _capi.RunOptions()
        _lib.xunit_run_options_init_sized(ctypes.byref(self.opts), ctypes.sizeof(self.opts))
        self.opts.threads, self.opts.tile_size = int(threads), int(tile)
        self.opts.precision = _capi.PRECISIONS[precision]
        if progress is not None:
            def on_progress(fraction, _user):
                return 1 if progress((self.done + float(fraction)) / self.total) else 0
            self.opts.progress = _capi.ProgressFn(on_progress)  # kept alive by `self`

    def set_noise_level(self, fed):
        """For a model with a noise-level input: the level given, else that of `fed` (the image
        the runs are made on, as xunit-run estimates it: in float32 [0, 1], so that both give
        the model the same level to the bit). Nothing for a blind model."""
        if not self.model.noise_level_input:
            return
        level = self.level if self.level is not None else _estimate(np.ascontiguousarray(_unit(fed)))
        self.opts.noise_level_mode, self.opts.noise_level = _capi.NOISE_LEVEL_FIXED, level

    def __call__(self, a, squeeze=False):
        """The model on a contiguous (H, W) or (H, W, C) array of the model's channel count."""
        m = self.model
        h, w = a.shape[:2]
        c = 1 if a.ndim == 2 else a.shape[2]
        s = m.scale
        out = np.empty((h * s, w * s) if squeeze else (h * s, w * s, m.out_channels), dtype=a.dtype)
        pixel = _DTYPES[a.dtype]
        src = _capi.Image(w, h, c, pixel, w * c * a.itemsize, a.ctypes.data)
        dst = _capi.Image(w * s, h * s, m.out_channels, pixel, w * s * m.out_channels * a.itemsize,
                          out.ctypes.data)
        with m._use() as handle:
            _check(_lib.xunit_run(handle, ctypes.byref(self.opts), ctypes.byref(src), ctypes.byref(dst)))
        self.done += 1
        return out
