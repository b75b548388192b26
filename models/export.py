#!/usr/bin/python3
"""Turns a training run into a shipped model: models/NAME.xunit and its card models/NAME.md.

    /usr/bin/python3 models/export.py --run /work/train/denoise_color --name xdncnn-color \\
        --title "Blind color denoiser"

Converts the run's best.pt with xunit-convert (no Python involved in the conversion itself),
evaluates it in PyTorch and in the engine with models/evaluate.py (full validation set), stores
the weights as fp16 when that changes the engine's validation PSNR by less than 0.01 dB (else
fp32), and writes the card: architecture, data, noise model, training budget, validation numbers
and their protocol. The card's numbers also go into the model's metadata (xunit-run --info).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CONVERT = os.path.join(ROOT, "build", "bin", "xunit-convert")


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True)


def evaluate(config, checkpoint, model, out_json, precision="fp32"):
    run([sys.executable, os.path.join(HERE, "evaluate.py"), "--config", config, "--checkpoint", checkpoint,
         "--model", model, "--precision", precision, "--json", out_json])
    with open(out_json) as f:
        return json.load(f)


def training_summary(run_dir):
    steps, seconds, device, init, init_commit, config_file = 0, 0.0, "cpu", None, None, None
    with open(os.path.join(run_dir, "log.jsonl")) as f:
        for line in f:
            rec = json.loads(line)
            steps = max(steps, rec.get("step", 0))
            seconds = max(seconds, rec.get("elapsed_s", 0.0))
            device = rec.get("device", device)
            if rec.get("event") == "start" and not rec.get("resume"):
                init, init_commit = rec.get("init"), rec.get("init_commit")
            config_file = config_file or rec.get("config_file")  # the first start's; older logs lack it
    with open(os.path.join(run_dir, "best.json")) as f:
        best = json.load(f)
    return steps, seconds, device, best, init, init_commit, config_file


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", required=True, help="a models/train.py output folder")
    ap.add_argument("--name", required=True, help="file name in models/, e.g. xdncnn-color")
    ap.add_argument("--title", required=True)
    ap.add_argument("--init-commit", help="the commit of the shipped model the run started from (--init "
                    "models/NAME.xunit), where its log does not record it (runs before train.py did)")
    args = ap.parse_args()

    config = os.path.join(args.run, "config.json")
    with open(config) as f:
        cfg = json.load(f)
    checkpoint = os.path.join(args.run, "best.pt")
    steps, seconds, device, best, init, init_commit, config_file = training_summary(args.run)
    init_commit = args.init_commit or init_commit
    # Asked before the evaluations: git's newest commit of the file is not it once a run was exported.
    if init and init.endswith(".xunit") and not init_commit:
        raise SystemExit("the run's log does not say which commit's %s it started from: pass --init-commit" % init)
    if config_file is None:  # an older run: its folder was named after its config
        config_file = "models/configs/%s.json" % os.path.basename(args.run.rstrip("/"))

    with tempfile.TemporaryDirectory() as tmp:
        evals = {}
        for dtype in ("fp32", "fp16"):
            path = os.path.join(tmp, dtype + ".xunit")
            run([CONVERT, checkpoint, path, "--dtype", dtype])
            evals[dtype] = evaluate(config, checkpoint, path, os.path.join(tmp, dtype + ".json"),
                                    "fp32,bf16" if dtype == "fp32" else "fp32")
    fp32, fp16 = evals["fp32"]["xunit_fp32"], evals["fp16"]["xunit_fp32"]
    worst = max(abs(fp32[k] - fp16[k]) for k in fp32)
    dtype = "fp16" if worst < 0.01 else "fp32"
    chosen = evals[dtype]["xunit_fp32"]

    arch = "%s, %d features, %d blocks, %dx%d xUnit kernel, %s" % (
        cfg["arch"], cfg["num_features"], cfg["gen_blocks"], cfg["kernel_size"], cfg["kernel_size"],
        "gray" if cfg["in_channels"] == 1 else "color")
    if cfg["task"] == "sr":
        arch += ", x%d" % cfg["scale"]
    data = ", ".join(os.path.basename(d.rstrip("/")) for d in cfg["train_dirs"]) + " (shared/data)"
    if cfg.get("train_exclude"):
        data += ", without " + ", ".join(cfg["train_exclude"])
    val_set = os.path.basename(cfg["val_dir"].rstrip("/"))
    budget = "%d steps of %d patches of %dx%d (%.1f h on %s, torch %s)" % (
        steps, cfg["batch_size"], cfg["patch_size"], cfg["patch_size"], seconds / 3600, device,
        __import__("torch").__version__)
    if steps < cfg["total_steps"]:  # stopped before the end of its learning-rate schedule
        budget += ", stopped at step %d of a %d-step schedule" % (steps, cfg["total_steps"])
    budget += "; the shipped weights are step %d's (best validation)" % best["step"]
    if init and init.endswith(".xunit"):  # started from a shipped model, which this export may replace
        budget += ", starting from the weights of the shipped %s of commit %s (its own card there gives its " \
                  "training)" % (os.path.basename(init), init_commit)
    elif init:  # a fine-tuned run: its budget is on top of the one it started from
        budget += ", starting from the weights of %s" % os.path.relpath(init, os.path.dirname(args.run.rstrip("/")))
    if cfg["task"] == "denoise":
        noise = "%s: sigma uniform in [0, %g] per patch, x + sigma/255 * N(0,1)" % (
            "conditioned on sigma (a sigma/255 map as an extra input channel)" if cfg.get("noise_map")
            else "blind", cfg["sigma_max"])
        if cfg.get("degradation") == "file":
            noise += (", then what a saved file holds: clipped to [0, 1], quantized to 8 bits (16 bits for %d%% "
                      "of patches), %d%% of patches JPEG-compressed at quality %d-%d after the noise; %d%% of "
                      "patches without noise" % (round(100 * cfg["quantize16_share"]), round(100 * cfg["jpeg_share"]),
                                                 cfg["jpeg_quality"][0], cfg["jpeg_quality"][1],
                                                 round(100 * cfg["sigma_zero_share"])))
        else:
            noise += ", not clipped"
        validation = ", ".join("sigma %s: %.2f dB" % (s, chosen[s]) for s in sorted(chosen, key=float))
        saved = cfg.get("val_protocol") == "file"
        protocol = ("full %s images, noise drawn per image by torch.Generator().manual_seed(image index, images "
                    "sorted by name), x + sigma/255 * N(0,1) %s, PSNR over all channels of the output "
                    "clamped to [0, 1], mean over images%s" % (
                        val_set, "clipped to [0, 1] and rounded to 8 bits (the saved-file protocol: the noisy "
                        "image as a PNG holds it)" if saved else "unclipped",
                        "; the model is given the true sigma (--sigma N), and in the last row estimates it "
                        "(--sigma auto)" if cfg.get("noise_map") else ""))
    else:
        noise = "LR = PIL bicubic downscaling of the uint8 HR crop (x%d)" % cfg["scale"]
        key = "x%d" % cfg["scale"]
        validation = "%.2f dB (bicubic: %.2f dB)" % (chosen[key], evals[dtype]["bicubic"][key])
        protocol = ("full %s images cropped to a multiple of %d, LR = PIL bicubic of the uint8 HR, PSNR on "
                    "BT.601 luma of the output clamped to [0, 1], %d-pixel border shaved, mean over images"
                    % (val_set, cfg["scale"], cfg["scale"]))

    out = os.path.join(HERE, args.name + ".xunit")
    run([CONVERT, checkpoint, out, "--dtype", dtype, "-y", "--meta", "title=" + args.title,
         "--meta", "training=%s; data: %s; %s" % (budget, data, noise),
         "--meta", "validation=%s: %s" % (val_set, validation)])

    lines = [
        "# %s" % args.name,
        "",
        args.title + ".",
        "",
        "| | |",
        "|---|---|",
        "| architecture | %s (MODELS.md) |" % arch,
        "| parameters | %s |" % run([os.path.join(ROOT, "build", "bin", "xunit-run"), "--info", out]).stdout.split(
            "parameters:")[1].split("\n")[0].strip(),
        "| weights | %s (%s) |" % (dtype, "PSNR change vs fp32 storage %.4f dB" % worst),
        "| training data | %s |" % data,
        "| degradation | %s |" % noise,
        "| training | %s; Adam lr %g, %s schedule to %g, %s loss, seed %d |" % (
            budget, cfg["lr"], cfg["lr_schedule"], cfg["lr_min"], cfg["loss"], cfg["seed"]),
        "| config | `%s` |" % config_file,
        "",
        "## Validation (%s)" % val_set,
        "",
        "| | " + " | ".join(sorted(chosen, key=lambda k: float(k.strip("x")))) + " |",
        "|---|" + "---:|" * len(chosen),
    ]
    order = sorted(chosen, key=lambda k: float(k.strip("x")))
    rows = [("PyTorch (fp32)", evals[dtype]["pytorch"]), ("xunit fp32", chosen)]
    if "xunit_bf16" in evals["fp32"]:
        rows.append(("xunit bf16 (fp32 weights)", evals["fp32"]["xunit_bf16"]))
    if "xunit_fp32_auto" in evals[dtype]:
        rows.append(("xunit fp32, --sigma auto", evals[dtype]["xunit_fp32_auto"]))
    if "bicubic" in evals[dtype]:
        rows.append(("bicubic upscaling", evals[dtype]["bicubic"]))
    for label, vals in rows:
        lines.append("| %s | %s |" % (label, " | ".join("%.2f" % vals[k] for k in order)))
    lines += ["", "PSNR in dB. Protocol: " + protocol + " (`models/evaluate.py`).",
              "Max |xunit - PyTorch| on these inputs, fp32 arithmetic: %.1e with the weights stored as fp32%s." % (
                  evals["fp32"]["max_abs_diff_fp32"],
                  "" if dtype == "fp32" else ", %.1e as shipped (fp16 storage rounds the weights)"
                  % evals[dtype]["max_abs_diff_fp32"]), ""]
    with open(os.path.join(HERE, args.name + ".md"), "w") as f:
        f.write("\n".join(lines))
    print("wrote %s (%s) and its card: %s" % (out, dtype, validation))
    return 0


if __name__ == "__main__":
    sys.exit(main())
