"""Reference PyTorch definitions of the xUnit image-restoration networks.

These are the reference definitions used by the parity fixtures
(tests/fixtures/make_parity_fixtures.py), the PyTorch peer benchmarks
(bench/peers/pytorch_peer.py) and training.  They mirror the generator code of
the official kligvasser/xUnit repository so that ``state_dict()`` keys match the
checkpoints users bring (see docs / shared MODELS.md for the key layout):

  * xUnitS  : y = x * sigmoid(BN(dwconv_k(x)))            keys features.{0,1}
  * xUnit   : y = x * sigmoid(BN(dwconv_k(relu(BN(x)))))  keys features.{0,2,3}
  * xUnitD  : y = x * sigmoid(BN(dwconv_k(relu(BN(conv1x1(x))))))
  * g_xdncnn / g_dncnn (denoisers, global residual)
  * g_xsrgan / g_srgan (super-resolution, bilinear skip)
  * g_ffdnet (FFDNet, noise-level-conditioned) and g_kair_dncnn: KAIR's key layouts
  * g_xdense (Dense xUnit, arXiv 1811.11051): the denoiser of the official
    denoising/ tree (scale=1) and the super-resolution one of its
    super-resolution/ tree (scale 2/4/8)

When batch_norm=False the BN slots hold parameter-free nn.Identity modules, so
the index numbering of later layers does not change.

Only the inference graph matters here; weight initialisation is PyTorch's
default (callers randomise as they need, see ``randomize_batchnorm``).
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = [
    "xUnit", "xUnitS", "xUnitD",
    "g_xdncnn", "g_dncnn", "g_xsrgan", "g_srgan", "g_xdense", "g_ffdnet",
    "g_kair_dncnn",
    "randomize_batchnorm", "build", "ARCHS", "noise_level_map",
]


def _bn_or_identity(num_features, batch_norm):
    return nn.BatchNorm2d(num_features) if batch_norm else nn.Identity()


def _dwconv(num_features, kernel_size):
    return nn.Conv2d(num_features, num_features, kernel_size=kernel_size,
                     padding=kernel_size // 2, groups=num_features, bias=True)


# --------------------------------------------------------------------------
# xUnit activations
# --------------------------------------------------------------------------
class xUnitS(nn.Module):
    """Slim xUnit: features.0 dw conv (+bias), features.1 BN|Identity, features.2 Sigmoid."""

    def __init__(self, num_features=64, kernel_size=7, batch_norm=True):
        super().__init__()
        self.features = nn.Sequential(
            _dwconv(num_features, kernel_size),
            _bn_or_identity(num_features, batch_norm),
            nn.Sigmoid(),
        )

    def forward(self, x):
        return x * self.features(x)


class xUnit(nn.Module):
    """Vanilla xUnit: 0 BN, 1 ReLU, 2 dw conv, 3 BN, 4 Sigmoid."""

    def __init__(self, num_features=64, kernel_size=7, batch_norm=True):
        super().__init__()
        self.features = nn.Sequential(
            _bn_or_identity(num_features, batch_norm),
            nn.ReLU(),
            _dwconv(num_features, kernel_size),
            _bn_or_identity(num_features, batch_norm),
            nn.Sigmoid(),
        )

    def forward(self, x):
        return x * self.features(x)


class xUnitD(nn.Module):
    """Dense xUnit: 0 conv1x1 (+bias), 1 BN, 2 ReLU, 3 dw conv, 4 BN, 5 Sigmoid."""

    def __init__(self, num_features=64, kernel_size=7, batch_norm=True):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(num_features, num_features, kernel_size=1, padding=0, bias=True),
            _bn_or_identity(num_features, batch_norm),
            nn.ReLU(),
            _dwconv(num_features, kernel_size),
            _bn_or_identity(num_features, batch_norm),
            nn.Sigmoid(),
        )

    def forward(self, x):
        return x * self.features(x)


# --------------------------------------------------------------------------
# Denoisers
# --------------------------------------------------------------------------
_XUNITS = {"slim": xUnitS, "vanilla": xUnit}


class _XDnCNNBlock(nn.Module):
    """xunit(conv3x3(BN(x))); BN has the block's INPUT channel count."""

    def __init__(self, in_channels, out_channels, kernel_size=7, xunit="slim"):
        super().__init__()
        self.bn = nn.BatchNorm2d(in_channels)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=True)
        self.xunit = _XUNITS[xunit](out_channels, kernel_size=kernel_size, batch_norm=True)

    def forward(self, x):
        return self.xunit(self.conv(self.bn(x)))


class _XDnCNN(nn.Module):
    def __init__(self, in_channels=3, num_features=64, gen_blocks=8, kernel_size=7, xunit="slim",
                 noise_map=False):
        super().__init__()
        self.noise_map = noise_map
        # With noise_map (FFDNet's conditioning), the first block also reads a channel that holds
        # the noise level sigma/255 at every pixel: image_to_features.bn and .conv have
        # in_channels + 1 input channels, the last being the map; the residual adds the image.
        self.image_to_features = _XDnCNNBlock(in_channels + int(noise_map), num_features,
                                              kernel_size, xunit)
        self.features = nn.Sequential(
            *[_XDnCNNBlock(num_features, num_features, kernel_size, xunit)
              for _ in range(gen_blocks)])
        self.features_to_image = nn.Conv2d(num_features, in_channels, kernel_size=5,
                                           padding=2, bias=True)

    def forward(self, x, noise_level=None):
        h = x
        if self.noise_map:
            h = torch.cat([x, noise_level_map(x, noise_level)], dim=1)
        return self.features_to_image(self.features(self.image_to_features(h))) + x


def noise_level_map(x, noise_level):
    """The conditioning channel of a noise-level-conditioned denoiser: sigma/255 at every pixel,
    [N, 1, H, W]. noise_level: sigma in 8-bit levels, a number or a tensor of N numbers."""
    if noise_level is None:
        raise ValueError("this denoiser takes a noise level: model(x, noise_level=sigma)")
    level = torch.as_tensor(noise_level, dtype=x.dtype, device=x.device).reshape(-1, 1, 1, 1)
    return (level / 255.0).expand(x.shape[0], 1, x.shape[2], x.shape[3])


def g_xdncnn(in_channels=3, num_features=64, gen_blocks=8, kernel_size=7, xunit="slim",
             noise_map=False):
    """xUnit DnCNN denoiser; kernel_size is the xUnit depthwise kernel (block convs are 3x3).
    xunit="vanilla" swaps the official xUnitS for the vanilla xUnit (same key prefix).
    noise_map=True: conditioned on the noise level (forward(x, noise_level=sigma))."""
    return _XDnCNN(in_channels, num_features, gen_blocks, kernel_size, xunit, noise_map)


class _DnCNNBlock(nn.Module):
    """relu(BN(conv3x3(x))); BN after the conv."""

    def __init__(self, in_channels, out_channels, bias=True):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=bias)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


class _DnCNN(nn.Module):
    def __init__(self, in_channels=3, num_features=64, gen_blocks=8):
        super().__init__()
        self.image_to_features = _DnCNNBlock(in_channels, num_features, bias=True)
        self.features = nn.Sequential(
            *[_DnCNNBlock(num_features, num_features, bias=False) for _ in range(gen_blocks)])
        self.features_to_image = nn.Conv2d(num_features, in_channels, kernel_size=5,
                                           padding=2, bias=True)

    def forward(self, x):
        return self.features_to_image(self.features(self.image_to_features(x))) + x


def g_dncnn(in_channels=3, num_features=64, gen_blocks=8):
    """Baseline DnCNN (ReLU) denoiser of the xUnit repository."""
    return _DnCNN(in_channels, num_features, gen_blocks)


# --------------------------------------------------------------------------
# KAIR's (github.com/cszn/KAIR) conv-ReLU stacks, the key layout of the files users have from it:
# DnCNN (models/network_dncnn.py, BatchNorms merged as in its released dncnn_*.pth) and FFDNet
# (Zhang, Zuo, Zhang, TIP 2018; models/network_ffdnet.py: ffdnet_gray.pth with 64 features and
# 15 convs, ffdnet_color.pth with 96 and 12, and their _clip variants)
# --------------------------------------------------------------------------
def _conv_relu_stack(cin, features, cout, num_convs, batch_norm=False):
    """model.0, ...: 3x3 convs, a ReLU after all but the last (model.0, model.2, ...: keys of
    the convs). batch_norm: the middle convs followed by KAIR's BatchNorm2d (eps 1e-4) in the
    next slot (act_mode 'BR' before its BNs are merged)."""
    layers = []
    for i in range(num_convs):
        layers.append(nn.Conv2d(cin if i == 0 else features,
                                cout if i == num_convs - 1 else features,
                                kernel_size=3, padding=1, bias=True))
        if batch_norm and 0 < i < num_convs - 1:
            layers.append(nn.BatchNorm2d(features, momentum=0.9, eps=1e-4))
        if i < num_convs - 1:
            layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class _KairDnCNN(nn.Module):
    def __init__(self, in_channels=1, num_features=64, num_convs=17, batch_norm=False):
        super().__init__()
        self.model = _conv_relu_stack(in_channels, num_features, in_channels, num_convs,
                                      batch_norm)

    def forward(self, x):
        return x - self.model(x)


def g_kair_dncnn(in_channels=1, num_features=64, num_convs=17, batch_norm=False):
    """KAIR's DnCNN: clean = x - model(x); batch_norm: its act_mode 'BR' (BNs not merged)."""
    return _KairDnCNN(in_channels, num_features, num_convs, batch_norm)


class _FFDNet(nn.Module):
    """Convs over the 2x2-unshuffled image and a sigma/255 map; the output is the clean image
    (no residual)."""

    def __init__(self, in_channels=1, num_features=64, num_convs=15):
        super().__init__()
        self.model = _conv_relu_stack(in_channels * 4 + 1, num_features, in_channels * 4,
                                      num_convs)

    def forward(self, x, noise_level=None):
        h, w = x.shape[-2:]
        # odd sides: the last row / column repeated (ReplicationPad2d), cropped at the end
        x = F.pad(x, (0, w % 2, 0, h % 2), mode="replicate")
        u = F.pixel_unshuffle(x, 2)
        y = self.model(torch.cat([u, noise_level_map(u, noise_level)], dim=1))
        return F.pixel_shuffle(y, 2)[..., :h, :w]


def g_ffdnet(in_channels=1, num_features=64, num_convs=15):
    """FFDNet: forward(x, noise_level=sigma), sigma in 8-bit levels (KAIR passes sigma/255)."""
    return _FFDNet(in_channels, num_features, num_convs)


# --------------------------------------------------------------------------
# Super-resolution
# --------------------------------------------------------------------------
class _UpsampleX2(nn.Module):
    """lrelu0.1(pixel_shuffle2(conv3x3 F->4F, bias)); key `conv`."""

    def __init__(self, num_features):
        super().__init__()
        self.conv = nn.Conv2d(num_features, num_features * 4, kernel_size=3, padding=1, bias=True)

    def forward(self, x):
        return F.leaky_relu(F.pixel_shuffle(self.conv(x), 2), negative_slope=0.1)


class _XSRBlock(nn.Module):
    """x + conv2(xunit(conv1(x))), 3x3 convs without bias, xUnitS without BN."""

    def __init__(self, num_features, kernel_size=7, xunit="slim"):
        super().__init__()
        # attribute order mirrors the official code (xunit registered first)
        self.xunit = _XUNITS[xunit](num_features, kernel_size=kernel_size, batch_norm=False)
        self.conv1 = nn.Conv2d(num_features, num_features, kernel_size=3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(num_features, num_features, kernel_size=3, padding=1, bias=False)

    def forward(self, x):
        return x + self.conv2(self.xunit(self.conv1(x)))


class _SRBlock(nn.Module):
    """x + conv2(relu(conv1(x))), 3x3 convs without bias."""

    def __init__(self, num_features):
        super().__init__()
        self.conv1 = nn.Conv2d(num_features, num_features, kernel_size=3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(num_features, num_features, kernel_size=3, padding=1, bias=False)

    def forward(self, x):
        return x + self.conv2(F.relu(self.conv1(x)))


def _log2_scale(scale):
    n = int(round(math.log2(scale)))
    if scale < 2 or 2 ** n != scale:
        raise ValueError("scale must be a power of two >= 2, got %r" % (scale,))
    return n


class _SRGenerator(nn.Module):
    def __init__(self, blocks, in_channels, num_features, scale):
        super().__init__()
        self.scale = scale
        self.image_to_features = nn.Conv2d(in_channels, num_features, kernel_size=5,
                                           padding=2, bias=True)
        self.features = nn.Sequential(*blocks)
        self.usample = nn.Sequential(
            *[_UpsampleX2(num_features) for _ in range(_log2_scale(scale))])
        self.hrconv = nn.Conv2d(num_features, num_features, kernel_size=3, padding=1, bias=True)
        self.features_to_image = nn.Conv2d(num_features, in_channels, kernel_size=5,
                                           padding=2, bias=True)

    def forward(self, x):
        r = F.interpolate(x, scale_factor=self.scale, mode="bilinear", align_corners=False)
        x = F.leaky_relu(self.image_to_features(x), negative_slope=0.1)
        x = self.features(x)
        x = self.usample(x)
        x = self.features_to_image(F.leaky_relu(self.hrconv(x), negative_slope=0.1))
        return x + r


def g_xsrgan(in_channels=3, num_features=64, gen_blocks=10, scale=4, kernel_size=7, xunit="slim"):
    """xUnit SRGAN generator; kernel_size is the xUnit depthwise kernel; xunit="vanilla" swaps
    in the vanilla xUnit (without BN, as the official blocks use theirs)."""
    blocks = [_XSRBlock(num_features, kernel_size, xunit) for _ in range(gen_blocks)]
    return _SRGenerator(blocks, in_channels, num_features, scale)


def g_srgan(in_channels=3, num_features=64, gen_blocks=16, scale=4):
    """Baseline SRGAN generator (ReLU blocks). Official default gen_blocks=16."""
    blocks = [_SRBlock(num_features) for _ in range(gen_blocks)]
    return _SRGenerator(blocks, in_channels, num_features, scale)


# --------------------------------------------------------------------------
# Dense xUnit networks
# --------------------------------------------------------------------------
class _XModule(nn.Module):
    """features.0 conv3x3 (+bias), features.1 xUnitD; the denoiser adds features.2 BN."""

    def __init__(self, in_channels, out_channels, batch_norm, kernel_size=7):
        super().__init__()
        layers = [nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=True),
                  xUnitD(out_channels, kernel_size=kernel_size, batch_norm=batch_norm)]
        if batch_norm:
            layers.append(nn.BatchNorm2d(out_channels))
        self.features = nn.Sequential(*layers)

    def forward(self, x):
        return self.features(x)


def _pre_activation(channels, sr):
    """BN -> ReLU (two slots) for the denoiser, one shared-slope PReLU for SR."""
    return [nn.PReLU()] if sr else [nn.BatchNorm2d(channels), nn.ReLU(inplace=True)]


class _XDenseLayer(nn.Module):
    """pre -> conv1x1 (no bias, -> bn_size * growth) -> pre -> xModule(-> growth); cat([x, f])."""

    def __init__(self, in_channels, growth_rate, bn_size, sr, kernel_size=7):
        super().__init__()
        mid = bn_size * growth_rate
        self.features = nn.Sequential(
            *_pre_activation(in_channels, sr),
            nn.Conv2d(in_channels, mid, kernel_size=1, bias=False),
            *_pre_activation(mid, sr),
            _XModule(mid, growth_rate, batch_norm=not sr, kernel_size=kernel_size))

    def forward(self, x):
        return torch.cat([x, self.features(x)], dim=1)


class _XDenseBlock(nn.Module):
    def __init__(self, in_channels, num_layers, growth_rate, bn_size, sr, kernel_size=7):
        super().__init__()
        self.features = nn.Sequential(*[
            _XDenseLayer(in_channels + growth_rate * i, growth_rate, bn_size, sr, kernel_size)
            for i in range(num_layers)])

    def forward(self, x):
        return self.features(x)


class _Transition(nn.Module):
    """pre -> conv1x1 (no bias), halving the channels."""

    def __init__(self, in_channels, out_channels, sr):
        super().__init__()
        self.features = nn.Sequential(*_pre_activation(in_channels, sr),
                                      nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False))

    def forward(self, x):
        return self.features(x)


class _XDense(nn.Module):
    def __init__(self, in_channels, num_features, gen_blocks, growth_rate, bn_size, scale,
                 kernel_size=7):
        super().__init__()
        sr = scale > 1
        self.scale = scale
        self.image_to_features = _XModule(in_channels, num_features, batch_norm=not sr,
                                          kernel_size=kernel_size)
        blocks = []
        channels = num_features
        for i, num_layers in enumerate(gen_blocks):
            blocks.append(_XDenseBlock(channels, num_layers, growth_rate, bn_size, sr, kernel_size))
            channels += num_layers * growth_rate
            if i != len(gen_blocks) - 1:
                blocks.append(_Transition(channels, channels // 2, sr))
                channels //= 2
        self.features = nn.Sequential(*blocks)
        if sr:
            self.usample = nn.Sequential(*[_UpsampleX2(channels) for _ in range(_log2_scale(scale))])
            self.hrconv = nn.Conv2d(channels, channels, kernel_size=3, padding=1, bias=True)
        self.features_to_image = nn.Conv2d(channels, in_channels, kernel_size=5, padding=2,
                                           bias=True)

    def forward(self, x):
        if self.scale == 1:
            return self.features_to_image(self.features(self.image_to_features(x))) + x
        r = F.interpolate(x, scale_factor=self.scale, mode="bilinear", align_corners=False)
        h = self.usample(self.features(self.image_to_features(x)))
        return self.features_to_image(F.leaky_relu(self.hrconv(h), negative_slope=0.1)) + r


def g_xdense(in_channels=3, num_features=64, gen_blocks=(4, 6, 8), growth_rate=None, bn_size=2,
             scale=1, kernel_size=7):
    """Dense xUnit network: the denoiser (scale=1; growth 16 by default) or the SR variant
    (scale 2/4/8; growth 8 by default; PReLU, xUnitD without BN, pixel-shuffle upsampler)."""
    if growth_rate is None:
        growth_rate = 16 if scale == 1 else 8
    return _XDense(in_channels, num_features, list(gen_blocks), growth_rate, bn_size, scale,
                   kernel_size)


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------
def randomize_batchnorm(model, generator=None):
    """Give every BatchNorm2d non-trivial inference statistics and affine params.

    running_mean ~ N(0, 0.1), running_var ~ U(0.5, 2), weight ~ U(0.5, 1.5),
    bias ~ N(0, 0.1).  ``generator`` is an optional torch.Generator.
    """
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=generator) * 0.1)
                m.running_var.copy_(torch.rand(n, generator=generator) * 1.5 + 0.5)
                if m.weight is not None:
                    m.weight.copy_(torch.rand(n, generator=generator) + 0.5)
                if m.bias is not None:
                    m.bias.copy_(torch.randn(n, generator=generator) * 0.1)
    return model


ARCHS = {
    "xdncnn": g_xdncnn,
    "dncnn": g_dncnn,
    "xsrgan": g_xsrgan,
    "srgan": g_srgan,
    "xdense": g_xdense,
    "ffdnet": g_ffdnet,
    "kair_dncnn": g_kair_dncnn,
}


def build(arch, **cfg):
    """Construct a generator by short arch name (xdncnn, dncnn, xsrgan, srgan, xdense, ffdnet,
    kair_dncnn).

    Keys in cfg that the constructor does not take (e.g. ``scale`` for a
    denoiser when scale == 1, ``kernel_size`` for a non-xUnit net) are rejected
    unless they carry the neutral value.
    """
    name = arch[2:] if arch.startswith("g_") else arch
    if name not in ARCHS:
        raise ValueError("unknown arch %r (known: %s)" % (arch, ", ".join(sorted(ARCHS))))
    cfg = dict(cfg)
    # options of the official config dicts that do not affect the generator
    cfg.pop("dis_blocks", None)
    cfg.pop("spectral", None)
    if name in ("xdncnn", "dncnn"):
        s = cfg.pop("scale", 1)
        if s not in (None, 1):
            raise ValueError("%s is a denoiser: scale must be 1" % name)
    if name in ("dncnn", "srgan"):
        k = cfg.pop("kernel_size", None)
        if k not in (None, 7):
            raise ValueError("%s has no xUnit kernel_size" % name)
    return ARCHS[name](**cfg)


if __name__ == "__main__":
    torch.set_num_threads(1)
    for arch, cfg in [("xdncnn", dict(num_features=8, gen_blocks=1)),
                      ("dncnn", dict(num_features=8, gen_blocks=2)),
                      ("xsrgan", dict(num_features=8, gen_blocks=1, scale=4)),
                      ("srgan", dict(num_features=8, gen_blocks=1, scale=2)),
                      ("xdense", dict(num_features=8, gen_blocks=[2, 1], growth_rate=4)),
                      ("xdense", dict(num_features=8, gen_blocks=[1, 1], scale=2))]:
        m = build(arch, **cfg)
        print("==", arch, cfg)
        for k, v in m.state_dict().items():
            print("  %-45s %s" % (k, list(v.shape)))
