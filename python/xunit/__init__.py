"""xunit: CPU inference for xUnit image-restoration networks, over libxunit's C API.

    import numpy as np, xunit
    with xunit.Model("xdncnn-color.xunit") as model:
        clean = model.run(noisy)            # (H, W, C) uint8 / uint16 / float32 in, same out

uint8 and uint16 images map their full range to [0, 1] and come back rounded and clamped;
float32 images are in the network's own domain ([0, 1]) and come back unclamped. A (H, W) array
is a one-channel image. Calls release the GIL: threads may share one model.
"""
import ctypes
import os

import numpy as np

from . import _capi

__all__ = ["Error", "Model", "version", "version_number", "shipped_model_dir"]

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


def shipped_model_dir():
    """The folder of the shipped models installed with this package, or None."""
    env = os.environ.get("XUNIT_MODEL_DIR")
    if env:
        return env
    try:
        from . import _install_paths
    except ImportError:
        return None
    here = os.path.dirname(os.path.abspath(__file__))
    d = os.path.normpath(os.path.join(here, _install_paths.MODEL_RELATIVE_DIR))
    return d if os.path.isdir(d) else None


class Model:
    """A loaded, validated .xunit model. Immutable: any number of threads may run it at once."""

    def __init__(self, path=None, *, data=None):
        """Loads a .xunit file (memory-mapped), or the bytes of one given as `data`."""
        if (path is None) == (data is None):
            raise TypeError("Model(path) or Model(data=bytes)")
        handle = ctypes.c_void_p()
        if data is not None:
            buf = bytes(data)
            _check(_lib.xunit_model_load_memory(buf, len(buf), ctypes.byref(handle)))
        else:
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

    def metadata(self, key):
        """A metadata value of the model file ("title", "source_sha256", ...), or None."""
        v = _lib.xunit_model_get_metadata(self._live(), key.encode())
        return None if v is None else v.decode(errors="replace")

    def run(self, image, *, threads=0, tile=-1, precision="fp32", progress=None):
        """Restores `image`, a (H, W, C) or (H, W) uint8, uint16 or float32 array (other float
        types are converted to float32), into a new array of the same type and layout, scale
        times larger for super-resolution models.

        threads: 0 = all cores. tile: stripe width in input pixels (-1 automatic, 0 whole width).
        precision: "fp32", "bf16" or "auto". progress: called with the fraction done; return
        True to cancel (the call then raises Error with status XUNIT_ERROR_CANCELLED)."""
        a = np.asarray(image)
        if a.dtype.kind == "f" and a.dtype != np.float32:
            a = a.astype(np.float32)
        if a.dtype not in _DTYPES:
            raise TypeError("xunit: images are uint8, uint16 or float32 arrays, not %s" % a.dtype)
        if a.ndim not in (2, 3):
            raise ValueError("xunit: an image is a (H, W, C) or (H, W) array, not shape %s" % (a.shape,))
        if precision not in _capi.PRECISIONS:
            raise ValueError("xunit: precision is one of %s, not %r" % (sorted(_capi.PRECISIONS), precision))
        a = np.ascontiguousarray(a)
        h, w = a.shape[:2]
        c = 1 if a.ndim == 2 else a.shape[2]
        s = self.scale
        out_shape = (h * s, w * s) if a.ndim == 2 and self.out_channels == 1 else (h * s, w * s, self.out_channels)
        out = np.empty(out_shape, dtype=a.dtype)
        pixel = _DTYPES[a.dtype]
        src = _capi.Image(w, h, c, pixel, w * c * a.itemsize, a.ctypes.data)
        dst = _capi.Image(w * s, h * s, self.out_channels, pixel, w * s * self.out_channels * a.itemsize,
                          out.ctypes.data)
        opts = _capi.RunOptions()
        _lib.xunit_run_options_init(ctypes.byref(opts))
        opts.threads, opts.tile_size, opts.precision = int(threads), int(tile), _capi.PRECISIONS[precision]
        if progress is not None:
            def on_progress(fraction, _user):
                return 1 if progress(float(fraction)) else 0
            opts.progress = _capi.ProgressFn(on_progress)  # kept alive by `opts` during the call
        _check(_lib.xunit_run(self._live(), ctypes.byref(opts), ctypes.byref(src), ctypes.byref(dst)))
        return out

    def close(self):
        """Frees the model now (also done when it is garbage-collected)."""
        if getattr(self, "_handle", None):
            _lib.xunit_model_free(self._handle)
            self._handle = None

    def _live(self):
        if not self._handle:
            raise ValueError("xunit: the model is closed")
        return self._handle

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
