// EXIF through libexif: the orientation read, and the blob made true for the image it is
// written with (orientation 1 once applied, the pixel dimensions of that image, no thumbnail:
// the old one would show the unrestored, possibly unrotated picture).
#pragma once
#include <cstdint>
#include <vector>

namespace xunit::cli {

// The EXIF as a TIFF structure: JPEG's "Exif\0\0" prefix, which some PNG and WebP writers keep
// in their chunks too, removed.
std::vector<uint8_t> exif_without_prefix(const std::vector<uint8_t> &exif);

// The Orientation tag of IFD0 (1..8); 1 when absent, invalid or unreadable.
int exif_orientation(const std::vector<uint8_t> &exif);

// The EXIF rewritten for an image of width x height already upright: Orientation 1 where the
// tag is, PixelXDimension/PixelYDimension (and ImageWidth/ImageLength of IFD0) set to the size
// where present (dropped where their type cannot hold it), IFD1 and its thumbnail dropped. Empty
// when libexif cannot read it or the result exceeds kMaxExifBytes.
std::vector<uint8_t> exif_for_image(const std::vector<uint8_t> &exif, int width, int height);

}  // namespace xunit::cli
