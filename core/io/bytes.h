#pragma once
// Little-endian reads from byte buffers (npy headers, zip records), spelled once for the readers that need them.
#include <cstdint>

namespace otcs::io {

inline uint16_t le16(const unsigned char* p) { return uint16_t(p[0] | (p[1] << 8)); }
inline uint32_t le32(const unsigned char* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (uint32_t(p[3]) << 24); }

}  // namespace otcs::io
