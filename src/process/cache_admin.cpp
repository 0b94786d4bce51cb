// process/cache_admin: see cache_admin.hpp.
#include "process/cache_admin.hpp"

#include <cinttypes>
#include <cstdio>
#include <exception>
#include <optional>

#include "cache/store.hpp"

namespace bulwark::process {
namespace {

std::optional<cache::store> map_cache(const config::config& cfg, bool read_only) {
    try {
        return cache::store::open_existing(cfg.cache.path, read_only);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bulwark: cannot open the cache %s: %s\n", cfg.cache.path.c_str(), e.what());
        return std::nullopt;
    }
}

// The default key ($scheme://$host$request_uri) has the host without its port, as nginx's $host:
// "http://example.com:8080/a" is stored as "http://example.com/a".
std::string without_port(const std::string& url) {
    const auto scheme = url.find("://");
    if (scheme == std::string::npos) return url;
    const auto host = scheme + 3;
    const auto path = url.find('/', host);
    const auto authority = url.substr(host, path == std::string::npos ? std::string::npos : path - host);
    const auto colon = authority.rfind(':');
    if (colon == std::string::npos || authority.find(']', colon) != std::string::npos) return url;
    return url.substr(0, host + colon) + (path == std::string::npos ? "" : url.substr(path));
}

}  // namespace

int purge_cache(const config::config& cfg, const std::string& given) {
    auto st = map_cache(cfg, false);
    if (!st) return 1;
    const std::string url = without_port(given);
    if (!url.empty() && url.back() == '*') {
        std::size_t n = st->erase_prefix(std::string_view(url).substr(0, url.size() - 1));
        std::printf("purged %zu object(s) under %s\n", n, url.c_str());
        return 0;
    }
    if (!st->erase(url)) {
        std::printf("not cached: %s\n", url.c_str());
        return 1;
    }
    std::printf("purged %s\n", url.c_str());
    return 0;
}

int check_cache(const config::config& cfg) {
    auto st = map_cache(cfg, true);
    if (!st) return 1;
    // A lock whose holder was killed is not damage: the next process that wants it takes it over.
    // It is listed, but only broken records or index entries make the check fail.
    std::size_t broken = 0;
    for (const auto& p : st->check()) {
        const bool stale_lock = p.find("held by dead pid") != std::string::npos;
        broken += !stale_lock;
        std::printf("%s%s\n", p.c_str(), stale_lock ? " (stale: taken over by the next process that needs it)" : "");
    }
    const auto s = st->stats();
    std::printf("cache %s: %" PRIu64 " objects, %s\n", cfg.cache.path.c_str(), s.live_objects,
                broken == 0 ? "no problem found" : "PROBLEMS FOUND");
    return broken == 0 ? 0 : 1;
}

void print_cache_status(const config::config& cfg) {
    if (!cfg.cache.used) return;
    std::optional<cache::store> st;
    try {
        st = cache::store::open_existing(cfg.cache.path, true);
    } catch (const std::exception&) {
        return;
    }
    const auto s = st->stats();
    const double fill = s.arena_bytes ? 100.0 * static_cast<double>(s.arena_used) / static_cast<double>(s.arena_bytes) : 0;
    std::printf("\n%-10s %10s %10s %10s %12s %10s %10s %10s %14s %6s\n", "CACHE", "HITS", "MISSES", "STALE",
                "REVALIDATED", "STORED", "EVICTED", "OBJECTS", "BYTES_SERVED", "FILL");
    std::printf("%-10s %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %12" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64
                " %14" PRIu64 " %5.1f%%\n",
                "shared", s.hits, s.misses, s.stale, s.revalidated, s.stored, s.evicted, s.live_objects, s.bytes_served,
                fill);
}

}  // namespace bulwark::process
