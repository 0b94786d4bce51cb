// process/cache_file: the master maps the cache file ([cache] path) before forking when a route
// caches, so that every worker inherits one mapping; the file is chowned to the workers' user so a
// worker (or a later binary) can also map it by path.
#pragma once

#include <memory>
#include <string>

#include "cache/store.hpp"
#include "config/model.hpp"
#include "process/privileges.hpp"

namespace bulwark::process {

/// Null when no route caches. Throws (control plane) when the file cannot be made; `notes` gets a
/// line when an existing file was not usable and was recreated.
std::unique_ptr<cache::store> open_cache(const config::config& cfg, const identity& id, std::string& notes);

/// Why `next` cannot be applied to the cache `open` by reload, or empty.
std::string cache_reload_conflict(const cache::store* open, const config::config& next);

}  // namespace bulwark::process
