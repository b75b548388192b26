#!/usr/bin/env python3
"""Time an ONNX model in ONNX Runtime and OpenVINO (CPU), for bench/peers/compare.py.

Runs under any Python that has onnxruntime and/or openvino (from PyPI; the project's own build
and tests never need them):

    python3 -m pip install onnxruntime openvino numpy
    python3 bench/peers/onnx_peer.py --model m.onnx --input x.npy --threads 2 --repeat 5

Prints one JSON object per line: {"runtime": ..., "mode": ..., "seconds": median, "error": ...}.
The input is a float32 NCHW array; each runtime is warmed up once, then timed `--repeat` times.
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import median_time  # noqa: E402


def report(runtime, mode, fn, repeat):
    try:
        rec = {"runtime": runtime, "mode": mode, "seconds": median_time(fn, repeat)}
    except Exception as e:  # report and go on: a peer that fails here is a result too
        rec = {"runtime": runtime, "mode": mode, "error": (str(e).splitlines() or [type(e).__name__])[0]}
    print(json.dumps(rec), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--input", required=True, help="float32 NCHW .npy")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    x = np.load(args.input)

    try:
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = args.threads
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(args.model, so, providers=["CPUExecutionProvider"])
        name = sess.get_inputs()[0].name
        report("onnxruntime " + ort.__version__, "fp32", lambda: sess.run(None, {name: x}), args.repeat)
    except ImportError:
        print(json.dumps({"runtime": "onnxruntime", "mode": "fp32", "error": "not installed"}), flush=True)

    try:
        import openvino as ov
        core = ov.Core()
        model = core.read_model(args.model)
        for mode, precision in (("fp32", "f32"), ("bf16", "bf16")):
            try:
                compiled = core.compile_model(model, "CPU", {
                    "INFERENCE_NUM_THREADS": args.threads,
                    "INFERENCE_PRECISION_HINT": precision,
                    "PERFORMANCE_HINT": "LATENCY",
                })
                request = compiled.create_infer_request()
                report("openvino " + ov.__version__.split("-")[0], mode, lambda: request.infer({0: x}), args.repeat)
            except Exception as e:
                print(json.dumps({"runtime": "openvino", "mode": mode, "error": str(e).splitlines()[0]}), flush=True)
    except ImportError:
        print(json.dumps({"runtime": "openvino", "mode": "fp32", "error": "not installed"}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
