#include "cli/npy_io.h"

#include <climits>
#include <cstring>
#include <string>

#include "common/error.h"

namespace xunit::cli {

namespace {

constexpr uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

uint32_t read_le32(const uint8_t *p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

uint64_t read_le64(const uint8_t *p) {
  return uint64_t(read_le32(p)) | uint64_t(read_le32(p + 4)) << 32;
}

// A parser for the Python dict literal in a .npy header, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
class HeaderParser {
 public:
  explicit HeaderParser(const std::string &text) : s_(text) {}

  std::string descr;
  bool fortran_order = false;
  std::vector<size_t> shape;

  void parse() {
    bool have_descr = false, have_order = false, have_shape = false;
    skip_space();
    expect('{');
    for (;;) {
      skip_space();
      if (peek() == '}') {
        ++pos_;
        break;
      }
      std::string key = parse_string();
      skip_space();
      expect(':');
      skip_space();
      if (key == "descr") {
        XUNIT_CHECK(!have_descr, "duplicate 'descr' in .npy header");
        descr = parse_string();
        have_descr = true;
      } else if (key == "fortran_order") {
        XUNIT_CHECK(!have_order, "duplicate 'fortran_order' in .npy header");
        fortran_order = parse_bool();
        have_order = true;
      } else if (key == "shape") {
        XUNIT_CHECK(!have_shape, "duplicate 'shape' in .npy header");
        shape = parse_shape();
        have_shape = true;
      } else {
        throw Error("unexpected key '" + key + "' in .npy header");
      }
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      skip_space();
      expect('}');
      break;
    }
    skip_space();
    XUNIT_CHECK(pos_ == s_.size(), "trailing characters after the .npy header dict");
    XUNIT_CHECK(have_descr && have_order && have_shape,
                ".npy header lacks one of 'descr', 'fortran_order', 'shape'");
  }

 private:
  const std::string &s_;
  size_t pos_ = 0;

  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  void expect(char c) {
    if (peek() != c) throw Error(std::string("malformed .npy header: expected '") + c + "'");
    ++pos_;
  }
  std::string parse_string() {
    char quote = peek();
    XUNIT_CHECK(quote == '\'' || quote == '"', "malformed .npy header: expected a quoted string");
    ++pos_;
    size_t end = s_.find(quote, pos_);
    XUNIT_CHECK(end != std::string::npos, "malformed .npy header: unterminated string");
    std::string out = s_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return out;
  }
  bool parse_bool() {
    if (s_.compare(pos_, 4, "True") == 0) {
      pos_ += 4;
      return true;
    }
    if (s_.compare(pos_, 5, "False") == 0) {
      pos_ += 5;
      return false;
    }
    throw Error("malformed .npy header: 'fortran_order' is not True or False");
  }
  size_t parse_int() {
    XUNIT_CHECK(peek() >= '0' && peek() <= '9', "malformed .npy header: bad number in 'shape'");
    size_t v = 0;
    while (peek() >= '0' && peek() <= '9') {
      if (!checked_mul(v, 10, &v) || !checked_add(v, size_t(peek() - '0'), &v))
        throw Error(".npy shape dimension overflows");
      ++pos_;
    }
    if (peek() == 'L') ++pos_;  // Python 2 long literal
    return v;
  }
  std::vector<size_t> parse_shape() {
    std::vector<size_t> dims;
    expect('(');
    for (;;) {
      skip_space();
      if (peek() == ')') {
        ++pos_;
        break;
      }
      XUNIT_CHECK(dims.size() < 32, ".npy shape has too many dimensions");
      dims.push_back(parse_int());
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect(')');
      break;
    }
    return dims;
  }
};

std::string shape_text(const std::vector<size_t> &shape) {
  std::string out = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(shape[i]);
  }
  if (shape.size() == 1) out += ",";
  return out + ")";
}

}  // namespace

bool is_npy(const uint8_t *data, size_t size) {
  return size >= sizeof kMagic && std::memcmp(data, kMagic, sizeof kMagic) == 0;
}

Image decode_npy(const uint8_t *data, size_t size, size_t max_pixels) {
  XUNIT_CHECK(is_npy(data, size), "not a .npy file (bad magic)");
  XUNIT_CHECK(size >= 10, "truncated .npy header");
  const uint8_t major = data[6];
  XUNIT_CHECK(major >= 1 && major <= 3, "unsupported .npy format version " + std::to_string(major) +
                                            "." + std::to_string(data[7]));
  size_t prefix = major == 1 ? 10 : 12;
  XUNIT_CHECK(size >= prefix, "truncated .npy header");
  size_t header_len = major == 1 ? size_t(data[8]) | size_t(data[9]) << 8 : read_le32(data + 8);
  size_t data_offset;
  XUNIT_CHECK(
      checked_add(prefix, header_len, &data_offset) && data_offset <= size,
      "truncated .npy header (header length " + std::to_string(header_len) + " exceeds the file)");
  std::string header(reinterpret_cast<const char *>(data + prefix), header_len);
  XUNIT_CHECK(header.find('\0') == std::string::npos, "malformed .npy header: NUL byte");

  HeaderParser parser(header);
  parser.parse();

  size_t item = 0;
  if (parser.descr == "<f4") {
    item = 4;
  } else if (parser.descr == "<f8") {
    item = 8;
  } else if (parser.descr == ">f4" || parser.descr == ">f8") {
    throw Error("big-endian .npy data ('" + parser.descr +
                "') is not supported; need little-endian float32 '<f4' or float64 '<f8'");
  } else {
    throw Error("unsupported .npy dtype '" + parser.descr +
                "'; need float32 '<f4' or float64 '<f8'");
  }
  XUNIT_CHECK(!parser.fortran_order,
              "Fortran-order .npy arrays are not supported; save in C order");
  const std::vector<size_t> &shape = parser.shape;
  XUNIT_CHECK(shape.size() == 2 || shape.size() == 3,
              ".npy shape " + shape_text(shape) + " is not (H, W) or (H, W, C)");
  for (size_t d : shape) XUNIT_CHECK(d > 0, ".npy array is empty: shape " + shape_text(shape));
  for (size_t d : shape)
    XUNIT_CHECK(d <= size_t(INT_MAX),
                ".npy shape " + shape_text(shape) + " has a dimension too large");
  const size_t h = shape[0], w = shape[1], c = shape.size() == 3 ? shape[2] : 1;

  size_t pixels = 0, count = 0, bytes = 0;
  XUNIT_CHECK(checked_mul(h, w, &pixels) && pixels <= max_pixels,
              ".npy image " + std::to_string(w) + "x" + std::to_string(h) +
                  " exceeds the limit of " + std::to_string(max_pixels) + " pixels");
  XUNIT_CHECK(checked_mul(pixels, c, &count) && checked_mul(count, item, &bytes),
              ".npy shape " + shape_text(shape) + " is too large");
  const size_t available = size - data_offset;
  XUNIT_CHECK(bytes <= available, ".npy shape " + shape_text(shape) + " needs " +
                                      std::to_string(bytes) + " data bytes but the file has " +
                                      std::to_string(available));
  XUNIT_CHECK(bytes == available, ".npy file has " + std::to_string(available - bytes) +
                                      " unexpected bytes after the data");

  Image image;
  image.width = int(w);
  image.height = int(h);
  image.channels = int(c);
  image.bits = 32;
  image.pixels.resize(count);
  const uint8_t *p = data + data_offset;
  if (item == 4) {
    for (size_t i = 0; i < count; ++i) {
      uint32_t u = read_le32(p + 4 * i);
      std::memcpy(&image.pixels[i], &u, 4);
    }
  } else {
    for (size_t i = 0; i < count; ++i) {
      uint64_t u = read_le64(p + 8 * i);
      double d;
      std::memcpy(&d, &u, 8);
      image.pixels[i] = static_cast<float>(d);
    }
  }
  return image;
}

std::vector<uint8_t> encode_npy(const Image &image) {
  size_t count = 0, bytes = 0;
  XUNIT_CHECK(image.width > 0 && image.height > 0 && image.channels > 0,
              "invalid image size " + std::to_string(image.width) + "x" +
                  std::to_string(image.height) + "x" + std::to_string(image.channels));
  XUNIT_CHECK(checked_mul(size_t(image.width), size_t(image.height), &count) &&
                  checked_mul(count, size_t(image.channels), &count) &&
                  checked_mul(count, 4, &bytes),
              "image too large");
  XUNIT_CHECK(image.pixels.size() == count, "image has " + std::to_string(image.pixels.size()) +
                                                " values, expected " + std::to_string(count));
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                       std::to_string(image.height) + ", " + std::to_string(image.width) + ", " +
                       std::to_string(image.channels) + "), }";
  constexpr size_t prefix = 10;
  size_t total_header = prefix + header.size() + 1;  // + '\n'
  size_t padded = (total_header + 63) / 64 * 64;
  header.append(padded - total_header, ' ');
  header.push_back('\n');
  const size_t header_len = header.size();  // < 65536: the dict is short

  std::vector<uint8_t> out(padded + bytes);
  static_assert(sizeof kMagic + 4 == prefix, "magic, version, header length");
  std::memcpy(out.data(), kMagic, sizeof kMagic);
  out[sizeof kMagic] = 1;  // version 1.0
  out[sizeof kMagic + 1] = 0;
  out[sizeof kMagic + 2] = uint8_t(header_len & 0xff);
  out[sizeof kMagic + 3] = uint8_t(header_len >> 8);
  std::memcpy(out.data() + prefix, header.data(), header.size());
  uint8_t *p = out.data() + padded;
  for (size_t i = 0; i < count; ++i) {
    uint32_t u;
    std::memcpy(&u, &image.pixels[i], 4);
    p[4 * i + 0] = uint8_t(u);
    p[4 * i + 1] = uint8_t(u >> 8);
    p[4 * i + 2] = uint8_t(u >> 16);
    p[4 * i + 3] = uint8_t(u >> 24);
  }
  return out;
}

}  // namespace xunit::cli
