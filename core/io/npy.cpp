#include "core/io/npy.h"

#include <zlib.h>

#include <cstring>
#include <regex>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/bytes.h"
#include "core/io/file.h"

namespace otcs::io {
namespace {

struct DtypeInfo {
  const char* descr;
  torch::ScalarType type;
  size_t size;
};

const DtypeInfo kDtypes[] = {
    {"<f4", torch::kFloat32, 4}, {"<f8", torch::kFloat64, 8}, {"<i8", torch::kInt64, 8},
    {"<i4", torch::kInt32, 4},   {"|u1", torch::kUInt8, 1},   {"<u1", torch::kUInt8, 1},
    {"|b1", torch::kBool, 1},    {"|i1", torch::kInt8, 1},    {"<i2", torch::kInt16, 2},
};

const DtypeInfo* find_descr(const std::string& descr) {
  for (const auto& d : kDtypes)
    if (descr == d.descr) return &d;
  return nullptr;
}

const DtypeInfo* find_type(torch::ScalarType type) {
  for (const auto& d : kDtypes)
    if (d.type == type) return &d;
  return nullptr;
}

void put16(std::string& s, uint16_t v) {
  s.push_back(char(v & 0xff));
  s.push_back(char(v >> 8));
}
void put32(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(char((v >> (8 * i)) & 0xff));
}

}  // namespace

torch::Tensor parse_npy(const std::string& bytes, const std::string& name) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 10 || std::memcmp(p, "\x93NUMPY", 6) != 0) fail("{}: not a .npy file (bad magic)", name);
  int major = p[6];
  size_t header_len, offset;
  if (major == 1) {
    header_len = le16(p + 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) fail("{}: truncated .npy header", name);
    header_len = le32(p + 8);
    offset = 12;
  } else {
    fail("{}: unsupported .npy version {}", name, major);
  }
  if (offset + header_len > bytes.size()) fail("{}: truncated .npy header", name);
  std::string header = bytes.substr(offset, header_len);
  offset += header_len;

  std::smatch m;
  static const std::regex descr_re(R"('descr'\s*:\s*'([^']*)')");
  static const std::regex order_re(R"('fortran_order'\s*:\s*(True|False))");
  static const std::regex shape_re(R"('shape'\s*:\s*\(([^)]*)\))");
  if (!std::regex_search(header, m, descr_re)) fail("{}: .npy header has no dtype", name);
  std::string descr = m[1];
  if (descr.size() == 3 && descr[0] == '=') descr[0] = '<';
  if (descr.rfind("|S", 0) == 0) {  // a byte string, as scipy writes the sparse 'format' member
    size_t len = std::strtoul(descr.c_str() + 2, nullptr, 10);
    if (len > bytes.size() - offset) fail("{}: truncated .npy data", name);  // (offset + len could wrap)
    auto t = torch::empty({int64_t(len)}, torch::kUInt8);
    if (len) std::memcpy(t.data_ptr(), bytes.data() + offset, len);
    return t;
  }
  const DtypeInfo* dtype = find_descr(descr);
  if (!dtype)
    fail("{}: unsupported dtype '{}' (use float32, float64, int64, int32 or uint8, little-endian)", name, descr);
  if (!std::regex_search(header, m, order_re)) fail("{}: .npy header has no fortran_order", name);
  bool fortran = m[1] == "True";
  if (!std::regex_search(header, m, shape_re)) fail("{}: .npy header has no shape", name);
  std::vector<int64_t> shape;
  std::string dims = m[1];
  static const std::regex int_re(R"(\d+)");
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), int_re); it != std::sregex_iterator(); ++it) {
    try {
      shape.push_back(std::stoll(it->str()));
    } catch (const std::exception&) {
      fail("{}: .npy shape is out of range", name);
    }
  }
  // Overflow-safe element count.
  // At most 2^56 elements, so that count * dtype size (<= 8) cannot wrap; and the product of the non-zero
  // dimensions too, for shapes with a zero: LibTorch computes strides from it and rejects anything beyond 2^62
  // with an internal error (two fuzz findings).
  uint64_t count = 1, nonzero = 1;
  for (auto d : shape) {
    if (d < 0 || (d > 0 && nonzero > (uint64_t(1) << 56) / uint64_t(d))) fail("{}: .npy shape is out of range", name);
    if (d > 0) nonzero *= uint64_t(d);
    count *= uint64_t(d);
  }
  uint64_t need = count * dtype->size;
  if (bytes.size() - offset < need)
    fail("{}: truncated .npy data ({} bytes, expected {})", name, bytes.size() - offset, need);
  if (bytes.size() - offset > need) fail("{}: .npy has {} trailing bytes", name, bytes.size() - offset - need);

  std::vector<int64_t> storage_shape = shape;
  if (fortran) std::reverse(storage_shape.begin(), storage_shape.end());
  auto tensor = torch::empty(storage_shape, torch::TensorOptions().dtype(dtype->type));
  if (need) std::memcpy(tensor.data_ptr(), bytes.data() + offset, need);
  if (fortran && shape.size() > 1) {
    std::vector<int64_t> perm(shape.size());
    for (size_t i = 0; i < perm.size(); ++i) perm[i] = int64_t(perm.size() - 1 - i);
    tensor = tensor.permute(perm).contiguous();
  }
  return tensor;
}

torch::Tensor read_npy(const std::string& path) { return parse_npy(read_file(path), path); }

std::string npy_header(const std::string& descr, const std::vector<int64_t>& shape) {
  std::string dims;
  for (size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) dims += ",";
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  put16(out, uint16_t(header.size()));
  return out + header;
}

std::string npy_bytes(const torch::Tensor& input) {
  auto tensor = input.detach().to(torch::kCPU).contiguous();
  const DtypeInfo* dtype = find_type(tensor.scalar_type());
  if (!dtype) throw std::runtime_error("npy_bytes: unsupported tensor dtype");
  std::string out = npy_header(dtype->descr, tensor.sizes().vec());
  out.append(static_cast<const char*>(tensor.data_ptr()), tensor.numel() * dtype->size);
  return out;
}

std::string npy_bytes_string(const std::string& value) {
  return npy_header("|S" + std::to_string(value.size()), {}) + value;
}

void write_npy(const std::string& path, const torch::Tensor& tensor) { write_file_atomic(path, npy_bytes(tensor)); }

void write_npz(const std::string& path, const std::map<std::string, torch::Tensor>& arrays) {
  std::map<std::string, std::string> members;
  for (const auto& [key, tensor] : arrays) members[key] = npy_bytes(tensor);
  write_npz_members(path, members);
}

void write_npz_members(const std::string& path, const std::map<std::string, std::string>& members) {
  write_file_atomic(path, npz_archive(members, path));
}

std::string npz_archive(const std::map<std::string, std::string>& members, const std::string& label,
                        uint64_t max_bytes) {
  // Without zip64 every size and offset in the archive is 32 bits: refuse what does not fit rather than write
  // truncated offsets that no reader can follow.
  uint64_t total = 22;  // end of central directory
  for (const auto& [key, data] : members) total += 30 + 46 + 2 * (key.size() + 4) + data.size();
  if (total > max_bytes)
    fail(
        "{}: the .npz archive would take {} ({} arrays), more than the {} a zip archive without zip64 can "
        "address; write the arrays as separate .npy files",
        label, human_bytes(total), members.size(), human_bytes(max_bytes));
  if (members.size() > 0xffff)
    fail("{}: {} arrays are more than a .npz archive can list (65,535)", label, members.size());
  std::string zip, central;
  zip.reserve(size_t(total));
  uint16_t count = 0;
  for (const auto& [key, data] : members) {
    std::string name = key + ".npy";
    uint32_t crc = crc32(0L, reinterpret_cast<const Bytef*>(data.data()), uInt(data.size()));
    uint32_t local_offset = uint32_t(zip.size());
    // Local file header, stored (method 0).
    put32(zip, 0x04034b50);
    put16(zip, 20);
    put16(zip, 0);
    put16(zip, 0);
    put16(zip, 0);
    put16(zip, 0x21);
    put32(zip, crc);
    put32(zip, uint32_t(data.size()));
    put32(zip, uint32_t(data.size()));
    put16(zip, uint16_t(name.size()));
    put16(zip, 0);
    zip += name;
    zip += data;
    // Central directory entry.
    put32(central, 0x02014b50);
    put16(central, 20);
    put16(central, 20);
    put16(central, 0);
    put16(central, 0);
    put16(central, 0);
    put16(central, 0x21);
    put32(central, crc);
    put32(central, uint32_t(data.size()));
    put32(central, uint32_t(data.size()));
    put16(central, uint16_t(name.size()));
    put16(central, 0);
    put16(central, 0);
    put16(central, 0);
    put16(central, 0);
    put32(central, 0);
    put32(central, local_offset);
    central += name;
    ++count;
  }
  uint32_t central_offset = uint32_t(zip.size());
  zip += central;
  put32(zip, 0x06054b50);
  put16(zip, 0);
  put16(zip, 0);
  put16(zip, count);
  put16(zip, count);
  put32(zip, uint32_t(central.size()));
  put32(zip, central_offset);
  put16(zip, 0);
  return zip;
}

std::map<std::string, torch::Tensor> read_npz(const std::string& path) { return parse_npz(read_file(path), path); }

std::map<std::string, torch::Tensor> parse_npz(const std::string& bytes, const std::string& path) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  // Find the end-of-central-directory record (it may be followed by a comment of up to 64 KiB).
  size_t eocd = std::string::npos;
  for (size_t i = n >= 22 ? n - 22 : 0; n >= 22; --i) {
    if (le32(p + i) == 0x06054b50) {
      eocd = i;
      break;
    }
    if (i == 0 || n - i > 22 + 65535) break;
  }
  if (eocd == std::string::npos) fail("{}: not a .npz (zip) archive or truncated", path);
  uint16_t entries = le16(p + eocd + 10);
  size_t cd = le32(p + eocd + 16);
  std::map<std::string, torch::Tensor> out;
  for (uint16_t e = 0; e < entries; ++e) {
    if (cd + 46 > n || le32(p + cd) != 0x02014b50) fail("{}: corrupt zip central directory", path);
    uint16_t method = le16(p + cd + 10);
    uint32_t crc = le32(p + cd + 16);
    size_t csize = le32(p + cd + 20), usize = le32(p + cd + 24);
    size_t name_len = le16(p + cd + 28), extra_len = le16(p + cd + 30), comment_len = le16(p + cd + 32);
    size_t local = le32(p + cd + 42);
    if (cd + 46 + name_len > n) fail("{}: corrupt zip central directory", path);
    std::string name(bytes.data() + cd + 46, name_len);
    cd += 46 + name_len + extra_len + comment_len;
    if (local + 30 > n || le32(p + local) != 0x04034b50) fail("{}: corrupt zip member '{}'", path, name);
    size_t data_at = local + 30 + le16(p + local + 26) + le16(p + local + 28);
    if (data_at + csize > n) fail("{}: truncated zip member '{}'", path, name);
    std::string data;
    if (method == 0) {
      data.assign(bytes.data() + data_at, csize);
    } else if (method == 8) {
      // Deflate expands at most ~1032:1; a larger claimed size is a corrupt header, not a reason to allocate it.
      if (usize / 1032 > csize + 1) fail("{}: corrupt zip member '{}' (implausible uncompressed size)", path, name);
      data.resize(usize);
      z_stream zs{};
      zs.next_in = const_cast<Bytef*>(p + data_at);
      zs.avail_in = uInt(csize);
      zs.next_out = reinterpret_cast<Bytef*>(data.data());
      zs.avail_out = uInt(usize);
      if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) fail("{}: cannot inflate '{}'", path, name);
      int rc = inflate(&zs, Z_FINISH);
      inflateEnd(&zs);
      if (rc != Z_STREAM_END || zs.total_out != usize) fail("{}: corrupt deflated member '{}'", path, name);
    } else {
      fail("{}: zip member '{}' uses unsupported compression method {}", path, name, method);
    }
    if (crc32(0L, reinterpret_cast<const Bytef*>(data.data()), uInt(data.size())) != crc)
      fail("{}: CRC mismatch in zip member '{}'", path, name);
    std::string key =
        name.size() > 4 && name.substr(name.size() - 4) == ".npy" ? name.substr(0, name.size() - 4) : name;
    out[key] = parse_npy(data, path + ":" + name);
  }
  return out;
}

}  // namespace otcs::io
