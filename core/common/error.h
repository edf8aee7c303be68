#pragma once
// A user's mistake (bad file, bad flag, bad value) is a UserError: the CLI prints its one-line message and
// exits with status 2; the GUI shows it in a dialog. Anything else is an internal failure.
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace otcs {

class UserError : public std::runtime_error {
 public:
  explicit UserError(const std::string& message) : std::runtime_error(message) {}
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw UserError(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace otcs
