// Weights for vdpbf16ps (plain code: run once per model).
#include "common/error.h"
#include "common/half.h"
#include "kernels/convert/convert.h"

namespace xunit::kernels {

std::vector<uint16_t> pack_bf16_input_pairs(const float *w, size_t in_channels, size_t out_channels,
                                            size_t matrices) {
  XUNIT_CHECK(in_channels % 2 == 0, "internal error: bf16 pair packing needs even channels");
  const size_t n = in_channels * out_channels;
  std::vector<uint16_t> packed(matrices * n);
  for (size_t m = 0; m < matrices; ++m)
    for (size_t c = 0; c < in_channels; ++c)
      for (size_t o = 0; o < out_channels; ++o)
        packed[m * n + ((c / 2) * out_channels + o) * 2 + c % 2] =
            float_to_bf16(w[m * n + c * out_channels + o]);
  return packed;
}

}  // namespace xunit::kernels
