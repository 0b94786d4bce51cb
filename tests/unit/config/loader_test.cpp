// config/loader + validate: a full config becomes the right model, defaults fill the gaps, and every
// mistake comes back as FILE:LINE: message, all of them, sorted by line.
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>
#include <unistd.h>

#include "config/loader.hpp"
#include "config/schema.hpp"

namespace cfg = bulwark::config;

namespace {

cfg::load_result load(const std::string& text, const std::string& file = "test.ini") {
    return cfg::load_text(text, file);
}

std::string dump(const cfg::load_result& r) {
    std::string out;
    for (const auto& d : r.errors) out += "\n  " + d.text();
    return out.empty() ? " (no errors)" : out;
}

bool contains(const std::string& haystack, std::string_view needle) {
    return haystack.find(needle) != std::string::npos;
}

// Loads `text` and requires success.
cfg::snapshot ok(const std::string& text, const std::string& file = "test.ini") {
    auto r = load(text, file);
    BOOST_TEST_REQUIRE(r.errors.empty(), "unexpected errors:" << dump(r));
    BOOST_TEST_REQUIRE(r.cfg != nullptr);
    return r.cfg;
}

// True when `r` holds an error at `line` whose message contains every part of `parts`.
bool has_error(const cfg::load_result& r, int line, std::initializer_list<std::string_view> parts) {
    for (const auto& d : r.errors) {
        if (d.line != line) continue;
        bool all = true;
        for (auto p : parts) all = all && contains(d.message, p);
        if (all) return true;
    }
    return false;
}

std::string join(std::initializer_list<std::string_view> parts) {
    std::string out;
    for (auto p : parts) out += (out.empty() ? "'" : ", '") + std::string(p) + "'";
    return out;
}

#define EXPECT_ERROR(result, line, ...)                                                                   \
    BOOST_TEST(has_error(result, line, {__VA_ARGS__}),                                                    \
               "expected an error at line " << line << " mentioning " << join({__VA_ARGS__})             \
                                            << "; got:" << dump(result))

// Requires that loading fails with exactly one error, at `line`, mentioning every part.
#define EXPECT_ONLY_ERROR(result, line, ...)                                                              \
    do {                                                                                                  \
        BOOST_TEST((result).cfg == nullptr);                                                              \
        BOOST_TEST((result).errors.size() == 1u, "expected exactly one error; got:" << dump(result));    \
        EXPECT_ERROR(result, line, __VA_ARGS__);                                                          \
    } while (0)

constexpr const char* minimal_listener = "[listener:web]\nbind = 127.0.0.1:8080\n";

// The example from the issue, one of every key.
constexpr const char* full_example = R"(; bulwark example
[global]
workers = 4
user = www-data
group = proxy
pid_file = /run/bulwark/bulwark.pid
error_log = stderr
log_level = warn
shutdown_timeout = 10s
client_header_timeout = 500ms
client_body_timeout = 2m
keepalive_timeout = 30
upstream_connect_timeout = 1500ms
upstream_timeout = 1h
max_header_size = 64k

[listener:web]
bind = 127.0.0.1:8080
bind = [::1]:8080
upstream = app

[listener:admin]
bind = *:9090

[upstream:app]
server = 127.0.0.1:9001 weight=3
server = 127.0.0.1:9002
keepalive = 16

[upstream:static]
server = [::1]:9100 weight=10  ; inline comment

[route:static]
listener = web
host = Static.Example.COM
path_prefix = /static/
upstream = static

[route:api]
path_prefix = /api
upstream = app

[log]
access_log = /var/log/bulwark/access.log
)";

}  // namespace

BOOST_AUTO_TEST_SUITE(config_loader)

BOOST_AUTO_TEST_CASE(full_example_loads_into_the_model) {
    auto c = ok(full_example, "/etc/bulwark/bulwark.ini");
    BOOST_TEST(c->file == "/etc/bulwark/bulwark.ini");

    const auto& g = c->global;
    BOOST_TEST(g.workers == 4u);
    BOOST_TEST(g.user == "www-data");
    BOOST_TEST(g.group == "proxy");
    BOOST_TEST(g.pid_file == "/run/bulwark/bulwark.pid");
    BOOST_TEST(g.error_log == "stderr");
    BOOST_TEST((g.log_level == bulwark::log::level::warn));
    BOOST_TEST(g.shutdown_timeout.count() == 10'000);
    BOOST_TEST(g.client_header_timeout.count() == 500);
    BOOST_TEST(g.client_body_timeout.count() == 120'000);
    BOOST_TEST(g.keepalive_timeout.count() == 30'000);
    BOOST_TEST(g.upstream_connect_timeout.count() == 1'500);
    BOOST_TEST(g.upstream_timeout.count() == 3'600'000);
    BOOST_TEST(g.max_header_size == 64u * 1024u);

    BOOST_TEST_REQUIRE(c->listeners.size() == 2u);
    const auto& web = c->listeners[0];
    BOOST_TEST(web.name == "web");
    BOOST_TEST_REQUIRE(web.binds.size() == 2u);
    BOOST_TEST(web.binds[0].host == "127.0.0.1");
    BOOST_TEST(web.binds[0].port == 8080);
    BOOST_TEST(!web.binds[0].ipv6);
    BOOST_TEST(web.binds[1].host == "::1");
    BOOST_TEST(web.binds[1].port == 8080);
    BOOST_TEST(web.binds[1].ipv6);
    BOOST_TEST(web.binds[1].text() == "[::1]:8080");
    const auto& admin = c->listeners[1];
    BOOST_TEST(admin.name == "admin");
    BOOST_TEST_REQUIRE(admin.binds.size() == 1u);
    BOOST_TEST(admin.binds[0].host == "0.0.0.0");
    BOOST_TEST(admin.binds[0].port == 9090);
    BOOST_TEST(admin.default_upstream == -1);

    BOOST_TEST_REQUIRE(c->upstreams.size() == 2u);
    const auto& app = c->upstreams[0];
    BOOST_TEST(app.name == "app");
    BOOST_TEST(app.keepalive == 16u);
    BOOST_TEST_REQUIRE(app.servers.size() == 2u);
    BOOST_TEST(app.servers[0].address.text() == "127.0.0.1:9001");
    BOOST_TEST(app.servers[0].weight == 3u);
    BOOST_TEST(app.servers[1].address.text() == "127.0.0.1:9002");
    BOOST_TEST(app.servers[1].weight == 1u);
    const auto& stat = c->upstreams[1];
    BOOST_TEST(stat.name == "static");
    BOOST_TEST(stat.keepalive == cfg::upstream::keepalive_auto);
    BOOST_TEST_REQUIRE(stat.servers.size() == 1u);
    BOOST_TEST(stat.servers[0].address.host == "::1");
    BOOST_TEST(stat.servers[0].address.ipv6);
    BOOST_TEST(stat.servers[0].address.port == 9100);
    BOOST_TEST(stat.servers[0].weight == 10u);

    BOOST_TEST(web.default_upstream == 0);  // app

    BOOST_TEST_REQUIRE(c->routes.size() == 2u);
    const auto& r0 = c->routes[0];
    BOOST_TEST(r0.name == "static");
    BOOST_TEST(r0.listener == 0);  // web
    BOOST_TEST(r0.host == "static.example.com");
    BOOST_TEST(r0.path_prefix == "/static/");
    BOOST_TEST(r0.upstream == 1);  // static
    const auto& r1 = c->routes[1];
    BOOST_TEST(r1.name == "api");
    BOOST_TEST(r1.listener == -1);
    BOOST_TEST(r1.host == "");
    BOOST_TEST(r1.path_prefix == "/api");
    BOOST_TEST(r1.upstream == 0);

    BOOST_TEST(c->log.access_log == "/var/log/bulwark/access.log");
}

BOOST_AUTO_TEST_CASE(defaults_apply_when_keys_are_absent) {
    auto c = ok("[listener:web]\nbind = 127.0.0.1:8080\n[upstream:app]\nserver = 127.0.0.1:9001\n"
                "[route:r]\nupstream = app\n");
    const auto& g = c->global;
    long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
    BOOST_TEST(g.workers == static_cast<unsigned>(cores > 0 ? cores : 1));  // workers = auto
    BOOST_TEST(g.user == "bulwark");
    BOOST_TEST(g.group == "");
    BOOST_TEST(g.pid_file == std::string(cfg::find_key("global", "pid_file")->default_value));
    BOOST_TEST(g.error_log == std::string(cfg::find_key("global", "error_log")->default_value));
    BOOST_TEST(g.pid_file.starts_with("/"));
    BOOST_TEST(g.pid_file.ends_with("/run/bulwark/bulwark.pid"));
    BOOST_TEST((g.log_level == bulwark::log::level::info));
    BOOST_TEST(g.shutdown_timeout.count() == 30'000);
    BOOST_TEST(g.client_header_timeout.count() == 60'000);
    BOOST_TEST(g.client_body_timeout.count() == 60'000);
    BOOST_TEST(g.keepalive_timeout.count() == 75'000);
    BOOST_TEST(g.upstream_connect_timeout.count() == 5'000);
    BOOST_TEST(g.upstream_timeout.count() == 60'000);
    BOOST_TEST(g.max_header_size == 32u * 1024u);
    BOOST_TEST(c->log.access_log == std::string(cfg::find_key("log", "access_log")->default_value));
    BOOST_TEST_REQUIRE(c->listeners.size() == 1u);
    BOOST_TEST(c->listeners[0].default_upstream == -1);
    BOOST_TEST_REQUIRE(c->upstreams.size() == 1u);
    BOOST_TEST(c->upstreams[0].keepalive == cfg::upstream::keepalive_auto);
    BOOST_TEST_REQUIRE(c->routes.size() == 1u);
    BOOST_TEST(c->routes[0].listener == -1);
    BOOST_TEST(c->routes[0].host == "");
    BOOST_TEST(c->routes[0].path_prefix == "/");
    BOOST_TEST(c->routes[0].upstream == 0);
}

BOOST_AUTO_TEST_CASE(empty_global_and_log_sections_are_fine) {
    auto c = ok(std::string("[global]\n[log]\n") + minimal_listener);
    BOOST_TEST(c->listeners.size() == 1u);
    BOOST_TEST(c->upstreams.empty());
    BOOST_TEST(c->routes.empty());
}

BOOST_AUTO_TEST_CASE(relative_paths_resolve_against_the_config_directory) {
    std::string text = std::string("[global]\npid_file = run/bulwark.pid\nerror_log = logs/error.log\n"
                                   "[log]\naccess_log = ../logs/access.log\n") + minimal_listener;
    auto c = ok(text, "/etc/bulwark/bulwark.ini");
    BOOST_TEST(c->global.pid_file == "/etc/bulwark/run/bulwark.pid");
    BOOST_TEST(c->global.error_log == "/etc/bulwark/logs/error.log");
    BOOST_TEST(c->log.access_log == "/etc/bulwark/../logs/access.log");

    // A relative config path is made absolute against the current directory, because the daemon
    // changes its working directory to / before it opens anything.
    char cwd[4096];
    BOOST_TEST_REQUIRE(::getcwd(cwd, sizeof cwd) != nullptr);
    const std::string here_dir = cwd;
    auto sub = ok(text, "conf/test.ini");
    BOOST_TEST(sub->global.pid_file == here_dir + "/conf/run/bulwark.pid");
    BOOST_TEST(sub->global.error_log == here_dir + "/conf/logs/error.log");

    // A file named without a directory is in the current one.
    auto here = ok(text, "test.ini");
    BOOST_TEST(here->global.pid_file == here_dir + "/run/bulwark.pid");

    // A config in / does not produce a doubled slash.
    auto root = ok(text, "/bulwark.ini");
    BOOST_TEST(root->global.pid_file == "/run/bulwark.pid");

    // Absolute paths and the special targets stay as written.
    auto abs = ok(std::string("[global]\npid_file = /tmp/b.pid\nerror_log = stderr\n[log]\naccess_log = off\n") +
                      minimal_listener,
                  "/etc/bulwark/bulwark.ini");
    BOOST_TEST(abs->global.pid_file == "/tmp/b.pid");
    BOOST_TEST(abs->global.error_log == "stderr");
    BOOST_TEST(abs->log.access_log == "off");
    auto err = ok(std::string("[log]\naccess_log = stderr\n") + minimal_listener, "/etc/bulwark/bulwark.ini");
    BOOST_TEST(err->log.access_log == "stderr");
}

BOOST_AUTO_TEST_CASE(repeated_keys_build_lists_in_order) {
    auto c = ok("[listener:web]\nbind = 127.0.0.1:8001\nbind = 127.0.0.1:8002\nbind = [::1]:8003\n"
                "[upstream:app]\nserver = 127.0.0.1:9001 weight=2\nserver = 127.0.0.1:9002\n"
                "server = [::1]:9003 weight=7\n");
    BOOST_TEST_REQUIRE(c->listeners[0].binds.size() == 3u);
    BOOST_TEST(c->listeners[0].binds[0].port == 8001);
    BOOST_TEST(c->listeners[0].binds[1].port == 8002);
    BOOST_TEST(c->listeners[0].binds[2].text() == "[::1]:8003");
    BOOST_TEST_REQUIRE(c->upstreams[0].servers.size() == 3u);
    BOOST_TEST(c->upstreams[0].servers[0].weight == 2u);
    BOOST_TEST(c->upstreams[0].servers[1].weight == 1u);
    BOOST_TEST(c->upstreams[0].servers[2].weight == 7u);
    BOOST_TEST(c->upstreams[0].servers[2].address.ipv6);
}

BOOST_AUTO_TEST_CASE(references_resolve_regardless_of_order) {
    // Routes and listeners written before the sections they name.
    auto c = ok("[route:r]\nlistener = b\nupstream = two\n"
                "[listener:a]\nbind = 127.0.0.1:8001\nupstream = two\n"
                "[listener:b]\nbind = 127.0.0.1:8002\nupstream = one\n"
                "[upstream:one]\nserver = 127.0.0.1:9001\n"
                "[upstream:two]\nserver = 127.0.0.1:9002\n");
    BOOST_TEST_REQUIRE(c->listeners.size() == 2u);
    BOOST_TEST_REQUIRE(c->upstreams.size() == 2u);
    BOOST_TEST(c->listeners[0].name == "a");
    BOOST_TEST(c->upstreams[c->listeners[0].default_upstream].name == "two");
    BOOST_TEST(c->upstreams[c->listeners[1].default_upstream].name == "one");
    BOOST_TEST_REQUIRE(c->routes.size() == 1u);
    BOOST_TEST(c->listeners[c->routes[0].listener].name == "b");
    BOOST_TEST(c->upstreams[c->routes[0].upstream].name == "two");
}

BOOST_AUTO_TEST_CASE(comments_crlf_and_spacing) {
    auto c = ok("# hash comment\r\n; semicolon comment\r\n\r\n[global]\r\nworkers=2\r\n"
                "log_level   =   debug   ; trailing comment\r\n"
                "[listener:web]\r\nbind = 127.0.0.1:8080 ; here\r\n");
    BOOST_TEST(c->global.workers == 2u);
    BOOST_TEST((c->global.log_level == bulwark::log::level::debug));
    BOOST_TEST_REQUIRE(c->listeners.size() == 1u);
    BOOST_TEST_REQUIRE(c->listeners[0].binds.size() == 1u);
    BOOST_TEST(c->listeners[0].binds[0].port == 8080);
}

BOOST_AUTO_TEST_CASE(utf8_bom_is_ignored) {
    // Editors on other systems write a byte-order mark; the first section must still count.
    auto r = load("\xEF\xBB\xBF[global]\nworkers = 3\n[listener:web]\nbind = 127.0.0.1:8080\n");
    BOOST_TEST_REQUIRE(r.errors.empty(), dump(r));
    BOOST_TEST(r.cfg->global.workers == 3u);

    // ...and a mistake in it must still be reported.
    auto bad = load("\xEF\xBB\xBF[global]\nworkers = lots\n[listener:web]\nbind = 127.0.0.1:8080\n");
    EXPECT_ONLY_ERROR(bad, 2, "workers", "auto");

    auto first = load("\xEF\xBB\xBF[listener:web]\nbind = 127.0.0.1:8080\n");
    BOOST_TEST(first.errors.empty(), dump(first));
}

BOOST_AUTO_TEST_CASE(diagnostic_text_is_file_line_message) {
    auto r = load(std::string("[global]\nworkers = 0\n") + minimal_listener, "/etc/bulwark/bulwark.ini");
    BOOST_TEST_REQUIRE(r.errors.size() == 1u, dump(r));
    BOOST_TEST(r.cfg == nullptr);
    BOOST_TEST(r.errors[0].file == "/etc/bulwark/bulwark.ini");
    BOOST_TEST(r.errors[0].text().starts_with("/etc/bulwark/bulwark.ini:2: "), r.errors[0].text());
}

// ---- errors, one kind at a time ----

BOOST_AUTO_TEST_CASE(unknown_section) {
    auto r = load(std::string(minimal_listener) + "\n[proxy_cache_path]\nsize = 1g\nlevels = 2\n");
    // Reported once, at the header; the keys inside are not reported again.
    EXPECT_ONLY_ERROR(r, 4, "proxy_cache_path", "global", "listener:NAME", "upstream:NAME", "route:NAME", "log");
    auto named = load(std::string(minimal_listener) + "[limit:api]\n");
    EXPECT_ONLY_ERROR(named, 3, "limit");
}

BOOST_AUTO_TEST_CASE(unknown_key_lists_allowed_keys) {
    auto r = load(std::string("[global]\nworkers = 2\nworker = 3\n") + minimal_listener);
    EXPECT_ONLY_ERROR(r, 3, "worker", "workers", "pid_file", "max_header_size");
    auto l = load("[listener:web]\nbind = 127.0.0.1:8080\nlisten = 127.0.0.1:8081\n");
    EXPECT_ONLY_ERROR(l, 3, "listen", "bind", "upstream");
    auto u = load(std::string(minimal_listener) + "[upstream:a]\nserver = 127.0.0.1:1\nbackup = yes\n");
    EXPECT_ONLY_ERROR(u, 5, "backup", "server", "keepalive");
    auto rt = load(std::string(minimal_listener) + "[route:a]\nupstream = x\nprefix = /\n");
    EXPECT_ERROR(rt, 5, "prefix", "path_prefix", "host", "listener", "upstream");
    auto lg = load(std::string(minimal_listener) + "[log]\nerror_log = stderr\n");
    EXPECT_ONLY_ERROR(lg, 4, "error_log", "access_log");
    // A key of another section is unknown here.
    auto other = load(std::string(minimal_listener) + "[upstream:a]\nserver = 127.0.0.1:1\nbind = 127.0.0.1:2\n");
    EXPECT_ONLY_ERROR(other, 5, "bind", "server");
}

BOOST_AUTO_TEST_CASE(bad_values_name_what_is_allowed) {
    auto level = load(std::string("[global]\nlog_level = verbose\n") + minimal_listener);
    EXPECT_ONLY_ERROR(level, 2, "log_level", "verbose", "debug|info|notice|warn|error|crit");
    auto workers = load(std::string("[global]\n\nworkers = 1000\n") + minimal_listener);
    EXPECT_ONLY_ERROR(workers, 3, "workers", "1..512");
    auto size = load(std::string("[global]\nmax_header_size = 10m\n") + minimal_listener);
    EXPECT_ONLY_ERROR(size, 2, "max_header_size", "1k..1m");
    auto dur = load(std::string("[global]\nshutdown_timeout = 10 s\n") + minimal_listener);
    EXPECT_ONLY_ERROR(dur, 2, "shutdown_timeout", "duration");
    auto off = load(std::string("[global]\nerror_log = off\n") + minimal_listener);
    EXPECT_ONLY_ERROR(off, 2, "error_log", "stderr");
    auto bind = load("[listener:web]\nbind = localhost:8080\n");
    EXPECT_ONLY_ERROR(bind, 2, "bind", "localhost:8080", "IPv4");
    auto port = load("[listener:web]\nbind = 127.0.0.1:65536\n");
    EXPECT_ONLY_ERROR(port, 2, "bind", "1..65535");
    auto weight = load(std::string(minimal_listener) + "[upstream:a]\nserver = 127.0.0.1:9001 weight=5000\n");
    EXPECT_ONLY_ERROR(weight, 4, "server", "1..1000");
    auto keep = load(std::string(minimal_listener) + "[upstream:a]\nserver = 127.0.0.1:9001\nkeepalive = many\n");
    EXPECT_ONLY_ERROR(keep, 5, "keepalive", "number");
    auto prefix = load(std::string(minimal_listener) + "[upstream:a]\nserver = 127.0.0.1:1\n"
                                                       "[route:r]\nupstream = a\npath_prefix = api\n");
    EXPECT_ONLY_ERROR(prefix, 7, "path_prefix", "/");
    auto empty = load(std::string("[global]\nuser =\n") + minimal_listener);
    EXPECT_ONLY_ERROR(empty, 2, "user");
}

BOOST_AUTO_TEST_CASE(non_repeatable_key_twice) {
    auto r = load(std::string("[global]\nworkers = 2\nuser = a\nworkers = 3\n") + minimal_listener);
    EXPECT_ONLY_ERROR(r, 4, "workers", "twice", "line 2");
    auto route = load(std::string(minimal_listener) + "[upstream:a]\nserver = 127.0.0.1:1\n"
                                                      "[route:r]\nupstream = a\nupstream = a\n");
    EXPECT_ONLY_ERROR(route, 7, "upstream", "twice", "line 6");
}

BOOST_AUTO_TEST_CASE(missing_required_key_is_reported_at_the_section_line) {
    auto listener = load("; no bind\n[listener:web]\nupstream = a\n[upstream:a]\nserver = 127.0.0.1:1\n");
    EXPECT_ONLY_ERROR(listener, 2, "listener:web", "bind");
    auto upstream = load(std::string(minimal_listener) + "\n[upstream:app]\nkeepalive = 4\n");
    EXPECT_ONLY_ERROR(upstream, 4, "upstream:app", "server");
    auto route = load(std::string(minimal_listener) + "[route:r]\npath_prefix = /x\n");
    EXPECT_ONLY_ERROR(route, 3, "route:r", "upstream");
    auto empty_upstream = load(std::string(minimal_listener) + "[upstream:app]\n");
    EXPECT_ONLY_ERROR(empty_upstream, 3, "upstream:app", "server");
}

BOOST_AUTO_TEST_CASE(named_section_without_name) {
    auto r = load(std::string(minimal_listener) + "[upstream]\nserver = 127.0.0.1:1\n");
    EXPECT_ONLY_ERROR(r, 3, "upstream", "NAME");
    auto blank = load(std::string(minimal_listener) + "[route: ]\nupstream = x\n");
    EXPECT_ONLY_ERROR(blank, 3, "route", "NAME");
    auto colon = load("[listener:]\nbind = 127.0.0.1:8080\n" + std::string(minimal_listener));
    EXPECT_ERROR(colon, 1, "listener", "NAME");
}

BOOST_AUTO_TEST_CASE(unnamed_section_with_name) {
    auto r = load(std::string("[global:x]\nworkers = 2\n") + minimal_listener);
    EXPECT_ONLY_ERROR(r, 1, "global", "no name");
    auto log = load(std::string(minimal_listener) + "[log:main]\naccess_log = off\n");
    EXPECT_ONLY_ERROR(log, 3, "log", "no name");
}

BOOST_AUTO_TEST_CASE(duplicate_section) {
    auto g = load(std::string("[global]\nworkers = 2\n[global]\nuser = x\n") + minimal_listener);
    EXPECT_ONLY_ERROR(g, 3, "[global]", "twice");
    auto u = load(std::string(minimal_listener) + "[upstream:a]\nserver = 127.0.0.1:1\n"
                                                  "[upstream:a]\nserver = 127.0.0.1:2\n");
    EXPECT_ONLY_ERROR(u, 5, "upstream:a", "twice");
    // Same label in different kinds of section is fine.
    ok(std::string("[listener:a]\nbind = 127.0.0.1:8080\nupstream = a\n[upstream:a]\nserver = 127.0.0.1:1\n"
                   "[route:a]\nupstream = a\nlistener = a\n"));
}

BOOST_AUTO_TEST_CASE(undefined_references) {
    auto up = load("[listener:web]\nbind = 127.0.0.1:8080\nupstream = nowhere\n");
    EXPECT_ONLY_ERROR(up, 3, "nowhere", "upstream");
    auto route_up = load(std::string(minimal_listener) + "[upstream:app]\nserver = 127.0.0.1:1\n"
                                                         "[route:r]\nupstream = ap\n");
    EXPECT_ONLY_ERROR(route_up, 6, "ap", "upstream");
    auto route_listener = load(std::string(minimal_listener) + "[upstream:app]\nserver = 127.0.0.1:1\n"
                                                               "[route:r]\nupstream = app\nlistener = admin\n");
    EXPECT_ONLY_ERROR(route_listener, 7, "admin", "listener");
    // A listener is not an upstream.
    auto kind = load(std::string(minimal_listener) + "[route:r]\nupstream = web\n");
    EXPECT_ONLY_ERROR(kind, 4, "web", "upstream");
}

BOOST_AUTO_TEST_CASE(duplicate_bind_address) {
    auto same = load("[listener:a]\nbind = 127.0.0.1:8080\nbind = 127.0.0.1:8080\n");
    EXPECT_ONLY_ERROR(same, 3, "127.0.0.1:8080", "line 2");
    auto across = load("[listener:a]\nbind = [::1]:8080\n[listener:b]\nbind = 127.0.0.1:8081\nbind = [::1]:8080\n");
    EXPECT_ONLY_ERROR(across, 5, "[::1]:8080", "line 2");
    auto star = load("[listener:a]\nbind = *:80\n[listener:b]\nbind = 0.0.0.0:80\n");
    EXPECT_ONLY_ERROR(star, 4, "0.0.0.0:80", "line 2");
    // Same address, other port; same port, other address: both fine.
    ok("[listener:a]\nbind = 127.0.0.1:8080\nbind = 127.0.0.1:8081\nbind = 127.0.0.2:8080\nbind = [::1]:8080\n");
}

BOOST_AUTO_TEST_CASE(duplicate_bind_address_in_another_spelling) {
    // [::1] and [0::1] are the same socket address; binding both would fail at startup.
    auto v6 = load("[listener:a]\nbind = [::1]:8080\nbind = [0:0::1]:8080\n");
    EXPECT_ONLY_ERROR(v6, 3, "line 2");
}

BOOST_AUTO_TEST_CASE(no_listener_at_all) {
    for (const char* text : {"", "; only comments\n", "[global]\nworkers = 2\n",
                             "[upstream:a]\nserver = 127.0.0.1:1\n"}) {
        auto r = load(text);
        BOOST_TEST(r.cfg == nullptr, "'" << text << "' loaded without a listener");
        BOOST_TEST_REQUIRE(r.errors.size() == 1u, "'" << text << "':" << dump(r));
        BOOST_TEST(contains(r.errors[0].message, "listener"), r.errors[0].message);
        BOOST_TEST((r.errors[0].line == 0 || r.errors[0].line == 1), r.errors[0].text());
    }
}

BOOST_AUTO_TEST_CASE(syntax_errors) {
    auto no_equals = load(std::string(minimal_listener) + "[global]\nworkers 4\n");
    EXPECT_ONLY_ERROR(no_equals, 4, "syntax");
    auto open_bracket = load(std::string(minimal_listener) + "\n[global\nworkers = 4\n");
    EXPECT_ERROR(open_bracket, 4, "syntax");
    auto outside = load(std::string("workers = 4\n") + minimal_listener);
    EXPECT_ERROR(outside, 1, "workers", "section");
    BOOST_TEST(outside.cfg == nullptr);
}

BOOST_AUTO_TEST_CASE(continuation_lines_are_refused) {
    // inih folds an indented line into the previous key (Python configparser style); bulwark refuses
    // it instead of silently adding a bind address.
    auto r = load("[listener:web]\nbind = 127.0.0.1:8080\n    127.0.0.1:8081\n");
    BOOST_TEST(r.cfg == nullptr, "the continuation line was accepted as another bind");
    BOOST_TEST(!r.errors.empty());
    if (!r.errors.empty()) BOOST_TEST(r.errors[0].line == 3, dump(r));

    // An indented `key = value` after another key is folded the same way by inih; it must be read
    // as its own key or reported at its line, never taken silently as part of the previous value.
    auto indented = load("[global]\nworkers = 2\n  log_level = debug\n[listener:web]\nbind = 127.0.0.1:8080\n");
    if (indented.cfg) {
        BOOST_TEST(indented.cfg->global.workers == 2u);
        BOOST_TEST((indented.cfg->global.log_level == bulwark::log::level::debug));
    } else {
        BOOST_TEST_REQUIRE(!indented.errors.empty());
        BOOST_TEST(indented.errors[0].line == 3, dump(indented));
    }
}

BOOST_AUTO_TEST_CASE(overlong_line) {
    std::string text = std::string(minimal_listener) + "[global]\nuser = " + std::string(300, 'a') + "\n";
    auto r = load(text);
    BOOST_TEST(r.cfg == nullptr);
    EXPECT_ERROR(r, 4, "longer");
}

BOOST_AUTO_TEST_CASE(every_validation_error_is_reported_sorted_by_line) {
    const std::string text = "[global]\n"                       // 1
                             "workers = zero\n"                 // 2 bad value
                             "log_level = loud\n"               // 3 bad value
                             "colour = blue\n"                  // 4 unknown key
                             "workers = 2\n"                    // 5 given twice
                             "[listener:web]\n"                 // 6
                             "bind = 127.0.0.1:8080\n"          // 7
                             "bind = 127.0.0.1:99999\n"         // 8 bad port
                             "[stream]\n"                         // 9 unknown section
                             "size = 1g\n"                      // 10 (not reported again)
                             "[upstream]\n"                     // 11 needs a name
                             "[upstream:app]\n"                 // 12 needs server
                             "keepalive = -1\n"                 // 13 bad value
                             "[log:x]\n"                        // 14 takes no name
                             "[route:r]\n"                      // 15 needs upstream
                             "path_prefix = x\n"                // 16 bad value
                             "[global]\n";                      // 17 twice
    auto r = load(text);
    BOOST_TEST(r.cfg == nullptr);
    EXPECT_ERROR(r, 2, "workers");
    EXPECT_ERROR(r, 3, "log_level");
    EXPECT_ERROR(r, 4, "colour");
    EXPECT_ERROR(r, 5, "workers", "twice");
    EXPECT_ERROR(r, 8, "bind", "1..65535");
    EXPECT_ERROR(r, 9, "stream");
    EXPECT_ERROR(r, 11, "upstream", "NAME");
    EXPECT_ERROR(r, 12, "upstream:app", "server");
    EXPECT_ERROR(r, 13, "keepalive");
    EXPECT_ERROR(r, 14, "log", "no name");
    EXPECT_ERROR(r, 15, "route:r", "upstream");
    EXPECT_ERROR(r, 16, "path_prefix");
    EXPECT_ERROR(r, 17, "global", "twice");
    BOOST_TEST(r.errors.size() == 13u, dump(r));
    for (std::size_t i = 1; i < r.errors.size(); ++i)
        BOOST_TEST(r.errors[i - 1].line <= r.errors[i].line, "not sorted by line:" << dump(r));
    for (const auto& d : r.errors) BOOST_TEST(d.file == "test.ini");
}

BOOST_AUTO_TEST_CASE(reference_and_bind_errors_are_reported_with_other_errors) {
    // Cross-reference checks must not hide behind an unrelated typo elsewhere: one `bulwark -t`
    // run shows everything.
    const std::string text = "[global]\n"                      // 1
                             "workers = none\n"                 // 2 bad value
                             "[listener:web]\n"                 // 3
                             "bind = 127.0.0.1:8080\n"          // 4
                             "bind = 127.0.0.1:8080\n"          // 5 duplicate bind
                             "upstream = missing\n"             // 6 undefined upstream
                             "[route:r]\n"                      // 7
                             "listener = nope\n"                // 8 undefined listener
                             "upstream = missing\n";            // 9 undefined upstream
    auto r = load(text);
    BOOST_TEST(r.cfg == nullptr);
    EXPECT_ERROR(r, 2, "workers");
    EXPECT_ERROR(r, 5, "127.0.0.1:8080");
    EXPECT_ERROR(r, 6, "missing");
    EXPECT_ERROR(r, 8, "nope");
    EXPECT_ERROR(r, 9, "missing");
    for (std::size_t i = 1; i < r.errors.size(); ++i)
        BOOST_TEST(r.errors[i - 1].line <= r.errors[i].line, "not sorted by line:" << dump(r));
}

BOOST_AUTO_TEST_CASE(cross_reference_errors_together_are_sorted) {
    const std::string text = "[route:r]\n"                     // 1
                             "upstream = a\n"                   // 2 undefined
                             "listener = x\n"                   // 3 undefined
                             "[listener:web]\n"                 // 4
                             "bind = 127.0.0.1:8080\n"          // 5
                             "upstream = b\n"                   // 6 undefined
                             "[listener:two]\n"                 // 7
                             "bind = 127.0.0.1:8080\n";         // 8 duplicate
    auto r = load(text);
    BOOST_TEST(r.cfg == nullptr);
    BOOST_TEST(r.errors.size() == 4u, dump(r));
    EXPECT_ERROR(r, 2, "a");
    EXPECT_ERROR(r, 3, "x");
    EXPECT_ERROR(r, 6, "b");
    EXPECT_ERROR(r, 8, "127.0.0.1:8080", "line 5");
    for (std::size_t i = 1; i < r.errors.size(); ++i)
        BOOST_TEST(r.errors[i - 1].line <= r.errors[i].line, "not sorted by line:" << dump(r));
}

BOOST_AUTO_TEST_CASE(load_file_reads_from_disk) {
    char dir_template[] = "/tmp/bulwark-unit-XXXXXX";
    const char* dir = ::mkdtemp(dir_template);
    BOOST_TEST_REQUIRE(dir != nullptr);
    std::string path = std::string(dir) + "/bulwark.ini";
    {
        std::FILE* f = std::fopen(path.c_str(), "w");
        BOOST_TEST_REQUIRE(f != nullptr);
        std::fputs("[global]\npid_file = bulwark.pid\n[listener:web]\nbind = 127.0.0.1:8080\n", f);
        std::fclose(f);
    }
    auto r = cfg::load_file(path);
    BOOST_TEST(r.errors.empty(), dump(r));
    if (r.cfg) {
        BOOST_TEST(r.cfg->file == path);
        BOOST_TEST(r.cfg->global.pid_file == std::string(dir) + "/bulwark.pid");
    }
    std::remove(path.c_str());
    ::rmdir(dir);
}

BOOST_AUTO_TEST_CASE(load_file_on_a_missing_file) {
    const std::string path = "/nonexistent/bulwark-unit/none.ini";
    auto r = cfg::load_file(path);
    BOOST_TEST(r.cfg == nullptr);
    BOOST_TEST_REQUIRE(r.errors.size() == 1u, dump(r));
    BOOST_TEST(r.errors[0].file == path);
    BOOST_TEST(contains(r.errors[0].message, "No such file"), r.errors[0].message);
    BOOST_TEST(contains(r.errors[0].text(), path), r.errors[0].text());
}

BOOST_AUTO_TEST_SUITE_END()
