// xunit-convert: PyTorch checkpoint (zip / legacy), .safetensors or ONNX -> .xunit model.
#include <limits.h>
#include <stdlib.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>

#include "common/error.h"
#include "common/file_io.h"
#include "common/printable.h"
#include "common/sha256.h"
#include "converter/checkpoint.h"
#include "converter/families/family_registry.h"
#include "converter/onnx/onnx_import.h"
#include "engine/model_file.h"
#include "xunit/xunit.h"

namespace {

// clang-format off
const char *kUsage =
    "usage: xunit-convert INPUT OUTPUT.xunit [--arch NAME] [--set KEY=VALUE]... [--dtype fp32|fp16|bf16] [-y]\n"
    "\n"
    "Converts a trained PyTorch checkpoint or an ONNX graph into an .xunit model, without Python.\n"
    "\n"
    "INPUT     a PyTorch checkpoint (.pt/.pth; torch >= 1.6 zip or the legacy format) holding a\n"
    "          state_dict, bare or under 'state_dict', 'model', 'g_model', ...; a .safetensors file;\n"
    "          or an ONNX model (.onnx, opset 11-18, as torch.onnx.export writes it, dynamic H/W).\n"
    "          Only tensors and plain containers are read from a checkpoint: any other pickled\n"
    "          object is refused.\n"
    "OUTPUT    the .xunit file to write (never overwritten unless -y is given).\n"
    "\n"
    "options:\n"
    "  --arch NAME        checkpoint family: xdncnn, dncnn, xsrgan, srgan, xdense, xdncnn2018,\n"
    "                     xsrcnn2018, xsrresnet2018, kair_dncnn, ffdnet. Optional when the keys\n"
    "                     identify the family; an ambiguity is reported with the candidates.\n"
    "  --set KEY=VALUE    a hyper-parameter the checkpoint cannot tell: eps (BatchNorm epsilon,\n"
    "                     default 1e-5; 1e-4 for kair_dncnn, KAIR's), scale (SR families;\n"
    "                     checked against the checkpoint).\n"
    "                     ONNX: noise_input (the input that is the noise-level map, when its\n"
    "                     shape cannot tell), noise_level_scale (what the map holds per level\n"
    "                     of sigma; default 1/255, i.e. the map is sigma/255).\n"
    "  --dtype TYPE       weight storage: fp32 (default, exact), fp16 or bf16 (half the size).\n"
    "  --meta KEY=VALUE   an extra metadata entry (e.g. title=..., training=...); repeatable.\n"
    "  -y, --overwrite    replace OUTPUT if it exists.\n"
    "  -h, --help         this text.\n"
    "\n"
    "Checkpoints: hyper-parameters (channels, features, blocks, growth, kernel size, scale) are\n"
    "inferred from tensor shapes; the family's graph is built and BatchNorm folded where exact.\n"
    "ONNX (opset 11-18): the graph is translated op by op: Conv (stride 1, 'same' padding, also\n"
    "dilated), ConvTranspose (upsampling by its stride), BatchNormalization, Relu, LeakyRelu,\n"
    "PRelu, Sigmoid, Tanh, Exp, Softplus, Clip, Neg, Pow(x, 2), Mul, Add, Sub, Div (of two\n"
    "tensors or by a constant), Concat (channels), DepthToSpace (DCR/CRD), SpaceToDepth and pixel\n"
    "unshuffles of the input, shuffles written as Reshape/Transpose, Pad (zeros, reflect, edge)\n"
    "before convs, Resize (nearest/linear/cubic, integer scales, half_pixel or asymmetric\n"
    "coordinates), Constant, Identity. Anything else is an error naming the node.\n"
    "A second input (N, 1, H, W) is a noise-level map (FFDNet-style conditioning): the model\n"
    "then takes --sigma like the shipped denoisers, and the engine fills the map itself.\n"
    "Exit status: 0 on success, 1 on any error (one line on stderr), 2 on bad usage.\n";
// clang-format on

int usage_error(const std::string &message) {
  std::fprintf(stderr, "xunit-convert: %s (see --help)\n", xunit::printable(message).c_str());
  return 2;
}

const char *format_name(xunit::convert::CheckpointFormat f) {
  switch (f) {
    case xunit::convert::CheckpointFormat::TorchZip:
      return "torch-zip";
    case xunit::convert::CheckpointFormat::TorchLegacy:
      return "torch-legacy";
    case xunit::convert::CheckpointFormat::Safetensors:
      return "safetensors";
  }
  return "?";
}

}  // namespace

int main(int argc, char **argv) {
  std::string input, output, arch;
  std::map<std::string, std::string> settings, extra_meta;
  xunit::DType dtype = xunit::DType::F32;
  bool overwrite = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char *flag) -> const char * {
      if (i + 1 >= argc) return nullptr;
      (void)flag;
      return argv[++i];
    };
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--arch") {
      const char *v = value("--arch");
      if (!v) return usage_error("--arch needs a value");
      arch = v;
    } else if (a == "--set") {
      const char *v = value("--set");
      const char *eq = v ? std::strchr(v, '=') : nullptr;
      if (!eq || eq == v) return usage_error("--set needs KEY=VALUE");
      settings[std::string(v, size_t(eq - v))] = eq + 1;
    } else if (a == "--meta") {
      const char *v = value("--meta");
      const char *eq = v ? std::strchr(v, '=') : nullptr;
      if (!eq || eq == v) return usage_error("--meta needs KEY=VALUE");
      extra_meta[std::string(v, size_t(eq - v))] = eq + 1;
    } else if (a == "--dtype") {
      const char *v = value("--dtype");
      if (!v) return usage_error("--dtype needs a value");
      std::string d = v;
      if (d == "fp32")
        dtype = xunit::DType::F32;
      else if (d == "fp16")
        dtype = xunit::DType::F16;
      else if (d == "bf16")
        dtype = xunit::DType::BF16;
      else
        return usage_error("--dtype must be fp32, fp16 or bf16");
    } else if (a == "-y" || a == "--overwrite") {
      overwrite = true;
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("unknown option '" + a + "'");
    } else if (input.empty()) {
      input = a;
    } else if (output.empty()) {
      output = a;
    } else {
      return usage_error("too many arguments");
    }
  }
  if (input.empty() || output.empty()) return usage_error("INPUT and OUTPUT are required");
  try {
    std::vector<uint8_t> bytes = xunit::read_file(input);
    char in_real[PATH_MAX], out_real[PATH_MAX];
    XUNIT_CHECK(!(realpath(input.c_str(), in_real) && realpath(output.c_str(), out_real) &&
                  std::string(in_real) == out_real),
                "refusing to write over the input '" + input + "'");
    XUNIT_CHECK(overwrite || !xunit::file_exists(output),
                "output exists (use -y to overwrite): '" + output + "'");
    xunit::Graph graph;
    if (xunit::convert::looks_like_onnx(input, bytes)) {
      XUNIT_CHECK(arch.empty(),
                  "--arch applies to checkpoints; an ONNX file carries its own graph");
      try {
        graph = xunit::convert::import_onnx(bytes, settings);
      } catch (const xunit::Error &e) {
        throw xunit::Error(input + ": " + e.what());
      }
      graph.metadata["source_format"] = "onnx";
    } else {
      xunit::convert::CheckpointFormat format;
      xunit::convert::StateDict dict;
      try {
        dict = xunit::convert::load_checkpoint(bytes, &format);
      } catch (const xunit::Error &e) {
        throw xunit::Error(input + ": " + e.what());
      }
      graph = xunit::convert::build_graph(dict, arch, settings);
      graph.metadata["source_format"] = format_name(format);
    }
    graph.metadata["source_sha256"] =
        xunit::Sha256::hex(xunit::Sha256::digest(bytes.data(), bytes.size()));
    graph.metadata["converter_version"] = xunit_version();
    graph.metadata["weights_dtype"] = xunit::dtype_name(dtype);
    for (const auto &[k, v] : extra_meta) {
      XUNIT_CHECK(!graph.metadata.count(k), "--meta " + k + ": a key the converter sets itself");
      graph.metadata[k] = v;
    }
    std::vector<uint8_t> model = xunit::serialize_model(graph, dtype);
    xunit::write_file_atomic(output, model.data(), model.size(), overwrite);
    std::fprintf(
        stderr, "%s: %s, %s, %d -> %d channels, scale %d, %zu parameters, halo %d px (%zu bytes)\n",
        xunit::printable(output).c_str(), xunit::printable(graph.metadata["family"]).c_str(),
        xunit::printable(graph.metadata["task"]).c_str(), graph.in_channels(), graph.out_channels(),
        graph.output_scale(), graph.parameter_count(), graph.receptive_radius(), model.size());
    return 0;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "xunit-convert: %s\n", xunit::printable(e.what()).c_str());
    return 1;
  }
}
