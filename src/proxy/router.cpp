// proxy/router: routes are pre-sorted by specificity, so select() returns the first match.
#include "proxy/router.hpp"

#include <algorithm>

#include "http/parser.hpp"

namespace bulwark::proxy {

std::string_view host_without_port(std::string_view host) {
    if (!host.empty() && host.front() == '[') {
        auto close = host.find(']');
        return close == std::string_view::npos ? host : host.substr(0, close + 1);
    }
    auto colon = host.rfind(':');
    return colon == std::string_view::npos ? host : host.substr(0, colon);
}

router::router(const config::config& cfg, int listener_index)
    : default_upstream_(cfg.listeners[static_cast<std::size_t>(listener_index)].default_upstream) {
    for (std::size_t i = 0; i < cfg.routes.size(); ++i) {
        const auto& r = cfg.routes[i];
        if (r.listener < 0 || r.listener == listener_index)
            routes_.push_back({r.host, r.path_prefix, r.upstream, static_cast<int>(i)});
    }
    std::stable_sort(routes_.begin(), routes_.end(), [](const entry& a, const entry& b) {
        if (a.prefix.size() != b.prefix.size()) return a.prefix.size() > b.prefix.size();
        return !a.host.empty() && b.host.empty();
    });
}

router::match router::find(std::string_view host, std::string_view target) const {
    std::string_view bare_host = host_without_port(host);
    for (const entry& e : routes_) {
        if (!e.host.empty() && !http::name_equals(bare_host, e.host)) continue;
        if (!target.starts_with(e.prefix)) continue;
        return {e.upstream, e.route};
    }
    return {default_upstream_, -1};
}

}  // namespace bulwark::proxy
