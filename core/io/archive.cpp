#include "core/io/archive.h"

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <zlib.h>

#include <c10/util/Exception.h>

#include "core/common/error.h"
#include "core/io/bytes.h"
#include "core/io/file.h"

namespace otcs::io {

namespace {

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
  if (csize > 0xffffffffu || out.size() > 0xffffffffu) throw std::runtime_error("compressed member too large");
  zs.avail_in = uInt(csize);
  zs.next_out = out.data();
  zs.avail_out = uInt(out.size());
  const int rc = inflate(&zs, Z_FINISH);
  const size_t produced = zs.total_out;
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("a compressed member does not inflate");
  if (produced != usize) throw std::runtime_error("a compressed member inflates to the wrong size");
  if (crc32_z(0L, out.data(), usize) != crc) throw std::runtime_error("CRC mismatch");
}
}  // namespace

void check_zip_archive(const std::string& bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  auto le64 = [&](size_t at) { return uint64_t(le32(p + at)) | uint64_t(le32(p + at + 4)) << 32; };
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
  // The directory as a reader sees it. miniz (LibTorch's reader) takes the zip64 record when its locator is
  // present, other readers the classic one: both must describe the same directory, on one disk, and every entry
  // of it is checked below (fuzzing found an archive whose classic record claimed 0 entries while the zip64 one
  // listed the real ones, so that nothing was checked).
  if (le16(p + eocd + 4) != 0 || le16(p + eocd + 6) != 0 || le16(p + eocd + 8) != le16(p + eocd + 10))
    throw std::runtime_error("multi-disk zip");
  uint64_t entries = le16(p + eocd + 10), cd_size = le32(p + eocd + 12), cd = le32(p + eocd + 16);
  if (eocd >= 20 && le32(p + eocd - 20) == 0x07064b50) {
    const uint64_t rec = le64(eocd - 20 + 8);
    if (rec > n || n - rec < 56 || le32(p + rec) != 0x06064b50) throw std::runtime_error("corrupt zip64 directory");
    if (le32(p + rec + 16) != 0 || le32(p + rec + 20) != 0 || le64(rec + 24) != le64(rec + 32))
      throw std::runtime_error("multi-disk zip");
    const uint64_t entries64 = le64(rec + 32), size64 = le64(rec + 40), cd64 = le64(rec + 48);
    auto agrees = [](uint64_t classic, uint64_t wide, uint64_t saturated) {
      return classic == saturated || classic == wide;
    };
    if (!agrees(entries, entries64, 0xffff) || !agrees(cd_size, size64, 0xffffffffu) || !agrees(cd, cd64, 0xffffffffu))
      throw std::runtime_error("the zip and zip64 directories disagree");
    entries = entries64;
    cd_size = size64;
    cd = cd64;
  } else if (entries == 0xffff || cd_size == 0xffffffffu || cd == 0xffffffffu) {
    throw std::runtime_error("zip64 directory missing");
  }
  if (cd > n || cd_size > n - cd) throw std::runtime_error("the zip directory lies outside the file");
  const size_t cd_end = size_t(cd + cd_size);
  size_t at = size_t(cd);
  uint64_t seen = 0;
  while (at < cd_end) {
    if (cd_end - at < 46 || le32(p + at) != 0x02014b50) throw std::runtime_error("corrupt zip directory");
    const unsigned method = le16(p + at + 10);
    const uint32_t crc = le32(p + at + 16);
    uint64_t csize = le32(p + at + 20), usize = le32(p + at + 24), local = le32(p + at + 42);
    const size_t name_len = le16(p + at + 28), extra_len = le16(p + at + 30), comment_len = le16(p + at + 32);
    const size_t entry_len = 46 + name_len + extra_len + comment_len;
    if (entry_len > cd_end - at) throw std::runtime_error("corrupt zip directory");
    if (usize == 0xffffffffu || csize == 0xffffffffu || local == 0xffffffffu) {
      // zip64 extended information: the 8-byte values of the saturated fields, in this order.
      bool found = false;
      for (size_t e = at + 46 + name_len, end = e + extra_len; e + 4 <= end;) {
        const unsigned id = le16(p + e), len = le16(p + e + 2);
        if (len > end - e - 4) break;
        if (id == 0x0001) {
          size_t q = e + 4;
          const size_t q_end = q + len;
          for (uint64_t* field : {&usize, &csize, &local}) {
            if (*field != 0xffffffffu) continue;
            if (q_end - q < 8) throw std::runtime_error("corrupt zip64 member sizes");
            *field = le64(q);
            q += 8;
          }
          found = true;
          break;
        }
        e += 4 + len;
      }
      if (!found) throw std::runtime_error("corrupt zip64 member sizes");
    }
    at += entry_len;
    ++seen;
    if (local > n || n - local < 30 || le32(p + local) != 0x04034b50) throw std::runtime_error("corrupt zip member");
    const uint64_t data_at = local + 30 + le16(p + local + 26) + le16(p + local + 28);
    if (data_at > n || n - data_at < csize) throw std::runtime_error("a member ends past the end of the file");
    if (method == 0) {
      if (usize != csize) throw std::runtime_error("zip member sizes disagree");
      if (crc32_z(0L, p + data_at, size_t(csize)) != crc) throw std::runtime_error("CRC mismatch");
    } else if (method == 8) {
      // deflate expands at most ~1032:1; LibTorch only deflates its small code/*.py sources.
      if (usize / 1032 > csize + 1) throw std::runtime_error("implausible zip member size");
      check_deflated(p + size_t(data_at), size_t(csize), size_t(usize), crc);
    } else {
      throw std::runtime_error("unknown zip compression method");
    }
  }
  if (seen != entries) throw std::runtime_error("the zip directory's entry count is wrong");
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
