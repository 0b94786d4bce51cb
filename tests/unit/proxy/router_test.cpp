// proxy/router: (listener, Host, path) picks the upstream the config means: longest prefix, then a route
// naming the host, host compared without case or port, routes of other listeners ignored, then default.
#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>

#include "config/loader.hpp"
#include "config/model.hpp"
#include "proxy/router.hpp"

namespace cfg = bulwark::config;
namespace proxy = bulwark::proxy;

namespace {

cfg::snapshot load(const std::string& text) {
    auto r = cfg::load_text(text, "router_test.ini");
    std::string errors;
    for (const auto& d : r.errors) errors += "\n  " + d.text();
    BOOST_TEST_REQUIRE(r.errors.empty(), "config errors:" << errors);
    BOOST_TEST_REQUIRE(r.cfg != nullptr);
    return r.cfg;
}

int upstream_index(const cfg::config& c, std::string_view name) {
    for (std::size_t i = 0; i < c.upstreams.size(); ++i)
        if (c.upstreams[i].name == name) return static_cast<int>(i);
    BOOST_FAIL("no upstream named " << name);
    return -2;
}

int listener_index(const cfg::config& c, std::string_view name) {
    for (std::size_t i = 0; i < c.listeners.size(); ++i)
        if (c.listeners[i].name == name) return static_cast<int>(i);
    BOOST_FAIL("no listener named " << name);
    return -2;
}

// Several upstreams, two listeners (only `web` has a default), and routes declared in an order that
// does not match their specificity.
constexpr const char* routes_config = R"(
[listener:web]
bind = 127.0.0.1:18080
upstream = fallback

[listener:admin]
bind = 127.0.0.1:18081

[upstream:fallback]
server = 127.0.0.1:19001
[upstream:api]
server = 127.0.0.1:19002
[upstream:api_v2]
server = 127.0.0.1:19003
[upstream:static]
server = 127.0.0.1:19004
[upstream:admin_only]
server = 127.0.0.1:19005
[upstream:app_generic]
server = 127.0.0.1:19006
[upstream:app_host]
server = 127.0.0.1:19007
[upstream:v6]
server = 127.0.0.1:19008

[route:api]
path_prefix = /api
upstream = api

[route:api_v2]
path_prefix = /api/v2/
upstream = api_v2

[route:api_short]
path_prefix = /a
upstream = fallback

[route:static]
host = Static.Example.COM
path_prefix = /
upstream = static

[route:app_generic]
path_prefix = /app
upstream = app_generic

[route:app_host]
host = app.example.com
path_prefix = /app
upstream = app_host

[route:admin]
listener = admin
path_prefix = /admin
upstream = admin_only

[route:v6]
host = [::1]
path_prefix = /v6
upstream = v6
)";

struct fixture {
    fixture()
        : c(load(routes_config)),
          web(*c, listener_index(*c, "web")),
          admin(*c, listener_index(*c, "admin")) {}
    int up(std::string_view name) const { return upstream_index(*c, name); }

    cfg::snapshot c;
    proxy::router web;
    proxy::router admin;
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(proxy_router, fixture)

BOOST_AUTO_TEST_CASE(longest_path_prefix_wins) {
    BOOST_TEST(web.select("other.test", "/api/v2/users") == up("api_v2"));
    BOOST_TEST(web.select("other.test", "/api/v1/users") == up("api"));
    BOOST_TEST(web.select("other.test", "/api") == up("api"));
    BOOST_TEST(web.select("other.test", "/api/v2") == up("api"));  // "/api/v2/" is not a prefix of it
    BOOST_TEST(web.select("other.test", "/about") == up("fallback"));
    BOOST_TEST(web.select("other.test", "/app/x") == up("app_generic"));
}

BOOST_AUTO_TEST_CASE(longest_prefix_wins_whatever_the_declaration_order) {
    auto c = load(R"(
[listener:l]
bind = 127.0.0.1:18080
[upstream:short]
server = 127.0.0.1:19001
[upstream:long]
server = 127.0.0.1:19002
[upstream:longer]
server = 127.0.0.1:19003
[route:longer]
path_prefix = /a/b/c
upstream = longer
[route:short]
path_prefix = /a
upstream = short
[route:long]
path_prefix = /a/b
upstream = long
)");
    proxy::router r(*c, 0);
    BOOST_TEST(r.select("h", "/a/b/c/d") == upstream_index(*c, "longer"));
    BOOST_TEST(r.select("h", "/a/b/x") == upstream_index(*c, "long"));
    BOOST_TEST(r.select("h", "/a/x") == upstream_index(*c, "short"));
    BOOST_TEST(r.select("h", "/b") == -1);
}

BOOST_AUTO_TEST_CASE(host_match_is_case_insensitive) {
    BOOST_TEST(web.select("static.example.com", "/index.html") == up("static"));
    BOOST_TEST(web.select("STATIC.EXAMPLE.COM", "/index.html") == up("static"));
    BOOST_TEST(web.select("Static.Example.Com", "/index.html") == up("static"));
    BOOST_TEST(web.select("static.example.org", "/index.html") == up("fallback"));
    BOOST_TEST(web.select("xstatic.example.com", "/index.html") == up("fallback"));
}

BOOST_AUTO_TEST_CASE(host_match_ignores_the_port) {
    BOOST_TEST(web.select("static.example.com:8080", "/index.html") == up("static"));
    BOOST_TEST(web.select("STATIC.example.com:80", "/index.html") == up("static"));
    BOOST_TEST(web.select("app.example.com:18080", "/app/1") == up("app_host"));
}

BOOST_AUTO_TEST_CASE(ipv6_host_match_ignores_the_port) {
    BOOST_TEST(web.select("[::1]:18080", "/v6/x") == up("v6"));
    BOOST_TEST(web.select("[::1]", "/v6/x") == up("v6"));
    BOOST_TEST(web.select("[::2]:18080", "/v6/x") == up("fallback"));
}

BOOST_AUTO_TEST_CASE(host_without_port_strips_only_the_port) {
    BOOST_TEST(proxy::host_without_port("example.com:8080") == "example.com");
    BOOST_TEST(proxy::host_without_port("example.com") == "example.com");
    BOOST_TEST(proxy::host_without_port("[::1]:8080") == "[::1]");
    BOOST_TEST(proxy::host_without_port("[2001:db8::1]") == "[2001:db8::1]");
    BOOST_TEST(proxy::host_without_port("") == "");
}

BOOST_AUTO_TEST_CASE(at_equal_prefix_a_host_route_beats_a_hostless_one) {
    // app_generic (no host) is declared before app_host; the host route still wins for its host.
    BOOST_TEST(web.select("app.example.com", "/app/page") == up("app_host"));
    BOOST_TEST(web.select("APP.example.com", "/app") == up("app_host"));
    BOOST_TEST(web.select("www.example.com", "/app/page") == up("app_generic"));
    BOOST_TEST(web.select("", "/app/page") == up("app_generic"));
}

BOOST_AUTO_TEST_CASE(a_longer_hostless_prefix_beats_a_shorter_host_route) {
    // static has host but prefix "/": the hostless "/api" is longer and wins.
    BOOST_TEST(web.select("static.example.com", "/api/x") == up("api"));
    BOOST_TEST(web.select("static.example.com", "/other") == up("static"));
}

BOOST_AUTO_TEST_CASE(routes_bound_to_another_listener_are_ignored) {
    BOOST_TEST(web.select("h", "/admin/panel") == up("fallback"));
    BOOST_TEST(admin.select("h", "/admin/panel") == up("admin_only"));
    // Routes without a listener apply to every listener.
    BOOST_TEST(admin.select("h", "/api/x") == up("api"));
}

BOOST_AUTO_TEST_CASE(listener_default_upstream_when_no_route_matches) {
    auto c = load(R"(
[listener:l]
bind = 127.0.0.1:18080
upstream = dflt
[upstream:dflt]
server = 127.0.0.1:19001
[upstream:api]
server = 127.0.0.1:19002
[route:api]
path_prefix = /api
upstream = api
)");
    proxy::router r(*c, 0);
    BOOST_TEST(r.select("h", "/elsewhere") == upstream_index(*c, "dflt"));
    BOOST_TEST(r.select("h", "/api") == upstream_index(*c, "api"));
}

BOOST_AUTO_TEST_CASE(no_match_and_no_default_is_minus_one) {
    BOOST_TEST(admin.select("h", "/elsewhere") == -1);
    BOOST_TEST(admin.select("static.example.org", "/") == -1);

    auto c = load("[listener:l]\nbind = 127.0.0.1:18080\n");
    proxy::router r(*c, 0);
    BOOST_TEST(r.select("h", "/") == -1);
}

BOOST_AUTO_TEST_CASE(route_without_path_prefix_matches_everything) {
    auto c = load(R"(
[listener:l]
bind = 127.0.0.1:18080
[upstream:all]
server = 127.0.0.1:19001
[route:all]
upstream = all
)");
    proxy::router r(*c, 0);
    BOOST_TEST(r.select("any.host", "/") == upstream_index(*c, "all"));
    BOOST_TEST(r.select("any.host", "/deep/path?q=1") == upstream_index(*c, "all"));
}

BOOST_AUTO_TEST_SUITE_END()
