#pragma once
// NumPy .npy and .npz (stored, uncompressed zip; scipy.sparse.save_npz-compatible CSR) reading and writing.
// Arrays travel as CPU tensors; every reader checks what it parses and throws UserError naming the file.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

namespace otcs::io {

// Reads a .npy file: float32/float64/int64/int32/uint8/bool, little-endian, C order (Fortran order is
// accepted and transposed). Throws UserError on anything malformed.
torch::Tensor read_npy(const std::string& path);
torch::Tensor parse_npy(const std::string& bytes, const std::string& name_for_errors);

// Serialises a tensor (any supported dtype, made contiguous on CPU) as .npy bytes.
std::string npy_bytes(const torch::Tensor& tensor);

// A 0-d byte-string array ('|S<n>'), as scipy stores the sparse matrix format name.
std::string npy_bytes_string(const std::string& value);

// Writes a .npy file atomically (temporary file, fsync, rename).
void write_npy(const std::string& path, const torch::Tensor& tensor);

// .npz: a zip archive of .npy members (written stored, read stored or deflated).
void write_npz(const std::string& path, const std::map<std::string, torch::Tensor>& arrays);
void write_npz_members(const std::string& path, const std::map<std::string, std::string>& npy_members);
// The archive's bytes. Without zip64 a zip archive addresses at most 4 GiB (32-bit sizes and offsets): a larger one
// (or one of more than `max_bytes`, a limit tests lower) and more than 65,535 members are refused with UserError.
inline constexpr uint64_t kMaxZipBytes = 0xffffffffull;
std::string npz_archive(const std::map<std::string, std::string>& npy_members, const std::string& name_for_errors,
                        uint64_t max_bytes = kMaxZipBytes);
std::map<std::string, torch::Tensor> read_npz(const std::string& path);
std::map<std::string, torch::Tensor> parse_npz(const std::string& bytes, const std::string& name_for_errors);

}  // namespace otcs::io
