"""Reads an .xunit model (docs/xunit-format.md) into Python: metadata, graph ops and weights.

Training uses it to start from a shipped model (``xdncnn_state_dict``): the checkpoints of a run
are not kept, the .xunit is. The reader checks the magic, the major version and the SHA-256
trailer; it trusts the rest (files come from our own converter, not from users).
"""

import hashlib
import struct

import numpy as np

MAGIC = b"\x89XUNIT\r\n"
DTYPES = {0: np.float32, 1: np.float16}  # 2 = bf16, widened by hand below


class _Cursor:
    def __init__(self, data, offset):
        self.data, self.pos = data, offset

    def take(self, fmt):
        vals = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return vals if len(vals) > 1 else vals[0]

    def string(self):
        n = self.take("I")
        s = self.data[self.pos:self.pos + n].decode("utf-8")
        self.pos += n
        return s


def read(path):
    """Returns (metadata dict, ops list, tensors dict of float32 numpy arrays).
    Each op: {"type", "name", "inputs", "output", "attrs"}; tensor attributes are arrays."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != MAGIC:
        raise ValueError("%s: not an .xunit file" % path)
    if hashlib.sha256(data[:-32]).digest() != data[-32:]:
        raise ValueError("%s: checksum mismatch" % path)
    major, _minor = struct.unpack_from("<HH", data, 8)
    if major != 1:
        raise ValueError("%s: major version %d" % (path, major))
    table, count = struct.unpack_from("<QI", data, 24)
    sections = {}
    for i in range(count):
        kind, _flags, off, _size = struct.unpack_from("<IIQQ", data, table + 24 * i)
        sections[kind] = off

    c = _Cursor(data, sections[1])
    meta = {}
    for _ in range(c.take("I")):
        k = c.string()
        meta[k] = c.string()

    c = _Cursor(data, sections[2])
    tensors = {}
    for _ in range(c.take("I")):
        name = c.string()
        dtype, rank = c.take("II")
        dims = [c.take("Q") for _ in range(rank)]
        off, size = c.take("QQ")
        raw = data[off:off + size]
        if dtype == 2:
            a = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            a = np.frombuffer(raw, dtype=DTYPES[dtype]).astype(np.float32)
        tensors[name] = a.reshape(dims)

    c = _Cursor(data, sections[3])
    c.string()  # input value
    c.take("I")  # input channels
    c.string()  # output value
    ops = []
    for _ in range(c.take("I")):
        op = {"type": c.string(), "name": c.string()}
        op["inputs"] = [c.string() for _ in range(c.take("I"))]
        op["output"] = c.string()
        attrs = {}
        for _ in range(c.take("I")):
            key, kind = c.string(), c.take("I")
            if kind == 1:
                attrs[key] = c.take("q")
            elif kind == 2:
                attrs[key] = c.take("f")
            elif kind == 3:
                attrs[key] = c.string()
            else:
                attrs[key] = tensors[c.string()]
        op["attrs"] = attrs
        ops.append(op)
    return meta, ops, tensors


def xdncnn_state_dict(path, eps=1e-5):
    """A g_xdncnn state_dict with the function of the .xunit model at `path`.

    The converter folded each xUnit's BatchNorm into its depthwise conv and kept each block's
    input BatchNorm as an affine op: the affine becomes a BatchNorm whose running statistics are
    the identity (mean 0, var 1 - eps), the folded conv stays folded behind an identity
    BatchNorm. Exact in eval mode; train such a model with its BatchNorms frozen (eval)."""
    import torch

    meta, ops, _ = read(path)
    if meta.get("family") != "xdncnn":
        raise ValueError("%s: family %r, expected xdncnn" % (path, meta.get("family")))
    sd = {}

    def t(a):
        return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))

    def identity_bn(prefix, n, scale=None, shift=None):
        sd[prefix + ".weight"] = t(scale if scale is not None else np.ones(n))
        sd[prefix + ".bias"] = t(shift if shift is not None else np.zeros(n))
        sd[prefix + ".running_mean"] = torch.zeros(n)
        sd[prefix + ".running_var"] = torch.full((n,), 1.0 - eps)
        sd[prefix + ".num_batches_tracked"] = torch.tensor(0, dtype=torch.long)

    for op in ops:
        a, name = op["attrs"], op["name"]
        if op["type"] == "affine":
            identity_bn(name, len(a["scale"]), a["scale"], a["shift"])
        elif op["type"] == "conv2d":
            if a.get("groups", 1) > 1:  # an xUnit's depthwise conv, its BatchNorm folded in
                prefix = name[:-len(".features.0")]  # "<block>.xunit"
                sd[prefix + ".features.0.weight"] = t(a["weight"])
                sd[prefix + ".features.0.bias"] = t(a["bias"])
                identity_bn(prefix + ".features.1", a["weight"].shape[0])
            else:
                sd[name + ".weight"] = t(a["weight"])
                sd[name + ".bias"] = t(a["bias"])
    return meta, sd
