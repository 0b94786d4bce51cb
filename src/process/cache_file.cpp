// process/cache_file: see cache_file.hpp.
#include "process/cache_file.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <system_error>

namespace bulwark::process {
namespace {

void make_parent_dirs(const std::string& path) {
    for (std::size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
        std::string part = path.substr(0, slash);
        if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST)
            throw std::system_error(errno, std::generic_category(), "cannot create directory " + part);
    }
}

}  // namespace

std::unique_ptr<cache::store> open_cache(const config::config& cfg, const identity& id, std::string& notes) {
    if (!cfg.cache.used) return nullptr;
    make_parent_dirs(cfg.cache.path);
    std::string note;
    auto st = std::make_unique<cache::store>(cache::store::open_or_create(
        cfg.cache.path, cfg.cache.size, note, id.drop ? id.uid : static_cast<uid_t>(-1),
        id.drop ? id.gid : static_cast<gid_t>(-1)));
    if (!note.empty()) notes += "cache " + cfg.cache.path + ": " + note + "\n";
    return st;
}

std::string cache_reload_conflict(const cache::store* open, const config::config& next) {
    if (!open || !next.cache.used) return {};
    if (open->path() != next.cache.path || open->size() != next.cache.size)
        return "[cache] path and size cannot change on reload (restart or upgrade to apply them)";
    return {};
}

}  // namespace bulwark::process
