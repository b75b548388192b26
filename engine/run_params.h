// What a run gives the graph besides the image: the values of its run-time inputs. One struct
// that the image runner hands every step (StepIo) and the reference executor, so that a new
// run-time input is one field here, not a parameter threaded through each layer.
#pragma once

namespace xunit {

struct RunParams {
  // The noise level sigma in 8-bit levels, read by noise_level_map ops (a denoiser conditioned
  // on it: Graph::noise_level_input()). The C API checks it (0..255) or estimates it.
  float noise_level = 0.f;
};

}  // namespace xunit
