// CSV point clouds (core/io/points.h parse_points_csv).
#include "core/io/points.h"
#include "fuzz_common.h"

OTCS_FUZZ_ENTRY(otcs::io::parse_points_csv(bytes, "fuzz.csv"))
