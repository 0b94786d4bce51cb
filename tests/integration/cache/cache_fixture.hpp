// cache/cache_fixture: one scripted origin behind bulwark with a caching route for every path and a
// small cache file, plus helpers to script cacheable answers and read the cache status header.
#pragma once

#include <boost/test/unit_test.hpp>

#include <string>

#include "harness/bulwark_process.hpp"
#include "harness/http_client.hpp"
#include "harness/origin.hpp"

namespace bulwark::test::cache {

/// The [route:all] + [cache] sections; `route_extra` goes into the route, `cache_extra` into [cache].
inline std::string cache_sections(const std::string& cache_path, const std::string& route_extra = {},
                                  const std::string& cache_extra = {}) {
    return "[route:all]\npath_prefix = /\nupstream = backend\ncache = on\n" + route_extra +
           "\n[cache]\npath = " + cache_path + "\nsize = 16m\npurge_allow = 127.0.0.1\n" + cache_extra;
}

struct cached {
    origin o{"a"};
    bulwark_process bw;

    explicit cached(const std::string& route_extra = {}, const std::string& cache_extra = {}, int workers = 1,
                    std::string cache_path = {}) {
        config_options opt = config_options::with_servers({o.address()});
        opt.workers = workers;
        opt.tail = cache_sections(cache_path.empty() ? bw.file("cache.bin") : cache_path, route_extra, cache_extra);
        bw.start(opt);
    }

    /// /raw/NAME answers `status_and_fields` (status line and fields, without the blank line) with `body`.
    void script(const std::string& name, const std::string& head, const std::string& body) {
        o.set_raw(name, raw_script::of(head + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body));
    }

    http_response get(const std::string& target, const header_list& headers = {}) {
        http_client c(bw.port(), std::chrono::seconds(5));
        return c.get(target, headers);
    }
};

inline std::string status_of(const http_response& r) { return r.header("x-cache").value_or("<none>"); }

}  // namespace bulwark::test::cache
