#pragma once
// Score-stage previews as PNG (the session's PreviewFrame): image projects as a grid with the sources on the top
// row and their translations below; 2-D projects as the samples of each source over the target set.
#include <string>

#include "core/session/session.h"

namespace otcs::imaging {

void write_preview_png(const std::string& path, const session::PreviewFrame& frame);

}  // namespace otcs::imaging
