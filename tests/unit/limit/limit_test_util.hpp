// Helpers for the limit/ unit tests: a limit table in a file-backed segment (so forked children share
// it, as workers do), [limit:NAME] definitions and request facts with headers.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../shm/shm_test_util.hpp"
#include "config/model.hpp"
#include "core/cidr.hpp"
#include "limit/rate.hpp"
#include "shm/limit_table.hpp"
#include "shm/segment.hpp"

namespace limit_test {

namespace config = bulwark::config;
namespace shm = bulwark::shm;

struct table_fixture {
    explicit table_fixture(std::uint32_t slots = 1024)
        : seg(shm::segment::open_or_create(dir.file("limits.shm"),
                                           shm::segment_header_bytes + shm::limit_table::bytes_for(slots), 1)
                  .seg),
          table(shm::limit_table::open_or_format({seg.data(), seg.data_size()}, slots, reason)) {}

    shm_test::temp_dir dir;
    shm::segment seg;
    std::string reason;
    shm::limit_table table;
};

inline bulwark::ip_address ip(std::string_view text) {
    auto a = bulwark::ip_address::parse(text);
    if (!a) throw std::invalid_argument("bad address in test");
    return *a;
}

inline config::limit rate_limit(std::string name, double rate_per_sec, unsigned burst, bool nodelay = true) {
    config::limit l;
    l.name = std::move(name);
    l.rate_per_sec = rate_per_sec;
    l.burst = burst;
    l.nodelay = nodelay;
    return l;
}

inline config::limit guard(std::string name, std::vector<int> statuses, unsigned max_responses,
                           std::int64_t window_ms, std::int64_t block_for_ms) {
    config::limit l;
    l.name = std::move(name);
    l.on_status = std::move(statuses);
    l.max_responses = max_responses;
    l.window = config::milliseconds{window_ms};
    l.block_for = config::milliseconds{block_for_ms};
    return l;
}

inline config::request_key header_key(std::string lower_name) {
    return {config::request_key::kind::header, std::move(lower_name)};
}
inline config::request_key route_key() { return {config::request_key::kind::route, {}}; }

/// One request as the limits see it: a client address, a route and some headers.
struct request {
    explicit request(std::string_view client, std::string route = "app") : addr(ip(client)), route_name(std::move(route)) {}

    bulwark::limit::request_facts facts() {
        return {&addr, route_name, &request::lookup, this};
    }
    static std::string_view lookup(void* ctx, std::string_view lower_name) {
        auto& h = static_cast<request*>(ctx)->headers;
        auto it = h.find(lower_name);
        return it == h.end() ? std::string_view{} : std::string_view(it->second);
    }

    bulwark::ip_address addr;
    std::string route_name;
    std::map<std::string, std::string, std::less<>> headers;
};

}  // namespace limit_test
