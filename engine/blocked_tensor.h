// A view of one feature map in the engine's layout: channel blocks of `block` lanes, each block a
// row-major plane of pixels with the lanes interleaved (nChw16c, or nhwc when block == channels).
#pragma once
#include <cstddef>

#include "engine/plan.h"

namespace xunit {

struct BlockedTensor {
  float *data = nullptr;
  int channels = 0, height = 0, width = 0;
  int block = 1;

  static BlockedTensor make(float *data, int channels, int height, int width) {
    return {data, channels, height, width, channel_block(channels)};
  }
  int blocks() const { return (channels + block - 1) / block; }
  size_t plane() const { return size_t(height) * width; }
  size_t floats() const { return size_t(blocks()) * block * plane(); }
  size_t offset(int c, int y, int x) const {
    return ((size_t(c / block) * height + y) * width + x) * block + size_t(c % block);
  }
  // Start of the lanes of pixel (y, x) in channel block b.
  float *pixel(int b, int y, int x) const {
    return data + ((size_t(b) * height + y) * width + x) * block;
  }
};

}  // namespace xunit
