// process/cache_admin: the operator's commands on the shared cache file, run beside the master:
// `bulwark -s purge URL` (URL* for a prefix), `bulwark -s cache-check` and the cache lines of
// `bulwark -s status`. They map the file by path; nothing goes through the master.
#pragma once

#include <string>

#include "config/model.hpp"

namespace bulwark::process {

int purge_cache(const config::config& cfg, const std::string& url);
/// Verifies the index and every record it points at; prints the problems; exit status 1 if any.
int check_cache(const config::config& cfg);
/// Appends the cache counters to -s status (nothing when no route caches).
void print_cache_status(const config::config& cfg);

}  // namespace bulwark::process
