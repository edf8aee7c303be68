#include "core/data/idx.h"

#include <zlib.h>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/file.h"

namespace otcs::data {
namespace {

// The whole file, inflated if it is gzip (by magic, not by name).
std::string maybe_gunzip(std::string raw, const std::string& path) {
  if (raw.size() < 2 || uint8_t(raw[0]) != 0x1f || uint8_t(raw[1]) != 0x8b) return raw;
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) fail("{}: cannot initialise gzip decoder", path);
  zs.next_in = reinterpret_cast<Bytef*>(raw.data());
  zs.avail_in = uInt(raw.size());
  std::string out;
  char buffer[1 << 16];
  int rc;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buffer);
    zs.avail_out = sizeof buffer;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      fail("{}: corrupt or truncated gzip data", path);
    }
    out.append(buffer, sizeof buffer - zs.avail_out);
    if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
      inflateEnd(&zs);
      fail("{}: truncated gzip data", path);
    }
  } while (rc != Z_STREAM_END);
  inflateEnd(&zs);
  return out;
}

uint32_t be32(const std::string& s, size_t at) {
  auto p = reinterpret_cast<const unsigned char*>(s.data()) + at;
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

}  // namespace

torch::Tensor read_idx(const std::string& path) { return parse_idx(io::read_file(path), path); }

torch::Tensor parse_idx(const std::string& raw, const std::string& path) {
  std::string bytes = maybe_gunzip(raw, path);
  if (bytes.size() < 4) fail("{}: too short to be an idx file", path);
  uint32_t magic = be32(bytes, 0);
  uint32_t type = (magic >> 8) & 0xff, ndim = magic & 0xff;
  if ((magic >> 16) != 0 || type != 0x08 || ndim < 1 || ndim > 4)
    fail("{}: wrong idx magic number 0x{:08x} (expected 0x00000801..0x00000804, unsigned bytes)", path, magic);
  if (bytes.size() < 4 + 4 * size_t(ndim)) fail("{}: truncated idx header", path);
  std::vector<int64_t> dims;
  uint64_t count = 1;
  for (uint32_t d = 0; d < ndim; ++d) {
    dims.push_back(be32(bytes, 4 + 4 * d));
    // Checked before multiplying: count <= 2^36 times a 32-bit dimension could wrap 64 bits.
    if (dims.back() > 0 && count > (uint64_t(1) << 36) / uint64_t(dims.back()))
      fail("{}: idx dimensions are implausibly large", path);
    count *= uint64_t(dims.back());
  }
  size_t offset = 4 + 4 * size_t(ndim);
  if (bytes.size() - offset < count)
    fail("{}: truncated idx data ({} of {} bytes)", path, bytes.size() - offset, count);
  if (bytes.size() - offset > count)
    fail("{}: {} unexpected bytes after the idx data", path, bytes.size() - offset - count);
  auto t = torch::empty(dims, torch::kUInt8);
  if (count) std::memcpy(t.data_ptr(), bytes.data() + offset, count);  // an empty tensor's data_ptr() is null
  return t;
}

LabelledImages read_idx_pair(const std::string& images_path, const std::string& labels_path) {
  auto images = read_idx(images_path);
  auto labels = read_idx(labels_path);
  if (images.dim() != 3) fail("{}: expected an idx3 image file (N×H×W), got {} dimensions", images_path, images.dim());
  if (labels.dim() != 1) fail("{}: expected an idx1 label file, got {} dimensions", labels_path, labels.dim());
  if (images.size(0) != labels.size(0))
    fail("{} has {} images but {} has {} labels", images_path, images.size(0), labels_path, labels.size(0));
  return {images.unsqueeze(1).contiguous(), labels.to(torch::kInt64)};
}

}  // namespace otcs::data
