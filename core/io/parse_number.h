#pragma once
// Numbers in text files, read the same whatever the process locale: the GUI runs in the desktop's locale (Qt
// calls setlocale(LC_ALL, "")), and strtod, atof and scanf's %lf read "0.5" as 0 under a German or French
// LC_NUMERIC. std::from_chars never looks at the locale.
#include <charconv>
#include <string_view>
#include <system_error>

namespace otcs::io {

// The whole of `text` as a double (decimal or scientific notation, an optional leading sign, "inf" and "nan"
// accepted; no surrounding spaces). False when it is not exactly one number or is out of range.
inline bool parse_double(std::string_view text, double& out) {
  if (text.size() > 1 && text.front() == '+' && text[1] != '-' && text[1] != '+') text.remove_prefix(1);
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && !text.empty();
}

}  // namespace otcs::io
