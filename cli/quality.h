// Image quality against a reference: what --psnr prints.
#pragma once
#include <string>
#include <vector>

#include "cli/image_io.h"

namespace xunit::cli {

struct Quality {
  double psnr = 0;  // dB over all colour channels (alpha excluded), values in [0, 1]; inf if equal
  double ssim = 0;  // mean SSIM (Gaussian window 11x11, sigma 1.5) of the luma (BT.601) or gray
};

// Throws xunit::Error when the sizes or channel counts differ (a gray image against a color
// one is measured as if the gray one were saved as RGB).
Quality measure(const Image &image, const Image &reference);

// A folder of references (--psnr REF/), listed once. The reference of an input named `name`:
// REF/name when it exists, else the one image in REF with the same stem (x.jpg -> x.png).
// find() throws xunit::Error naming the file when there is none, or several (x.png and x.bmp).
class ReferenceFolder {
 public:
  explicit ReferenceFolder(const std::string &dir);
  std::string find(const std::string &name) const;

 private:
  std::string dir_;
  std::vector<std::string> names_;  // the image files in it, sorted
};

}  // namespace xunit::cli
