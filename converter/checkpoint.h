// Entry point for reading any supported checkpoint file into a StateDict, without Python.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "converter/state_dict.h"

namespace xunit::convert {

enum class CheckpointFormat { TorchZip, TorchLegacy, Safetensors };

// Detects the format from the leading bytes (zip local header / legacy pickle magic / safetensors
// header) and reads the state dict. A dict that holds the state dict under "state_dict", "model",
// "g_model", "generator", "net" or "params" is unwrapped; a "module." prefix on every key is
// stripped. Throws xunit::Error with one clear line on any malformed or refused input.
StateDict load_checkpoint(const std::vector<uint8_t> &bytes,
                          CheckpointFormat *format_out = nullptr);

}  // namespace xunit::convert
