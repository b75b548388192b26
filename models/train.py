#!/usr/bin/env python3
"""Reproducible training / evaluation script for the xUnit reference networks.

Usage (from the repository root, with Debian's /usr/bin/python3 which has torch):

    /usr/bin/python3 models/train.py --config models/configs/denoise_color.json \
        --out /work/train/denoise_color --threads 1 --max-minutes 70
    # continue an interrupted run (model, optimizer, scheduler, RNG states, step):
    /usr/bin/python3 models/train.py --config ... --out DIR --resume
    # full-set evaluation of a checkpoint (full images, every validation image):
    /usr/bin/python3 models/train.py --config ... --out DIR --evaluate-only DIR/best.pt

Outputs in --out DIR:
    best.pt     plain ``torch.save(model.state_dict())`` (zip format) of the best
                validation score so far (mean PSNR over the sigma list / SR Y-PSNR)
    best.json   step and validation numbers of best.pt
    last.pt     resume checkpoint (dict: model, optimizer, scheduler, rng, step, ...)
    final.pt    plain state_dict at the end of the schedule
    config.json the resolved config of the run
    log.jsonl   one JSON record per validation (and start/stop events)

Config JSON keys (defaults in DEFAULTS below):
    arch, in_channels, num_features, gen_blocks, kernel_size, scale   network
    task            "denoise" | "sr"
    train_dirs      list of image folders (relative to the repo root)
    train_exclude   file names (without folder) left out of train_dirs: images a validation
                    set holds (Set12's starfish is BSDS 12003, whole in color/bsds400)
    val_dir         validation image folder
    patch_size      training crop size; for SR it is the HR crop (multiple of scale)
    batch_size, total_steps, lr, lr_min, lr_schedule ("cosine" | "step"),
    lr_milestones, lr_gamma (step decay), warmup_steps, weight_decay,
    betas, grad_clip (0 = off), loss ("mse" | "l1")
    sigma_max       blind denoising: sigma ~ U[0, sigma_max] per patch,
                    noisy = x + sigma/255 * N(0,1), noisy input is NOT clipped
    noise_map       xdncnn only: condition on the noise level (FFDNet's sigma/255 map as an
                    extra input channel; the model is called model(noisy, noise_level=sigma))
    degradation     "gaussian" (above) | "file": what a saved noisy file holds: noisy =
                    quantize(clip(x + sigma/255 N(0,1), 0, 1)) to 8 bits (16 bits for a
                    quantize16_share of patches), then for a jpeg_share of patches JPEG at a
                    quality drawn from jpeg_quality; a sigma_zero_share of patches get sigma 0
    freeze_bn       keep BatchNorms in eval mode (a model initialised from an .xunit file,
                    whose BatchNorms were folded: their statistics are the identity)
    val_sigmas      list of sigmas for validation (denoise)
    val_protocol    "gaussian" | "file": the noisy validation images are rounded to 8 bits
                    after clipping (as if saved as PNG) before denoising
    val_every       validation period in steps
    val_max_images  use only the first N validation images during training (null = all)
    val_crop        center crop size of validation images during training (null = full)
    seed            seed of the model init, patch sampling and training noise
    progress_seconds  period of the progress line (default 30)
    checkpoint_minutes  also write last.pt this often (default 10)
    channels_last   run the model in NHWC memory format (about 1.5x faster training on
                    CPU with torch 1.13's oneDNN; saved state_dicts are always plain
                    contiguous NCHW tensors)

Validation protocol (also written into the evaluation JSON):
    * images are read with PIL, converted to RGB (in_channels 3) or L (in_channels 1),
      scaled to [0,1] float32; sorted by file name.
    * denoise: for image index i a fresh ``torch.Generator().manual_seed(i)`` draws one
      N(0,1) tensor of the image's shape; noisy = x + sigma/255 * n for every sigma
      (no clipping of the noisy input).  PSNR = 10 log10(1/MSE) over all channels
      of clamp(output, 0, 1) against the clean image, averaged over images.
    * sr: the HR image is cropped to a multiple of scale (top-left anchored),
      LR = PIL BICUBIC downscale of the uint8 HR image (uint8 LR, /255).
      PSNR on the Y channel (ITU-R BT.601: Y = (16 + 65.481 R + 128.553 G + 24.966 B)/255
      with R,G,B in [0,1]) of clamp(output, 0, 1), border shave = scale pixels.
    * val_protocol "file": noisy = round(clamp(x + sigma/255 * n, 0, 1) * 255) / 255.
    * noise_map models get the true sigma of the validation noise.
    * with val_crop, the clean (HR) image is center-cropped before noise / downscaling.
"""

import argparse
import glob
import io
import json
import math
import os
import signal
import subprocess
import sys
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DEFAULTS = {
    "arch": "xdncnn",
    "in_channels": 3,
    "num_features": 32,
    "gen_blocks": 4,
    "kernel_size": 7,
    "scale": 1,
    "task": "denoise",
    "train_dirs": [],
    "train_exclude": [],
    "val_dir": None,
    "patch_size": 48,
    "batch_size": 16,
    "total_steps": 10000,
    "lr": 1e-3,
    "lr_min": 1e-5,
    "lr_schedule": "cosine",
    "lr_milestones": [],
    "lr_gamma": 0.5,
    "warmup_steps": 0,
    "weight_decay": 0.0,
    "betas": [0.9, 0.999],
    "grad_clip": 1.0,
    "loss": None,  # default: mse for denoise, l1 for sr
    "sigma_max": 55.0,
    "noise_map": False,  # xdncnn conditioned on the noise level (an extra sigma/255 input channel)
    "degradation": "gaussian",  # or "file": noise, then clipped and quantized (and JPEG'd) as saved
    "sigma_zero_share": 0.0,  # "file": share of patches without noise (identity on clean input)
    "quantize16_share": 0.0,  # "file": share of patches quantized to 16 bits instead of 8
    "jpeg_share": 0.0,  # "file": share of patches JPEG-compressed after the noise
    "jpeg_quality": [75, 98],  # "file": JPEG quality range (inclusive)
    "val_protocol": "gaussian",  # or "file": noisy validation images are saved as 8-bit first
    "freeze_bn": False,  # BatchNorms in eval mode while training (a model started from an .xunit)
    "val_sigmas": [15, 25, 50],
    "val_every": 1000,
    "val_max_images": None,
    "val_crop": None,
    "seed": 0,
    "progress_seconds": 30.0,
    "checkpoint_minutes": 10.0,
    "channels_last": True,
}

NET_KEYS = ("in_channels", "num_features", "gen_blocks", "kernel_size", "scale")
IMG_EXTS = (".png", ".bmp", ".jpg", ".jpeg", ".tif", ".tiff")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--config", required=True, help="models/configs/NAME.json")
    p.add_argument("--out", required=True, help="output folder (checkpoints + log)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    p.add_argument("--init", metavar="CHECKPOINT", default=None,
                   help="start a fresh run from the weights of CHECKPOINT (a best.pt, or a shipped "
                        "xdncnn .xunit) whose names and shapes match (e.g. an x2 model from an x4 "
                        "one: all but the second upsampler; a noise-map model from a blind one)")
    p.add_argument("--max-minutes", type=float, default=None,
                   help="stop cleanly (saving last.pt) after this much wall time")
    p.add_argument("--stop-at-step", type=int, default=None,
                   help="stop cleanly (saving last.pt) once this step is reached (testing)")
    p.add_argument("--device", default="auto", choices=["cpu", "cuda", "auto"])
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key (VALUE parsed as JSON, else string)")
    p.add_argument("--evaluate-only", metavar="CHECKPOINT", default=None,
                   help="evaluate CHECKPOINT on the full validation set and exit")
    p.add_argument("--eval-json", default=None,
                   help="where --evaluate-only writes its summary (default OUT/eval_<ckpt>.json)")
    p.add_argument("--eval-dir", default=None,
                   help="--evaluate-only: validation folder overriding the config's val_dir")
    return p.parse_args(argv)


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None and ARGS.threads:
    # must happen before torch (and its OpenMP runtime) is imported
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from PIL import Image  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fast_depthwise import speed_up_depthwise  # noqa: E402
import xunit_file  # noqa: E402
import xunit_models  # noqa: E402


# --------------------------------------------------------------------------
# config
# --------------------------------------------------------------------------
def load_config(path, overrides=()):
    try:
        with open(path) as f:
            user = json.load(f)
    except (OSError, ValueError) as e:
        raise SystemExit("cannot read config %s: %s" % (path, e))
    unknown = [k for k in user if k not in DEFAULTS and not k.startswith("_")]
    if unknown:
        raise SystemExit("unknown config keys in %s: %s" % (path, ", ".join(unknown)))
    cfg = dict(DEFAULTS)
    cfg.update(user)
    for ov in overrides:
        if "=" not in ov:
            raise SystemExit("--set expects KEY=VALUE, got %r" % ov)
        k, v = ov.split("=", 1)
        if k not in DEFAULTS:
            raise SystemExit("--set: unknown config key %r" % k)
        try:
            cfg[k] = json.loads(v)
        except ValueError:
            cfg[k] = v
    if cfg["task"] not in ("denoise", "sr"):
        raise SystemExit("task must be denoise or sr")
    if cfg["loss"] is None:
        cfg["loss"] = "mse" if cfg["task"] == "denoise" else "l1"
    if cfg["task"] == "sr" and cfg["patch_size"] % cfg["scale"]:
        raise SystemExit("sr: patch_size (HR crop) must be a multiple of scale")
    if cfg["in_channels"] not in (1, 3):
        raise SystemExit("in_channels must be 1 (gray) or 3 (RGB)")
    return cfg


def resolve(path):
    return path if os.path.isabs(path) else os.path.normpath(os.path.join(REPO_ROOT, path))


def repo_path(path):
    """A path as committed results record it: relative to the repository (the data folder beside it
    included), so that the files do not carry one machine's layout."""
    return os.path.relpath(os.path.abspath(path), REPO_ROOT)


def training_files(cfg):
    """The images of cfg's train_dirs less its train_exclude. A name that leaves nothing out is
    refused: a misspelt one would keep the validation image in the training data unnoticed."""
    files = [f for d in cfg["train_dirs"] for f in list_images(d)]
    unmatched = sorted(set(cfg["train_exclude"]) - {os.path.basename(f) for f in files})
    if unmatched:
        raise SystemExit("train_exclude: %s is in none of train_dirs" % ", ".join(unmatched))
    return [f for f in files if os.path.basename(f) not in cfg["train_exclude"]]


def list_images(folder):
    folder = resolve(folder)
    files = sorted(f for f in glob.glob(os.path.join(folder, "*"))
                   if f.lower().endswith(IMG_EXTS))
    if not files:
        raise SystemExit("no images in %s" % folder)
    return files


def load_image(path, channels):
    """float32 tensor [C,H,W] in [0,1] (RGB or L)."""
    img = Image.open(path).convert("RGB" if channels == 3 else "L")
    a = np.asarray(img, dtype=np.uint8)
    if a.ndim == 2:
        a = a[:, :, None]
    return torch.from_numpy(a.copy()).permute(2, 0, 1).float().div_(255.0)


def build_model(cfg):
    net = {k: cfg[k] for k in NET_KEYS}
    if cfg["task"] == "denoise":
        net.pop("scale")
    if cfg["noise_map"]:
        net["noise_map"] = True
    return xunit_models.build(cfg["arch"], **net)


def set_train_mode(model, cfg, training):
    """model.train(training), with the BatchNorms kept in eval mode when cfg freezes them."""
    model.train(training)
    if training and cfg["freeze_bn"]:
        for mod in model.modules():
            if isinstance(mod, torch.nn.modules.batchnorm._BatchNorm):
                mod.eval()


def forward(model, cfg, inp, sigma):
    """The model on a batch; sigma (8-bit levels, [N]) reaches noise-map models only."""
    if cfg["noise_map"]:
        return model(inp, noise_level=sigma)
    return model(inp)


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------
def to_uint8(t):
    """[C,H,W] float in [0,1] -> HxWxC (or HxW) uint8 numpy (exact for images from uint8)."""
    a = t.mul(255.0).round_().clamp_(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
    return a[:, :, 0] if a.shape[2] == 1 else a


def bicubic_down(hr, scale):
    """PIL BICUBIC downscale of a [C,H,W] float HR tensor (H, W multiples of scale).

    The HR image goes through uint8 (lossless for images read from 8-bit files) and the LR
    result is uint8 as well, like the LR images users feed at inference time.
    """
    c, h, w = hr.shape
    img = Image.fromarray(to_uint8(hr), mode="RGB" if c == 3 else "L")
    lr = img.resize((w // scale, h // scale), resample=Image.BICUBIC)
    a = np.asarray(lr, dtype=np.uint8)
    if a.ndim == 2:
        a = a[:, :, None]
    return torch.from_numpy(a.copy()).permute(2, 0, 1).float().div_(255.0)


def augment(t, mode):
    """mode in 0..7: rot90 by (mode % 4) then horizontal flip if mode >= 4."""
    if mode % 4:
        t = torch.rot90(t, mode % 4, dims=(1, 2))
    if mode >= 4:
        t = torch.flip(t, dims=(2,))
    return t.contiguous()


class PatchSampler:
    """Random crops + dihedral augmentation from in-memory images, driven by one Generator."""

    def __init__(self, images, cfg, generator):
        self.images = images
        self.cfg = cfg
        self.gen = generator
        p = cfg["patch_size"]
        small = [i for i, im in enumerate(images) if min(im.shape[1:]) < p]
        if small:
            raise SystemExit("%d training images smaller than patch_size %d" % (len(small), p))

    def _randint(self, n):
        return int(torch.randint(n, (1,), generator=self.gen))

    def batch(self):
        cfg, p = self.cfg, self.cfg["patch_size"]
        targets, inputs = [], []
        for _ in range(cfg["batch_size"]):
            im = self.images[self._randint(len(self.images))]
            _, h, w = im.shape
            y, x = self._randint(h - p + 1), self._randint(w - p + 1)
            patch = augment(im[:, y:y + p, x:x + p], self._randint(8))
            targets.append(patch)
            if cfg["task"] == "sr":
                inputs.append(bicubic_down(patch, cfg["scale"]))
        target = torch.stack(targets)
        sigma = None
        if cfg["task"] == "denoise":
            n = target.shape[0]
            sigma = torch.rand(n, generator=self.gen) * cfg["sigma_max"]
            noise = torch.randn(target.shape, generator=self.gen)
            inp = target + sigma.view(n, 1, 1, 1) / 255.0 * noise  # no clipping
            if cfg["degradation"] == "file":
                inp, sigma = self._as_saved(target, inp, sigma)
        else:
            inp = torch.stack(inputs)
        return inp, target, sigma

    def _as_saved(self, clean, noisy, sigma):
        """What a noisy file holds: clipped, quantized (8 or 16 bits), a share JPEG'd."""
        cfg = self.cfg
        n = noisy.shape[0]
        u = torch.rand(n, 3, generator=self.gen)
        q = torch.randint(cfg["jpeg_quality"][0], cfg["jpeg_quality"][1] + 1, (n,),
                          generator=self.gen)
        out = []
        for i in range(n):
            if float(u[i, 0]) < cfg["sigma_zero_share"]:
                sigma[i] = 0.0
                x = clean[i]
            else:
                x = noisy[i].clamp(0, 1)
            if float(u[i, 1]) < cfg["quantize16_share"]:
                x = x.mul(65535.0).round_().div_(65535.0)
            else:
                x = x.mul(255.0).round_().div_(255.0)
                if float(u[i, 2]) < cfg["jpeg_share"]:
                    x = jpeg_roundtrip(x, int(q[i]))
            out.append(x)
        return torch.stack(out), sigma


def jpeg_roundtrip(t, quality):
    """[C,H,W] in [0,1] (8-bit values) through PIL's JPEG encoder and decoder (4:2:0 color)."""
    c = t.shape[0]
    img = Image.fromarray(to_uint8(t), mode="RGB" if c == 3 else "L")
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    a = np.asarray(Image.open(io.BytesIO(buf.getvalue())), dtype=np.uint8)
    if a.ndim == 2:
        a = a[:, :, None]
    return torch.from_numpy(a.copy()).permute(2, 0, 1).float().div_(255.0)


# --------------------------------------------------------------------------
# lr schedule
# --------------------------------------------------------------------------
class LRSchedule:
    """Closed-form per-step learning rate (linear warmup, then cosine or step decay)."""

    def __init__(self, optimizer, cfg):
        self.opt = optimizer
        self.cfg = cfg
        self.step_num = 0
        self._apply()

    def lr_at(self, step):
        c = self.cfg
        lr0, lr_min, total = c["lr"], c["lr_min"], max(1, c["total_steps"])
        if c["warmup_steps"] and step < c["warmup_steps"]:
            return lr0 * (step + 1) / c["warmup_steps"]
        if c["lr_schedule"] == "cosine":
            t = min(1.0, (step - c["warmup_steps"]) / max(1, total - c["warmup_steps"]))
            return lr_min + 0.5 * (lr0 - lr_min) * (1.0 + math.cos(math.pi * t))
        if c["lr_schedule"] == "step":
            k = sum(1 for m in c["lr_milestones"] if step >= m)
            return max(lr_min, lr0 * c["lr_gamma"] ** k)
        raise SystemExit("lr_schedule must be cosine or step")

    def _apply(self):
        lr = self.lr_at(self.step_num)
        for g in self.opt.param_groups:
            g["lr"] = lr

    def step(self):
        self.step_num += 1
        self._apply()

    def get_lr(self):
        return self.opt.param_groups[0]["lr"]

    def state_dict(self):
        return {"step_num": self.step_num}

    def load_state_dict(self, sd):
        self.step_num = int(sd["step_num"])
        self._apply()


# --------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------
def psnr(a, b):
    mse = float(torch.mean((a.double() - b.double()) ** 2))
    return float("inf") if mse == 0 else 10.0 * math.log10(1.0 / mse)


def rgb_to_y(t):
    """[N,3,H,W] RGB in [0,1] -> [N,1,H,W] BT.601 Y in [0,1] (16..235 range)."""
    r, g, b = t[:, 0:1], t[:, 1:2], t[:, 2:3]
    return (16.0 + 65.481 * r + 128.553 * g + 24.966 * b) / 255.0


def center_crop(t, size):
    _, h, w = t.shape
    sh, sw = min(size, h), min(size, w)
    y, x = (h - sh) // 2, (w - sw) // 2
    return t[:, y:y + sh, x:x + sw]


class Validator:
    def __init__(self, cfg, device, full=False, val_dir=None):
        self.cfg = cfg
        self.device = device
        self.mf = torch.channels_last if cfg["channels_last"] else torch.contiguous_format
        files = list_images(val_dir or cfg["val_dir"])
        if not full and cfg["val_max_images"]:
            files = files[:cfg["val_max_images"]]
        self.files = files
        self.crop = None if full else cfg["val_crop"]
        self.items = []  # (name, input(s), target) prepared once
        s = cfg["scale"]
        for i, f in enumerate(files):
            x = load_image(f, cfg["in_channels"])
            if self.crop:
                x = center_crop(x, self.crop)
            if cfg["task"] == "denoise":
                g = torch.Generator().manual_seed(i)
                n = torch.randn(x.shape, generator=g)
                self.items.append((os.path.basename(f), n, x))
            else:
                _, h, w = x.shape
                x = x[:, :h - h % s, :w - w % s]
                self.items.append((os.path.basename(f), bicubic_down(x, s), x))

    @torch.no_grad()
    def run(self, model):
        cfg, dev = self.cfg, self.device
        was_training = model.training
        model.eval()
        per_image = []
        try:
            if cfg["task"] == "denoise":
                sums = {str(s): 0.0 for s in cfg["val_sigmas"]}
                for name, n, x in self.items:
                    row = {"image": name}
                    xd = x.to(dev)[None].contiguous(memory_format=self.mf)
                    nd = n.to(dev)[None].contiguous(memory_format=self.mf)
                    for s in cfg["val_sigmas"]:
                        noisy = xd + float(s) / 255.0 * nd
                        if cfg["val_protocol"] == "file":
                            noisy = noisy.clamp(0, 1).mul_(255.0).round_().div_(255.0)
                        level = torch.full((1,), float(s), device=dev)
                        out = forward(model, cfg, noisy, level).clamp_(0, 1)
                        v = psnr(out, xd)
                        row[str(s)] = v
                        sums[str(s)] += v
                    per_image.append(row)
                res = {k: v / len(self.items) for k, v in sums.items()}
                score = sum(res.values()) / len(res)
            else:
                s = cfg["scale"]
                tot = 0.0
                for name, lr, hr in self.items:
                    out = model(lr.to(dev)[None].contiguous(memory_format=self.mf)).clamp_(0, 1)
                    hrd = hr.to(dev)[None]
                    if cfg["in_channels"] == 3:
                        out, hrd = rgb_to_y(out), rgb_to_y(hrd)
                    if s > 0:
                        out = out[..., s:-s, s:-s]
                        hrd = hrd[..., s:-s, s:-s]
                    v = psnr(out, hrd)
                    per_image.append({"image": name, "y_psnr": v})
                    tot += v
                res = {"x%d" % s: tot / len(self.items)}
                score = res["x%d" % s]
        finally:
            set_train_mode(model, cfg, was_training)
        return score, res, per_image


# --------------------------------------------------------------------------
# checkpoints
# --------------------------------------------------------------------------
def atomic_save(obj, path):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:  # file object: zip root "archive", as torch 2.x writes
        torch.save(obj, f)  # zip format (torch >= 1.6 default)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def rng_state(sampler_gen, device):
    st = {"torch": torch.get_rng_state(), "sampler": sampler_gen.get_state()}
    if device.type == "cuda":
        st["cuda"] = torch.cuda.get_rng_state(device)
    return st


def plain_state_dict(model):
    """state_dict with contiguous (NCHW) CPU tensors, whatever the model's memory format."""
    return {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}


def load_state_dict_file(path):
    obj = torch.load(path, map_location="cpu")
    if isinstance(obj, dict) and "model" in obj and isinstance(obj["model"], dict):
        obj = obj["model"]
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    return obj


def append_log(path, rec):
    with open(path, "a") as f:
        f.write(json.dumps(rec) + "\n")


def fmt_time(s):
    s = int(max(0, s))
    return "%d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60)


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------
def pick_device(name):
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda requested but CUDA is not available")
    return torch.device(name)


def evaluate_only(args, cfg, device):
    model = build_model(cfg).to(device)
    model.load_state_dict(load_state_dict_file(args.evaluate_only))
    if cfg["channels_last"]:
        model = model.to(memory_format=torch.channels_last)
    t0 = time.time()
    val = Validator(cfg, device, full=True, val_dir=args.eval_dir)
    score, res, per_image = val.run(model)
    summary = {
        "checkpoint": os.path.abspath(args.evaluate_only),
        "config": args.config,
        "arch": cfg["arch"],
        "net": {k: cfg[k] for k in NET_KEYS},
        "task": cfg["task"],
        "val_dir": resolve(args.eval_dir or cfg["val_dir"]),
        "num_images": len(val.items),
        "psnr": res,
        "score": score,
        "per_image": per_image,
        "protocol": (
            "denoise: noisy = x + sigma/255 * N(0,1), N drawn by torch.Generator()"
            ".manual_seed(image_index) (images sorted by name), "
            + ("then clipped to [0,1] and rounded to 8 bits (saved-file protocol), "
               if cfg["val_protocol"] == "file" else "no input clipping, ")
            + ("the model given the true sigma, " if cfg["noise_map"] else "") +
            "PSNR over all channels of clamp(out,0,1), full images"
            if cfg["task"] == "denoise" else
            "sr: HR cropped to a multiple of scale, LR = PIL BICUBIC of uint8 HR (uint8), "
            "PSNR on BT.601 Y of clamp(out,0,1), border shave = scale, full images"),
        "device": str(device),
        "seconds": round(time.time() - t0, 2),
    }
    out = args.eval_json or os.path.join(
        args.out, "eval_%s.json" % os.path.splitext(os.path.basename(args.evaluate_only))[0])
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps({"psnr": res, "score": score, "images": len(val.items),
                      "seconds": summary["seconds"], "written": out}), flush=True)


def init_from(model, checkpoint):
    """Copies the tensors of `checkpoint` (a state_dict file, or a shipped .xunit model of the
    xdncnn family) whose name and shape match the model's; says which. A tensor one input
    channel short of the model's (a blind model's first block, the model conditioned on the
    noise level) is widened so that the new channel changes nothing at first: zero conv taps,
    an identity BatchNorm slot."""
    if checkpoint.endswith(".xunit"):
        _, src = xunit_file.xdncnn_state_dict(checkpoint)
    else:
        src = torch.load(checkpoint, map_location="cpu")
        src = src.get("model", src) if isinstance(src, dict) else src
    own = model.state_dict()
    taken, widened = {}, []
    for k, v in src.items():
        if k not in own:
            continue
        if own[k].shape == v.shape:
            taken[k] = v
        elif widened_tensor(k, v, own[k]) is not None:
            taken[k] = widened_tensor(k, v, own[k])
            widened.append(k)
    if not taken:
        raise SystemExit("--init: no tensor of %s fits this model" % checkpoint)
    model.load_state_dict(taken, strict=False)
    fresh = sorted(k for k in own if k not in taken)
    print("initialised %d of %d tensors from %s (widened: %s; fresh: %s)" % (
        len(taken), len(own), checkpoint, ", ".join(widened) or "none",
        ", ".join(fresh) or "none"), flush=True)


def widened_tensor(name, src, own):
    """`src` padded by one input channel to `own`'s shape, neutral for the new channel; None
    when the shapes differ otherwise."""
    if own.dim() == 4 and src.dim() == 4 and own.shape[1] == src.shape[1] + 1 \
            and own.shape[0] == src.shape[0] and own.shape[2:] == src.shape[2:]:
        return torch.cat([src, torch.zeros_like(src[:, :1])], dim=1)
    if own.dim() == 1 and src.dim() == 1 and own.shape[0] == src.shape[0] + 1:
        fill = {"weight": 1.0, "bias": 0.0, "running_mean": 0.0,
                "running_var": 1.0 - 1e-5}[name.rsplit(".", 1)[1]]  # BatchNorm eps 1e-5
        return torch.cat([src, torch.full((1,), fill, dtype=src.dtype)])
    return None


def shipped_commit(path):
    """The commit whose copy of `path` this run starts from: the last one that changed it, if the file
    is in the repository and unmodified (else None). Recorded at the start because a later export of
    the run replaces that very file, after which git can no longer tell which version was used."""
    rel = os.path.relpath(os.path.abspath(path), REPO_ROOT)
    if rel.startswith(".."):
        return None
    try:
        git = ["git", "-C", REPO_ROOT]
        if subprocess.run(git + ["status", "--porcelain", "--", rel], capture_output=True, text=True,
                          check=True).stdout.strip():
            return None
        return subprocess.run(git + ["log", "-1", "--format=%h", "--", rel], capture_output=True, text=True,
                              check=True).stdout.strip() or None
    except (OSError, subprocess.CalledProcessError):
        return None


def train(args, cfg, device):
    os.makedirs(args.out, exist_ok=True)
    log_path = os.path.join(args.out, "log.jsonl")
    last_path = os.path.join(args.out, "last.pt")
    t_start = time.time()

    torch.manual_seed(cfg["seed"])
    model = build_model(cfg).to(device)
    mf = torch.channels_last if cfg["channels_last"] else torch.contiguous_format
    model = model.to(memory_format=mf)
    if device.type == "cpu":
        speed_up_depthwise(model)  # PyTorch's CPU depthwise backward is ~5x its forward
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"], betas=tuple(cfg["betas"]),
                           weight_decay=cfg["weight_decay"])
    sched = LRSchedule(opt, cfg)
    gen = torch.Generator().manual_seed(cfg["seed"] + 1)
    step, elapsed_prev, best = 0, 0.0, -float("inf")

    if args.resume:
        if not os.path.exists(last_path):
            raise SystemExit("--resume: %s does not exist" % last_path)
        ck = torch.load(last_path, map_location="cpu")
        if ck.get("config", {}).get("total_steps") != cfg["total_steps"]:
            print("warning: total_steps differs from the checkpoint's config", flush=True)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["scheduler"])
        torch.set_rng_state(ck["rng"]["torch"])
        gen.set_state(ck["rng"]["sampler"])
        if device.type == "cuda" and "cuda" in ck["rng"]:
            torch.cuda.set_rng_state(ck["rng"]["cuda"], device)
        step, elapsed_prev, best = ck["step"], ck["elapsed_s"], ck["best"]
        print("resumed from %s at step %d (best %.3f)" % (last_path, step, best), flush=True)
    elif os.path.exists(last_path):
        raise SystemExit("%s exists: pass --resume or use a fresh --out" % last_path)
    if args.init and not args.resume:
        init_from(model, args.init)

    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)

    t_load = time.time()
    files = training_files(cfg)
    images = [load_image(f, cfg["in_channels"]) for f in files]
    sampler = PatchSampler(images, cfg, gen)
    validator = Validator(cfg, device)
    nparams = sum(p.numel() for p in model.parameters())
    print("arch %s %s, %d params, %d train images, %d val images, device %s, threads %d, "
          "data loaded in %.1fs" % (cfg["arch"], {k: cfg[k] for k in NET_KEYS}, nparams,
                                    len(images), len(validator.items), device,
                                    torch.get_num_threads(), time.time() - t_load), flush=True)
    init_commit = shipped_commit(args.init) if args.init and not args.resume else None
    append_log(log_path, {"event": "start", "step": step, "resume": bool(args.resume), "init": args.init,
                          "init_commit": init_commit, "config_file": os.path.relpath(args.config, REPO_ROOT),
                          "elapsed_s": round(elapsed_prev, 1), "device": str(device),
                          "threads": torch.get_num_threads()})

    stop_flag = {"sig": None}

    def on_signal(signum, _frame):
        stop_flag["sig"] = signum

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def elapsed():
        return elapsed_prev + (time.time() - t_start)

    def save_last():
        atomic_save({"model": plain_state_dict(model), "optimizer": opt.state_dict(),
                     "scheduler": sched.state_dict(), "rng": rng_state(gen, device),
                     "step": step, "elapsed_s": elapsed(), "best": best, "config": cfg},
                    last_path)

    def validate(loss_avg):
        nonlocal best
        tv = time.time()
        score, res, _ = validator.run(model)
        improved = score > best
        if improved:
            best = score
            atomic_save(plain_state_dict(model), os.path.join(args.out, "best.pt"))
            with open(os.path.join(args.out, "best.json"), "w") as f:
                json.dump({"step": step, "score": score, "val_psnr": res}, f, indent=2)
        rec = {"step": step, "loss": loss_avg, "val_psnr": res, "score": score,
               "best": best, "lr": sched.get_lr(), "elapsed_s": round(elapsed(), 1),
               "val_s": round(time.time() - tv, 1)}
        append_log(log_path, rec)
        print("[val] step %d loss %s psnr %s%s (%.1fs)" % (
            step, "%.3e" % loss_avg if loss_avg is not None else "-",
            " ".join("%s:%.3f" % kv for kv in res.items()),
            " *best*" if improved else "", rec["val_s"]), flush=True)

    set_train_mode(model, cfg, True)
    deadline = t_start + args.max_minutes * 60.0 if args.max_minutes else None
    total = cfg["total_steps"]
    loss_fn = F.mse_loss if cfg["loss"] == "mse" else F.l1_loss
    win_loss, win_n, win_t, win_step = 0.0, 0, time.time(), step
    val_loss, val_n = 0.0, 0
    last_ck = time.time()
    reason = "done"
    while step < total:
        if stop_flag["sig"] is not None:
            reason = "signal %d" % stop_flag["sig"]
            break
        if deadline and time.time() >= deadline:
            reason = "max-minutes"
            break
        if args.stop_at_step is not None and step >= args.stop_at_step:
            reason = "stop-at-step"
            break
        inp, tgt, sigma = sampler.batch()
        inp = inp.to(device, non_blocking=True).contiguous(memory_format=mf)
        tgt = tgt.to(device, non_blocking=True).contiguous(memory_format=mf)
        out = forward(model, cfg, inp, None if sigma is None else sigma.to(device))
        loss = loss_fn(out, tgt)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg["grad_clip"]:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["grad_clip"])
        opt.step()
        sched.step()
        step += 1
        lv = float(loss)
        if not math.isfinite(lv):
            raise SystemExit("non-finite loss at step %d" % step)
        win_loss += lv
        win_n += 1
        val_loss += lv
        val_n += 1

        now = time.time()
        if now - win_t >= cfg["progress_seconds"]:
            sps = (step - win_step) / (now - win_t)
            eta = (total - step) / sps if sps > 0 else float("inf")
            print("step %d/%d loss %.3e lr %.2e %.2f steps/s eta %s elapsed %s" % (
                step, total, win_loss / win_n, sched.get_lr(), sps, fmt_time(eta),
                fmt_time(elapsed())), flush=True)
            win_loss, win_n, win_t, win_step = 0.0, 0, now, step
        if step % cfg["val_every"] == 0 or step == total:
            validate(val_loss / max(1, val_n))
            val_loss, val_n = 0.0, 0
            save_last()
            last_ck = time.time()
            win_t, win_step, win_loss, win_n = time.time(), step, 0.0, 0  # exclude val time
        elif now - last_ck >= cfg["checkpoint_minutes"] * 60.0:
            save_last()
            last_ck = time.time()

    save_last()
    if step >= total:
        atomic_save(plain_state_dict(model), os.path.join(args.out, "final.pt"))
    append_log(log_path, {"event": "stop", "reason": reason, "step": step,
                          "best": best, "elapsed_s": round(elapsed(), 1)})
    print("stopped (%s) at step %d/%d, best %.3f, elapsed %s; checkpoint %s" % (
        reason, step, total, best, fmt_time(elapsed()), last_path), flush=True)


def main(args):
    if args.threads:
        torch.set_num_threads(args.threads)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass
    # Resolved once: a path from the working directory, else one relative to the repository.
    args.config = os.path.abspath(args.config if os.path.exists(args.config) else resolve(args.config))
    cfg = load_config(args.config, args.set)
    device = pick_device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    if args.evaluate_only:
        evaluate_only(args, cfg, device)
    else:
        train(args, cfg, device)


if __name__ == "__main__":
    main(ARGS)
