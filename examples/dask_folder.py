#!/usr/bin/env python3
"""Restores a folder of images on a Dask cluster: one loaded xunit model per worker.

    python3 dask_folder.py INPUT_DIR OUTPUT_DIR [--model xdncnn-color] [--workers 1,2]
    python3 dask_folder.py INPUT_DIR OUTPUT_DIR --scheduler tcp://host:8786

Without --scheduler it starts a LocalCluster (one process per worker) for each count in
--workers and reports the throughput of each; with --scheduler it uses the cluster that is
already there. Every worker loads the model once, when it joins (a WorkerPlugin), and then
restores one image per task, reading from and writing to paths every worker can see (a shared
file system, as on any cluster). The images are sharded by Dask's scheduler, which balances
them over the workers as they finish. Outputs are PNGs with the inputs' names; existing outputs
are never replaced unless --overwrite is given.

Needs Debian's python3-dask, python3-distributed, python3-numpy, python3-pil and the xunit
Python package (cmake --install; PYTHONPATH=PREFIX/lib/python3/dist-packages elsewhere than
/usr). The same pattern on Ray and Spark: docs/scale-out.md.
"""
import argparse
import json
import os
import sys
import time

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tga", ".ppm", ".pgm")
PLUGIN_NAME = "xunit-model"


class XunitModelPlugin:
    """Loads the model once per worker process; tasks find it in worker.plugins[PLUGIN_NAME]."""

    def __init__(self, model_path, threads):
        self.model_path, self.threads, self.model = model_path, threads, None

    def setup(self, worker):
        import xunit
        self.model = xunit.Model(self.model_path)

    def teardown(self, worker):
        if self.model is not None:
            self.model.close()


def restore_one(src, dst, threads):
    """One task: read, restore with this worker's model, write (atomically: no partial PNG)."""
    import numpy as np
    from distributed import get_worker
    from PIL import Image
    model = get_worker().plugins[PLUGIN_NAME].model
    with Image.open(src) as im:
        img = np.asarray(im.convert("RGB" if model.in_channels == 3 else "L"))
    out = model.run(img, threads=threads)
    tmp = dst + ".partial"
    Image.fromarray(out).save(tmp, format="PNG")
    os.replace(tmp, dst)
    return int(img.shape[0] * img.shape[1])


def resolve_model(name):
    """A .xunit path or a shipped model's name, as a path every worker can load."""
    import xunit
    try:
        return os.path.abspath(xunit.find_model(name))
    except xunit.Error as e:
        sys.exit("dask_folder: %s" % e)


def run_on(client, model_path, jobs, threads):
    from distributed.diagnostics.plugin import WorkerPlugin

    class Plugin(XunitModelPlugin, WorkerPlugin):
        pass
    client.register_worker_plugin(Plugin(model_path, threads), name=PLUGIN_NAME)  # loads the models
    workers = len(client.scheduler_info()["workers"])
    t0 = time.perf_counter()
    futures = client.map(restore_one, [s for s, _ in jobs], [d for _, d in jobs], [threads] * len(jobs),
                         pure=False)
    results = client.gather(futures)
    wall = time.perf_counter() - t0
    pixels = sum(results)
    return {"workers": workers, "images": len(jobs), "seconds": round(wall, 3),
            "images_per_s": round(len(jobs) / wall, 3), "megapixels_per_s": round(pixels / wall / 1e6, 3)}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("input_dir")
    p.add_argument("output_dir")
    p.add_argument("--model", default="xdncnn-color", help="a .xunit file or a shipped model's name")
    p.add_argument("--workers", default="1", help="comma-separated worker counts of the LocalClusters to time")
    p.add_argument("--threads", type=int, default=1, help="threads of each model run (default 1: one core per worker)")
    p.add_argument("--scheduler", help="address of a running Dask scheduler (instead of LocalClusters)")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.add_argument("--json", help="also write the throughput table here")
    a = p.parse_args()

    if not os.path.isdir(a.input_dir):
        sys.exit("dask_folder: %s is not a folder" % a.input_dir)
    try:
        counts = [int(w) for w in a.workers.split(",")]
        assert counts and all(w >= 1 for w in counts)
    except (ValueError, AssertionError):
        sys.exit("dask_folder: --workers wants positive counts like 1,2,4, not %r" % a.workers)
    names = sorted(n for n in os.listdir(a.input_dir) if n.lower().endswith(IMAGE_EXTENSIONS))
    if not names:
        sys.exit("dask_folder: no images in %s" % a.input_dir)
    model_path = resolve_model(a.model)
    os.makedirs(a.output_dir, exist_ok=True)
    jobs = [(os.path.abspath(os.path.join(a.input_dir, n)),
             os.path.abspath(os.path.join(a.output_dir, os.path.splitext(n)[0] + ".png"))) for n in names]
    if os.path.realpath(a.input_dir) == os.path.realpath(a.output_dir):
        sys.exit("dask_folder: the output folder is the input folder")
    existing = [d for _, d in jobs if os.path.exists(d)]
    if existing and not a.overwrite:
        sys.exit("dask_folder: %s exists (and %d more); pass --overwrite to replace" % (existing[0], len(existing) - 1))

    from distributed import Client, LocalCluster
    rows = []
    if a.scheduler:
        with Client(a.scheduler) as client:
            rows.append(run_on(client, model_path, jobs, a.threads))
    else:
        for w in counts:
            with LocalCluster(n_workers=w, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                    Client(cluster) as client:
                rows.append(run_on(client, model_path, jobs, a.threads))
    base = rows[0]["images_per_s"]
    print("%-8s %7s %9s %9s %8s %8s" % ("workers", "images", "seconds", "images/s", "MP/s", "speedup"))
    for r in rows:
        r["speedup"] = round(r["images_per_s"] / base, 2)
        print("%-8d %7d %9.2f %9.2f %8.3f %7.2fx" % (r["workers"], r["images"], r["seconds"], r["images_per_s"],
                                                    r["megapixels_per_s"], r["speedup"]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"model": os.path.basename(model_path), "threads_per_run": a.threads, "runs": rows}, f, indent=2)


if __name__ == "__main__":
    main()
