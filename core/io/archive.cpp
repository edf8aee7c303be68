#include "core/io/archive.h"

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <zlib.h>

#include <c10/util/Exception.h>

#include "core/common/error.h"
#include "core/io/file.h"

namespace otcs::io {

namespace {
uint32_t le32(const unsigned char* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (uint32_t(p[3]) << 24); }
uint16_t le16(const unsigned char* p) { return uint16_t(p[0] | (p[1] << 8)); }

std::string first_line(std::string s) {
  if (auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  return s;
}

// Inflates a raw deflate stream of `csize` bytes that claims to produce `usize` bytes with CRC `crc`.
void check_deflated(const unsigned char* data, size_t csize, size_t usize, uint32_t crc) {
  std::vector<unsigned char> out(usize + 1);  // one spare byte: a stream producing more than it claims is caught
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) throw std::runtime_error("cannot start inflate");
  zs.next_in = const_cast<unsigned char*>(data);
  zs.avail_in = uInt(csize);
  zs.next_out = out.data();
  zs.avail_out = uInt(out.size());
  const int rc = inflate(&zs, Z_FINISH);
  const size_t produced = zs.total_out;
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("a compressed member does not inflate");
  if (produced != usize) throw std::runtime_error("a compressed member inflates to the wrong size");
  if (crc32(0L, out.data(), uInt(usize)) != crc) throw std::runtime_error("CRC mismatch");
}
}  // namespace

void check_zip_archive(const std::string& bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  if (n == 0) throw std::runtime_error("the file is empty");
  if (n < 22) throw std::runtime_error("no zip directory");
  size_t eocd = std::string::npos;
  for (size_t i = n - 22;; --i) {
    if (le32(p + i) == 0x06054b50) {
      eocd = i;
      break;
    }
    if (i == 0 || n - i > 22 + 65535) break;
  }
  if (eocd == std::string::npos) throw std::runtime_error("no zip directory");
  const size_t entries = le16(p + eocd + 10);
  size_t cd = le32(p + eocd + 16);
  if (entries == 0xffff || cd == 0xffffffffu) return;  // zip64 (archives over 4 GiB): left to LibTorch
  for (size_t e = 0; e < entries; ++e) {
    if (cd > n || n - cd < 46 || le32(p + cd) != 0x02014b50) throw std::runtime_error("corrupt zip directory");
    const unsigned method = le16(p + cd + 10);
    const uint32_t crc = le32(p + cd + 16);
    const size_t csize = le32(p + cd + 20), usize = le32(p + cd + 24);
    const size_t name_len = le16(p + cd + 28), extra_len = le16(p + cd + 30), comment_len = le16(p + cd + 32);
    const size_t local = le32(p + cd + 42);
    if (csize == 0xffffffffu || usize == 0xffffffffu || local == 0xffffffffu) return;  // zip64 sizes
    cd += 46 + name_len + extra_len + comment_len;
    if (local > n || n - local < 30 || le32(p + local) != 0x04034b50) throw std::runtime_error("corrupt zip member");
    const size_t data_at = local + 30 + le16(p + local + 26) + le16(p + local + 28);
    if (data_at > n || n - data_at < csize) throw std::runtime_error("a member ends past the end of the file");
    if (method == 0) {
      if (usize != csize) throw std::runtime_error("zip member sizes disagree");
      if (crc32(0L, p + data_at, uInt(csize)) != crc) throw std::runtime_error("CRC mismatch");
    } else if (method == 8) {
      // deflate expands at most ~1032:1; LibTorch only deflates its small code/*.py sources.
      if (usize / 1032 > csize + 1) throw std::runtime_error("implausible zip member size");
      check_deflated(p + data_at, csize, usize, crc);
    } else {
      throw std::runtime_error("unknown zip compression method");
    }
  }
}

void load_archive_bytes(const std::string& bytes, const std::string& label, torch::serialize::InputArchive& archive) {
  try {
    check_zip_archive(bytes);
    std::istringstream in(bytes);
    archive.load_from(in);
  } catch (const c10::Error& e) {
    fail("{}: truncated or corrupt archive ({})", label, first_line(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    fail("{}: truncated or corrupt archive ({})", label, first_line(e.what()));
  }
}

void load_archive_file(const std::string& path, torch::serialize::InputArchive& archive) {
  load_archive_bytes(read_file(path), path, archive);
}

}  // namespace otcs::io
