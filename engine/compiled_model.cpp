#include "engine/compiled_model.h"

#include <cstdlib>
#include <cstring>

#include "common/error.h"
#include "kernels/isa.h"

namespace xunit {

int default_simd_block() { return kernels::active_isa() >= kernels::Isa::Avx512 ? 16 : 8; }

CompiledModel::CompiledModel(Graph graph, std::shared_ptr<const void> storage,
                             CompileOptions options)
    : storage_(std::move(storage)), graph_(std::make_shared<const Graph>(std::move(graph))) {
  compile(options);
}

CompiledModel::CompiledModel(const CompiledModel &other, CompileOptions options)
    : storage_(other.storage_), graph_(other.graph_) {
  compile(options);
}

void CompiledModel::compile(CompileOptions options) {
  const Graph &graph = *graph_;
  const int block = options.simd_block ? options.simd_block : default_simd_block();
  XUNIT_CHECK(block == 8 || block == 16, "internal error: channel block must be 8 or 16");
  if (const char *algo = std::getenv("XUNIT_CONV_ALGORITHM"))
    if (std::strcmp(algo, "direct") == 0) options.conv_algorithm = ConvAlgorithm::Direct;
  const kernels::Isa isa = kernels::active_isa();
  if (options.precision == Precision::Bf16 && (isa < kernels::Isa::Avx512 || block != 16))
    throw UnsupportedError("bf16 precision needs an AVX-512 CPU (this one runs " +
                           std::string(kernels::isa_name(isa)) + ")");
  if (options.precision == Precision::Auto && (isa < kernels::Isa::Avx512Bf16 || block != 16))
    options.precision = Precision::Fp32;
  precision_ = options.precision;
  plan_ = make_plan(graph, block, options.precision, options.conv_algorithm);
  programs_.clear();
  for (const Step &s : plan_.steps)
    programs_.push_back(compile_step({graph, plan_, s, int(options.conv_algorithm)}));
}

}  // namespace xunit
