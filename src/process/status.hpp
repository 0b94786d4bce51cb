// process/status: `bulwark -s status`, a table of the shared state read from the segment file
// (read-only, never locked), so it works whatever the workers are doing.
#pragma once

#include "config/model.hpp"

namespace bulwark::process {

/// Prints per upstream server and per limit; returns the exit status for main().
int print_status(const config::config& cfg);

}  // namespace bulwark::process
