#include "cli/codecs/exif_metadata.h"

#include <libexif/exif-data.h>
#include <libexif/exif-mem.h>

#include <cstring>
#include <utility>

#include "cli/codecs/codecs.h"

namespace xunit::cli {

namespace {

const uint8_t kPrefix[6] = {'E', 'x', 'i', 'f', 0, 0};

// One parsed EXIF, freed at scope exit. libexif is told to keep what it finds as it is: no
// tags added "to follow the specification", unknown tags kept, maker notes untouched.
class Parsed {
 public:
  explicit Parsed(const std::vector<uint8_t> &exif) {
    if (exif.size() < 8 || exif.size() > kMaxExifBytes) return;
    mem_ = exif_mem_new_default();
    if (!mem_) return;
    data_ = exif_data_new_mem(mem_);
    if (!data_) return;
    exif_data_unset_option(data_, EXIF_DATA_OPTION_IGNORE_UNKNOWN_TAGS);
    exif_data_unset_option(data_, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
    exif_data_set_option(data_, EXIF_DATA_OPTION_DONT_CHANGE_MAKER_NOTE);
    std::vector<uint8_t> app1(kPrefix, kPrefix + 6);  // what libexif's loader expects
    app1.insert(app1.end(), exif.begin(), exif.end());
    exif_data_load_data(data_, app1.data(), static_cast<unsigned int>(app1.size()));
  }
  ~Parsed() {
    if (data_) exif_data_unref(data_);
    if (mem_) exif_mem_unref(mem_);
  }
  Parsed(const Parsed &) = delete;
  Parsed &operator=(const Parsed &) = delete;

  // Null when nothing could be read.
  ExifData *data() const {
    return data_ && (data_->ifd[EXIF_IFD_0]->count || data_->ifd[EXIF_IFD_EXIF]->count) ? data_
                                                                                        : nullptr;
  }
  ExifMem *mem() const { return mem_; }

 private:
  ExifMem *mem_ = nullptr;
  ExifData *data_ = nullptr;
};

ExifEntry *entry(ExifData *data, ExifIfd ifd, ExifTag tag) {
  ExifEntry *e = exif_content_get_entry(data->ifd[ifd], tag);
  return e && e->data && e->components >= 1 ? e : nullptr;
}

// Sets a SHORT or LONG tag where it is; drops it where its type cannot hold the value.
void set_size(ExifData *data, ExifIfd ifd, ExifTag tag, uint32_t value) {
  ExifEntry *e = entry(data, ifd, tag);
  if (!e) return;
  const ExifByteOrder order = exif_data_get_byte_order(data);
  if (e->format == EXIF_FORMAT_SHORT && e->size >= 2 && value <= 0xffff)
    exif_set_short(e->data, order, ExifShort(value));
  else if (e->format == EXIF_FORMAT_LONG && e->size >= 4)
    exif_set_long(e->data, order, ExifLong(value));
  else
    exif_content_remove_entry(data->ifd[ifd], e);
}

}  // namespace

std::vector<uint8_t> exif_without_prefix(const std::vector<uint8_t> &exif) {
  if (exif.size() >= 6 && std::memcmp(exif.data(), kPrefix, 6) == 0)
    return std::vector<uint8_t>(exif.begin() + 6, exif.end());
  return exif;
}

int exif_orientation(const std::vector<uint8_t> &exif) {
  Parsed parsed(exif);
  ExifData *data = parsed.data();
  if (!data) return 1;
  ExifEntry *e = entry(data, EXIF_IFD_0, EXIF_TAG_ORIENTATION);
  if (!e || e->format != EXIF_FORMAT_SHORT || e->size < 2) return 1;
  const int v = exif_get_short(e->data, exif_data_get_byte_order(data));
  return v >= 1 && v <= 8 ? v : 1;
}

std::vector<uint8_t> exif_for_image(const std::vector<uint8_t> &exif, int width, int height) {
  Parsed parsed(exif);
  ExifData *data = parsed.data();
  if (!data) return {};
  const ExifByteOrder order = exif_data_get_byte_order(data);
  if (ExifEntry *e = entry(data, EXIF_IFD_0, EXIF_TAG_ORIENTATION)) {
    if (e->format == EXIF_FORMAT_SHORT && e->size >= 2)
      exif_set_short(e->data, order, 1);
    else
      exif_content_remove_entry(data->ifd[EXIF_IFD_0], e);
  }
  set_size(data, EXIF_IFD_EXIF, EXIF_TAG_PIXEL_X_DIMENSION, uint32_t(width));
  set_size(data, EXIF_IFD_EXIF, EXIF_TAG_PIXEL_Y_DIMENSION, uint32_t(height));
  set_size(data, EXIF_IFD_0, EXIF_TAG_IMAGE_WIDTH, uint32_t(width));
  set_size(data, EXIF_IFD_0, EXIF_TAG_IMAGE_LENGTH, uint32_t(height));
  ExifContent *ifd1 = data->ifd[EXIF_IFD_1];
  while (ifd1->count) exif_content_remove_entry(ifd1, ifd1->entries[0]);
  if (data->data) {  // the thumbnail, allocated by libexif with this ExifMem
    exif_mem_free(parsed.mem(), data->data);
    data->data = nullptr;
    data->size = 0;
  }
  unsigned char *saved = nullptr;
  unsigned int size = 0;
  exif_data_save_data(data, &saved, &size);
  std::vector<uint8_t> out;
  if (saved && size > 6 && size - 6 <= kMaxExifBytes && std::memcmp(saved, kPrefix, 6) == 0)
    out.assign(saved + 6, saved + size);
  if (saved) exif_mem_free(parsed.mem(), saved);
  return out;
}

}  // namespace xunit::cli
