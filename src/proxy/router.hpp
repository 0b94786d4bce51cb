// proxy/router: (listener, Host, path) → upstream. Built once per config snapshot; matching does not
// allocate. Longest path_prefix wins; at equal length a route naming a host beats one that does not;
// then the order of the file.
#pragma once

#include <string_view>
#include <vector>

#include "config/model.hpp"

namespace bulwark::proxy {

class router {
public:
    router(const config::config& cfg, int listener_index);

    struct match {
        int upstream = -1;  // -1: 404
        int route = -1;     // index into config::routes, -1 for the listener's default upstream
    };

    /// Upstream index for this request, or -1 (404).
    int select(std::string_view host, std::string_view target) const { return find(host, target).upstream; }
    match find(std::string_view host, std::string_view target) const;

private:
    struct entry {
        std::string host;
        std::string prefix;
        int upstream;
        int route;
    };
    std::vector<entry> routes_;  // sorted: most specific first
    int default_upstream_;
};

/// The host part of a Host value: lower-cased comparison happens in select, port is dropped here.
std::string_view host_without_port(std::string_view host);

}  // namespace bulwark::proxy
