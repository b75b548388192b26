// EXIF/TIFF orientation (1..8) applied to the pixels, so that the image is stored upright.
#pragma once
#include "cli/image_io.h"

namespace xunit::cli {

// Rotates and/or mirrors the image as a viewer shows a file of that orientation: 2 mirrored, 3
// turned 180 degrees, 4 flipped, 5 transposed, 6 turned 90 degrees clockwise, 7 transversed, 8
// turned 90 degrees counter-clockwise (5 to 8 swap width and height). 1 and invalid values
// leave the image as it is.
void apply_orientation(Image &image, int orientation);

}  // namespace xunit::cli
