"""Reference PyTorch definitions of the xUnit authors' 2018 code (CVPR 2018 paper).

The 2018 code of kligvasser/xUnit (commit e12a65b, April 2018; replaced in 2020 by the code
that models/xunit_models.py mirrors) builds everything from one *module cell* with a Gaussian
gate (shared/MODELS.md, "The paper's original xUnit (2018 code)"):

    x1 = conv_k(x)                                        features.0  (weight + bias)
    g  = exp(-(BN(dwconv_s(relu(BN(x1)))))^2)             module.0 BN, module.1 ReLU,
                                                          module.2 dw conv [C,1,s,s] + bias,
                                                          module.3 BN, module.4 Gaussian
    y  = x1 * g

Networks (state_dict keys match the released checkpoints, which load with strict=True):

  * XDnCNN2018    md1.0 = cell(in->F, k=3); md2..mdN = [mdi.0 BN(F), mdi.1 cell(F->F, k=3)];
                  joints conv3x3 F->in (+bias). The net predicts the noise; forward() returns
                  the clean image x - joints(...) (residual=True, the authors' run_net.py does
                  `cleans = images - outputs`), or the raw noise estimate (residual=False).
  * XSRCNN2018    md1.0 = cell(1->c1, k1), md2.0 = cell(c1->c2, k2), joints conv5x5 c2->1.
                  Input: the Y channel of the bicubic-upsampled image; output: the restored Y
                  directly (no residual; checked on the released checkpoints, see
                  models/evaluate_2018.py).  xsrcnnf(): 64/32, 9-3-5; xsrcnnc(): 42/32, 9-5-5.
  * XSRResNet2018 conv1 9x9 in->F + prelu1 (one slope); xresidual_block1..B, each
                  x + bn1(conv2(md(x))) with md = cell(F->F, k=3), conv2 3x3 (+bias);
                  x = bn2(conv2(y)) + x (skip from after prelu1); upsample1..log2(s) =
                  prelu(pixel_shuffle2(conv3x3 F->4F)) (keys upsampleN.conv, upsampleN.prelu);
                  conv3 9x9 F->in. RGB in, RGB out, no interpolation skip.

All BNs are eps 1e-5. Weight initialisation is PyTorch's default; only inference matters.
"""

import math
import re

import torch
import torch.nn as nn

__all__ = [
    "Gaussian", "ModuleCell", "XDnCNN2018", "XSRCNN2018", "XSRResNet2018",
    "xsrcnnf", "xsrcnnc", "ARCHS2018", "build2018", "config_from_state_dict",
    "load_2018_checkpoint",
]


class Gaussian(nn.Module):
    """exp(-z^2), the 2018 gate (the authors' `distances` / `Gaussian` module)."""

    def forward(self, z):
        return torch.exp(-torch.mul(z, z))


class ModuleCell(nn.Module):
    """y = x1 * exp(-(BN(dw(relu(BN(x1)))))^2), x1 = conv_k(x) (+bias).

    Keys: features.0 (conv), module.0 (BN), module.2 (dw conv + bias), module.3 (BN)."""

    def __init__(self, in_channels=1, out_channels=64, kernel_size=3, skernel_size=9):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, kernel_size=kernel_size,
                      padding=(kernel_size - 1) // 2, bias=True))
        self.module = nn.Sequential(
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.Conv2d(out_channels, out_channels, kernel_size=skernel_size, stride=1,
                      padding=(skernel_size - 1) // 2, groups=out_channels, bias=True),
            nn.BatchNorm2d(out_channels),
            Gaussian())

    def forward(self, x):
        x1 = self.features(x)
        return x1 * self.module(x1)


class XDnCNN2018(nn.Module):
    """xDnCNN of the 2018 code: num_cells module cells (md1..md<num_cells>), joints conv3x3.

    The released checkpoints are XDnCNN2018() (1 channel, 64 features, 8 cells, k 3, skernel 9).
    """

    def __init__(self, in_channels=1, num_features=64, num_cells=8, kernel_size=3,
                 skernel_size=9, residual=True):
        super().__init__()
        if num_cells < 1:
            raise ValueError("num_cells must be >= 1")
        self.num_cells = num_cells
        self.residual = residual
        self.md1 = nn.Sequential(
            ModuleCell(in_channels, num_features, kernel_size, skernel_size))
        for i in range(2, num_cells + 1):
            self.add_module("md%d" % i, nn.Sequential(
                nn.BatchNorm2d(num_features),
                ModuleCell(num_features, num_features, kernel_size, skernel_size)))
        self.joints = nn.Conv2d(num_features, in_channels, kernel_size=3, padding=1, bias=True)

    def forward(self, x):
        h = x
        for i in range(1, self.num_cells + 1):
            h = getattr(self, "md%d" % i)(h)
        noise = self.joints(h)
        return x - noise if self.residual else noise


class XSRCNN2018(nn.Module):
    """xSRCNN of the 2018 code: md1.0 cell(in->c1, k1), md2.0 cell(c1->c2, k2), joints conv
    out_kernel_size c2->in. Input: bicubic-upsampled Y; output: restored Y (no residual)."""

    def __init__(self, in_channels=1, features=(64, 32), kernel_sizes=(9, 3), out_kernel_size=5,
                 skernel_size=9):
        super().__init__()
        c1, c2 = features
        k1, k2 = kernel_sizes
        self.md1 = nn.Sequential(ModuleCell(in_channels, c1, k1, skernel_size))
        self.md2 = nn.Sequential(ModuleCell(c1, c2, k2, skernel_size))
        self.joints = nn.Conv2d(c2, in_channels, kernel_size=out_kernel_size,
                                padding=(out_kernel_size - 1) // 2, bias=True)

    def forward(self, x):
        return self.joints(self.md2(self.md1(x)))


def xsrcnnf(in_channels=1, features=(64, 32), skernel_size=9):
    """xSRCNNf: kernels 9-3-5 (released: 64/32 features, x3 and x4)."""
    return XSRCNN2018(in_channels, features, (9, 3), 5, skernel_size)


def xsrcnnc(in_channels=1, features=(42, 32), skernel_size=9):
    """xSRCNNc: kernels 9-5-5 (released: 42/32 features, x3 and x4)."""
    return XSRCNN2018(in_channels, features, (9, 5), 5, skernel_size)


class XResidualBlock2018(nn.Module):
    """x + bn1(conv2(md(x))); md = cell(F->F, k), conv2 kxk (+bias)."""

    def __init__(self, num_features=64, kernel_size=3, skernel_size=9):
        super().__init__()
        self.md = ModuleCell(num_features, num_features, kernel_size, skernel_size)
        self.conv2 = nn.Conv2d(num_features, num_features, kernel_size,
                               padding=(kernel_size - 1) // 2, bias=True)
        self.bn1 = nn.BatchNorm2d(num_features)

    def forward(self, x):
        return self.bn1(self.conv2(self.md(x))) + x


class UpsampleBlock2018(nn.Module):
    """prelu(pixel_shuffle2(conv3x3 F->4F (+bias))), one PReLU slope; keys conv, prelu."""

    def __init__(self, num_features=64):
        super().__init__()
        self.conv = nn.Conv2d(num_features, num_features * 4, 3, stride=1, padding=1, bias=True)
        self.shuffler = nn.PixelShuffle(2)
        self.prelu = nn.PReLU()

    def forward(self, x):
        return self.prelu(self.shuffler(self.conv(x)))


class XSRResNet2018(nn.Module):
    """xSRResNet of the 2018 code. RGB in, RGB out, log2(scale) x2 upsample blocks.

    (The authors' code creates upsample_factor // 2 blocks: the same for x2 and x4, but 4 blocks,
    i.e. x16, for x8. Here scale must be a power of two and gives log2(scale) blocks.)"""

    def __init__(self, in_channels=3, num_features=64, num_blocks=10, scale=4, skernel_size=9):
        super().__init__()
        n_up = int(round(math.log2(scale))) if scale >= 2 else 0
        if scale < 2 or 2 ** n_up != scale:
            raise ValueError("scale must be a power of two >= 2, got %r" % (scale,))
        self.num_blocks = num_blocks
        self.num_upsample = n_up
        self.scale = scale
        self.conv1 = nn.Conv2d(in_channels, num_features, 9, stride=1, padding=4, bias=True)
        self.prelu1 = nn.PReLU()
        for i in range(num_blocks):
            self.add_module("xresidual_block%d" % (i + 1),
                            XResidualBlock2018(num_features, 3, skernel_size))
        self.conv2 = nn.Conv2d(num_features, num_features, 3, stride=1, padding=1, bias=True)
        self.bn2 = nn.BatchNorm2d(num_features)
        for i in range(n_up):
            self.add_module("upsample%d" % (i + 1), UpsampleBlock2018(num_features))
        self.conv3 = nn.Conv2d(num_features, in_channels, 9, stride=1, padding=4, bias=True)

    def forward(self, x):
        x = self.prelu1(self.conv1(x))
        y = x
        for i in range(self.num_blocks):
            y = getattr(self, "xresidual_block%d" % (i + 1))(y)
        x = self.bn2(self.conv2(y)) + x
        for i in range(self.num_upsample):
            x = getattr(self, "upsample%d" % (i + 1))(x)
        return self.conv3(x)


ARCHS2018 = {
    "xdncnn2018": XDnCNN2018,
    "xsrcnn2018": XSRCNN2018,
    "xsrcnnf": xsrcnnf,
    "xsrcnnc": xsrcnnc,
    "xsrresnet2018": XSRResNet2018,
}


def build2018(arch, **cfg):
    """Construct a 2018 network by name (xdncnn2018, xsrcnn2018, xsrcnnf, xsrcnnc,
    xsrresnet2018)."""
    if arch not in ARCHS2018:
        raise ValueError("unknown arch %r (known: %s)" % (arch, ", ".join(sorted(ARCHS2018))))
    return ARCHS2018[arch](**cfg)


def config_from_state_dict(sd):
    """Infer (arch, constructor kwargs) of a 2018 state_dict from its keys and shapes."""
    def shape(k):
        return tuple(sd[k].shape)

    if "conv1.weight" in sd and "prelu1.weight" in sd:
        f, c = shape("conv1.weight")[:2]
        nb = len({m.group(1) for m in (re.match(r"xresidual_block(\d+)\.", k) for k in sd) if m})
        nu = len({m.group(1) for m in (re.match(r"upsample(\d+)\.", k) for k in sd) if m})
        s = shape("xresidual_block1.md.module.2.weight")[-1] if nb else 9
        return "xsrresnet2018", dict(in_channels=c, num_features=f, num_blocks=nb,
                                     scale=2 ** nu, skernel_size=s)
    if "md2.0.features.0.weight" in sd:  # xSRCNN: md2 is a bare cell
        c1, c, k1 = shape("md1.0.features.0.weight")[:3]
        c2, _, k2 = shape("md2.0.features.0.weight")[:3]
        return "xsrcnn2018", dict(in_channels=c, features=(c1, c2), kernel_sizes=(k1, k2),
                                  out_kernel_size=shape("joints.weight")[-1],
                                  skernel_size=shape("md1.0.module.2.weight")[-1])
    if "md1.0.features.0.weight" in sd:
        f, c, k = shape("md1.0.features.0.weight")[:3]
        n = len({m.group(1) for m in (re.match(r"md(\d+)\.", key) for key in sd) if m})
        return "xdncnn2018", dict(in_channels=c, num_features=f, num_cells=n, kernel_size=k,
                                  skernel_size=shape("md1.0.module.2.weight")[-1])
    raise ValueError("not a 2018 xUnit state_dict")


def load_2018_checkpoint(path, strict=True):
    """Load a 2018 state_dict file (legacy or zip), build its network, load it (strict),
    return the model in eval mode."""
    sd = torch.load(path, map_location="cpu")
    if not isinstance(sd, dict):
        sd = sd.state_dict()
    arch, cfg = config_from_state_dict(sd)
    model = build2018(arch, **cfg)
    model.load_state_dict(sd, strict=strict)
    return model.eval()


if __name__ == "__main__":
    torch.set_num_threads(1)
    for arch, cfg in [("xdncnn2018", dict(num_features=8, num_cells=2)),
                      ("xsrcnnf", dict(features=(8, 4))),
                      ("xsrresnet2018", dict(num_features=8, num_blocks=1, scale=2))]:
        m = build2018(arch, **cfg)
        print("==", arch, cfg, "->", config_from_state_dict(m.state_dict()))
        for k, v in m.state_dict().items():
            print("  %-45s %s" % (k, list(v.shape)))
