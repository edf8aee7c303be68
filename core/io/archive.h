#pragma once
// LibTorch archives (.pt zip files) checked before LibTorch parses them.
//
// LibTorch (miniz) allocates what a zip header claims before it checks anything, and it parses the TorchScript
// sources stored in code/*.py (deflated) without checking their CRC. Fuzzing found a 1.8 KB file that made it
// malloc 4 GiB and a bit-flipped deflated code/__torch__.py that crashed its script parser (SEGV). So every
// archive we read goes through check_zip_archive first: each member must lie inside the file, a stored member must
// match its CRC, and a deflated member is inflated (bounded by the size it claims, itself bounded by what deflate
// can produce) and must have exactly that size and CRC. A torn or bit-flipped file is then named as such and
// never reaches LibTorch.
#include <string>

#include <torch/serialize/input-archive.h>

namespace otcs::io {

// Throws std::runtime_error with a short reason ("CRC mismatch", "a member ends past the end of the file", ...).
void check_zip_archive(const std::string& bytes);

// Checks `bytes` and loads them into `archive`. Throws UserError "<label>: truncated or corrupt archive (<why>)"
// for a bad file, whatever LibTorch throws (c10::Error, std::out_of_range from its unpickler, ...).
void load_archive_bytes(const std::string& bytes, const std::string& label, torch::serialize::InputArchive& archive);
// Reads `path` (UserError when missing or unreadable) and loads it as above.
void load_archive_file(const std::string& path, torch::serialize::InputArchive& archive);

}  // namespace otcs::io
