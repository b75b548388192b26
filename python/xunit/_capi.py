"""ctypes declarations of include/xunit/xunit.h, and where libxunit.so.1 is found."""
import ctypes
import os

SONAME = "libxunit.so.1"


class Image(ctypes.Structure):
    _fields_ = [("width", ctypes.c_int32), ("height", ctypes.c_int32), ("channels", ctypes.c_int32),
                ("pixel_type", ctypes.c_int32), ("row_stride", ctypes.c_size_t), ("data", ctypes.c_void_p)]


ProgressFn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_float, ctypes.c_void_p)


# xunit_image is frozen; the two structs below begin with struct_size (xunit_run_options_init_sized
# sets it in RunOptions; ModelInfo() sets it itself).
class RunOptions(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("threads", ctypes.c_int32), ("tile_size", ctypes.c_int32),
                ("precision", ctypes.c_int32),
                ("progress", ProgressFn), ("progress_user_data", ctypes.c_void_p),
                # XUNIT_NOISE_LEVEL_AUTO and 0 by default
                ("noise_level_mode", ctypes.c_int32), ("noise_level", ctypes.c_float)]


class ModelInfo(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("task", ctypes.c_int32), ("scale", ctypes.c_int32),
                ("in_channels", ctypes.c_int32),
                ("out_channels", ctypes.c_int32), ("receptive_field", ctypes.c_int32),
                ("parameters", ctypes.c_int64), ("family", ctypes.c_char_p),
                ("noise_level_input", ctypes.c_int32)]

    def __init__(self):
        super().__init__()
        self.struct_size = ctypes.sizeof(ModelInfo)


PIXEL_U8, PIXEL_U16, PIXEL_F32 = 0, 1, 2
PRECISIONS = {"fp32": 0, "bf16": 1, "auto": 2}
NOISE_LEVEL_AUTO, NOISE_LEVEL_FIXED = 0, 1
TASKS = {0: "denoise", 1: "super_resolution"}
STATUS_INVALID_ARGUMENT, STATUS_IO, STATUS_CANCELLED = 1, 2, 6
STATUS_NAMES = {1: "XUNIT_ERROR_INVALID_ARGUMENT", 2: "XUNIT_ERROR_IO", 3: "XUNIT_ERROR_INVALID_MODEL",
                4: "XUNIT_ERROR_UNSUPPORTED", 5: "XUNIT_ERROR_OUT_OF_MEMORY", 6: "XUNIT_ERROR_CANCELLED",
                7: "XUNIT_ERROR_INTERNAL"}


def _candidates():
    """$XUNIT_LIBRARY, then the library installed beside this package, then the system loader."""
    env = os.environ.get("XUNIT_LIBRARY")
    if env:
        return [env]
    found = []
    try:
        from . import _install_paths
        here = os.path.dirname(os.path.abspath(__file__))
        found.append(os.path.normpath(os.path.join(here, _install_paths.LIBRARY_RELATIVE_DIR, SONAME)))
    except ImportError:  # a source checkout: no install paths
        pass
    found.append(SONAME)
    return found


def load_library():
    errors = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            errors.append("%s: no such file" % path)
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            errors.append(str(e))
            continue
        _declare(lib)
        return lib
    raise ImportError("xunit: cannot load %s (%s); set XUNIT_LIBRARY to its path" % (SONAME, "; ".join(errors)))


def _declare(lib):
    P = ctypes.POINTER
    status = ctypes.c_int
    lib.xunit_version.restype = ctypes.c_char_p
    lib.xunit_version.argtypes = []
    lib.xunit_version_number.restype = ctypes.c_uint32
    lib.xunit_version_number.argtypes = []
    lib.xunit_last_error.restype = ctypes.c_char_p
    lib.xunit_last_error.argtypes = []
    lib.xunit_status_string.restype = ctypes.c_char_p
    lib.xunit_status_string.argtypes = [status]
    lib.xunit_model_load.restype = status
    lib.xunit_model_load.argtypes = [ctypes.c_char_p, P(ctypes.c_void_p)]
    lib.xunit_model_load_memory.restype = status
    lib.xunit_model_load_memory.argtypes = [ctypes.c_void_p, ctypes.c_size_t, P(ctypes.c_void_p)]
    lib.xunit_model_free.restype = None
    lib.xunit_model_free.argtypes = [ctypes.c_void_p]
    lib.xunit_model_get_info.restype = status
    lib.xunit_model_get_info.argtypes = [ctypes.c_void_p, P(ModelInfo)]
    lib.xunit_model_get_metadata.restype = ctypes.c_char_p
    lib.xunit_model_get_metadata.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.xunit_run_options_init_sized.restype = None
    lib.xunit_run_options_init_sized.argtypes = [P(RunOptions), ctypes.c_size_t]
    lib.xunit_run.restype = status
    lib.xunit_run.argtypes = [ctypes.c_void_p, P(RunOptions), P(Image), P(Image)]
    lib.xunit_estimate_noise_level.restype = status
    lib.xunit_estimate_noise_level.argtypes = [P(Image), P(ctypes.c_float)]
    lib.xunit_estimate_noise_level_stored.restype = status
    lib.xunit_estimate_noise_level_stored.argtypes = [P(Image), ctypes.c_int32, P(ctypes.c_float)]
