#include "converter/families/family_registry.h"

#include "common/error.h"

namespace xunit::convert {

namespace {

// An xUnit module's keys: slot 0 (xUnitS dw conv, vanilla BN) or 2 (vanilla dw conv).
bool has_xunit(const WeightSource &w, const std::string &prefix) {
  return w.has(prefix + ".features.0.weight") || w.has(prefix + ".features.2.weight");
}
bool match_xdncnn(const WeightSource &w) {
  return w.has("image_to_features.bn.weight") && has_xunit(w, "image_to_features.xunit");
}
bool match_dncnn(const WeightSource &w) {
  return w.has("image_to_features.conv.weight") && w.has("image_to_features.bn.weight") &&
         !has_xunit(w, "image_to_features.xunit");
}
bool match_xsrgan(const WeightSource &w) {
  return w.has("usample.0.conv.weight") && has_xunit(w, "features.0.xunit");
}
bool match_srgan(const WeightSource &w) {
  return w.has("usample.0.conv.weight") && w.has("features.0.conv1.weight") &&
         !has_xunit(w, "features.0.xunit");
}

bool match_xdense(const WeightSource &w) {
  return w.has("image_to_features.features.0.weight") &&
         w.has("image_to_features.features.1.features.3.weight");
}

// The 2018 code's module cells (MODELS.md): `md1.0` is a cell in both of its denoiser and its
// SRCNN; the denoiser's later cells sit under `mdI.1` after a BatchNorm `mdI.0`.
bool match_xdncnn2018(const WeightSource &w) {
  return w.has("md1.0.module.2.weight") && w.has("md2.1.features.0.weight") &&
         w.has("joints.weight");
}
bool match_xsrcnn2018(const WeightSource &w) {
  return w.has("md1.0.module.2.weight") && w.has("md2.0.features.0.weight") &&
         w.has("joints.weight");
}
bool match_xsrresnet2018(const WeightSource &w) {
  return w.has("conv1.weight") && w.has("prelu1.weight") &&
         w.has("xresidual_block1.md.module.2.weight");
}

// The first conv's weight (its input channels are the image's), under each family's key.
std::vector<int64_t> first_conv_shape(const WeightSource &w) {
  for (const char *key : {"image_to_features.conv.weight", "image_to_features.weight",
                          "image_to_features.features.0.weight", "md1.0.features.0.weight",
                          "conv1.weight", "model.0.weight"})
    if (w.has(key)) return w.shape_of(key);
  throw Error(
      "missing key 'image_to_features.conv.weight' (or 'image_to_features.weight', "
      "'image_to_features.features.0.weight', 'md1.0.features.0.weight', 'conv1.weight', "
      "'model.0.weight'): the checkpoint has no first conv");
}

}  // namespace

const std::vector<Family> &families() {
  static const std::vector<Family> kFamilies = {
      {"xdncnn", "denoise", match_xdncnn, build_xdncnn, xdncnn_image_channels},
      {"dncnn", "denoise", match_dncnn, build_dncnn},
      {"xsrgan", "sr", match_xsrgan, build_xsrgan},
      {"srgan", "sr", match_srgan, build_srgan},
      {"xdense", nullptr, match_xdense, build_xdense},
      {"xdncnn2018", "denoise", match_xdncnn2018, build_xdncnn2018},
      {"xsrcnn2018", nullptr, match_xsrcnn2018, build_xsrcnn2018},
      {"xsrresnet2018", "sr", match_xsrresnet2018, build_xsrresnet2018},
      {"kair_dncnn", "denoise", match_kair_dncnn, build_kair_dncnn},
      {"ffdnet", "denoise", match_ffdnet, build_ffdnet, ffdnet_image_channels},
  };
  return kFamilies;
}

Graph build_graph(const StateDict &dict, const std::string &arch,
                  const std::map<std::string, std::string> &settings) {
  XUNIT_CHECK(!dict.tensors.empty(), "the checkpoint holds no tensors");
  WeightSource w(dict);
  const Family *family = nullptr;
  if (!arch.empty()) {
    std::string known;
    for (const Family &f : families()) {
      if (arch == f.name) family = &f;
      known += (known.empty() ? "" : ", ") + std::string(f.name);
    }
    XUNIT_CHECK(family != nullptr, "unknown --arch '" + arch + "' (known: " + known + ")");
  } else {
    std::vector<const Family *> candidates;
    for (const Family &f : families())
      if (f.matches(w)) candidates.push_back(&f);
    if (candidates.empty())
      throw Error("cannot tell the model family from the checkpoint's keys (first key: '" +
                  dict.tensors.front().name + "'); pass --arch");
    if (candidates.size() > 1) {
      std::string names;
      for (auto *f : candidates) names += (names.empty() ? "" : ", ") + std::string(f->name);
      throw Error("ambiguous model family (candidates: " + names + "); pass --arch");
    }
    family = candidates.front();
  }
  Graph g;
  GraphBuilder builder(g, w);
  Settings s(settings);
  std::map<std::string, std::string> meta;
  const std::vector<int64_t> first = first_conv_shape(w);
  XUNIT_CHECK(first.size() == 4 && first[1] >= 1 && first[1] <= 64,
              "the first conv has an unexpected shape");
  try {
    const int channels = family->image_channels ? family->image_channels(w) : int(first[1]);
    XUNIT_CHECK(channels >= 1 && channels <= 64,
                "the image would have " + std::to_string(channels) + " channels");
    g.output = family->build(builder, w, s, g.add_input("image", channels), meta);
    w.expect_all_used(family->name);
  } catch (const Error &e) {
    // A forced --arch that does not fit: say which family the keys do look like.
    std::string hint;
    for (const Family &f : families())
      if (&f != family && f.matches(w)) hint += (hint.empty() ? "" : " or ") + std::string(f.name);
    if (hint.empty()) throw;
    throw Error(std::string(e.what()) + " (the keys look like family " + hint + ", not " +
                family->name + ")");
  }
  s.expect_all_used(std::string("family ") + family->name);
  g.validate_and_infer();
  g.metadata = meta;
  g.metadata["family"] = family->name;
  if (family->task) g.metadata["task"] = family->task;
  g.metadata["scale"] = std::to_string(g.output_scale());
  g.metadata["in_channels"] = std::to_string(g.in_channels());
  g.metadata["out_channels"] = std::to_string(g.out_channels());
  g.metadata["receptive_field"] = std::to_string(g.receptive_radius());
  return g;
}

}  // namespace xunit::convert
