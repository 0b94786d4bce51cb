// config/values: endpoints, server lines and the per-type check that names what is allowed.
#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>

#include "config/schema.hpp"
#include "config/values.hpp"

namespace cfg = bulwark::config;

namespace {

const cfg::key_spec& key(std::string_view section, std::string_view name) {
    const cfg::key_spec* k = cfg::find_key(section, name);
    BOOST_REQUIRE_MESSAGE(k, "schema has no key " << section << "." << name);
    return *k;
}

bool contains(const std::string& haystack, std::string_view needle) {
    return haystack.find(needle) != std::string::npos;
}

// check_value must accept `value`; prints the message otherwise.
void accepts(std::string_view section, std::string_view name, std::string_view value) {
    std::string err = cfg::check_value(key(section, name), value);
    BOOST_TEST(err.empty(), section << "." << name << " = '" << value << "' rejected: " << err);
}

// check_value must reject `value` with a message containing `expect`.
void rejects(std::string_view section, std::string_view name, std::string_view value, std::string_view expect) {
    std::string err = cfg::check_value(key(section, name), value);
    BOOST_TEST(!err.empty(), section << "." << name << " = '" << value << "' accepted");
    BOOST_TEST(contains(err, expect), section << "." << name << " = '" << value << "': message '" << err
                                              << "' does not mention '" << expect << "'");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config_values)

BOOST_AUTO_TEST_CASE(endpoint_ipv4) {
    cfg::endpoint e;
    BOOST_TEST(cfg::parse_endpoint("127.0.0.1:8080", e) == "");
    BOOST_TEST(e.host == "127.0.0.1");
    BOOST_TEST(e.port == 8080);
    BOOST_TEST(!e.ipv6);
    BOOST_TEST(e.text() == "127.0.0.1:8080");

    BOOST_TEST(cfg::parse_endpoint("0.0.0.0:1", e) == "");
    BOOST_TEST(e.port == 1);
    BOOST_TEST(cfg::parse_endpoint("10.1.2.3:65535", e) == "");
    BOOST_TEST(e.host == "10.1.2.3");
    BOOST_TEST(e.port == 65535);
}

BOOST_AUTO_TEST_CASE(endpoint_ipv6) {
    cfg::endpoint e;
    BOOST_TEST(cfg::parse_endpoint("[::1]:8080", e) == "");
    BOOST_TEST(e.host == "::1");
    BOOST_TEST(e.port == 8080);
    BOOST_TEST(e.ipv6);
    BOOST_TEST(e.text() == "[::1]:8080");

    BOOST_TEST(cfg::parse_endpoint("[::]:80", e) == "");
    BOOST_TEST(e.host == "::");
    BOOST_TEST(e.ipv6);
    BOOST_TEST(cfg::parse_endpoint("[2001:db8::10]:443", e) == "");
    BOOST_TEST(e.host == "2001:db8::10");
    BOOST_TEST(e.port == 443);

    // An IPv6 parse followed by an IPv4 one must not keep the v6 flag.
    BOOST_TEST(cfg::parse_endpoint("127.0.0.1:80", e) == "");
    BOOST_TEST(!e.ipv6);
}

BOOST_AUTO_TEST_CASE(endpoint_star_means_every_ipv4_address) {
    cfg::endpoint e;
    BOOST_TEST(cfg::parse_endpoint("*:80", e) == "");
    BOOST_TEST(e.host == "0.0.0.0");
    BOOST_TEST(e.port == 80);
    BOOST_TEST(!e.ipv6);
}

BOOST_AUTO_TEST_CASE(endpoint_rejects_bad_forms) {
    for (const char* bad : {"localhost:80", "example.com:443", "127.0.0.1", "127.0.0.1:", ":80", "", "[::1]",
                            "[::1]:", "[::1]8080", "[::1:8080", "::1]:8080", "::1:8080", "[127.0.0.1]:80",
                            "[]:80", "[localhost]:80", "256.0.0.1:80", "127.0.0.1:http", "127.0.0.1:-1",
                            "127.0.0.1:80 ", " 127.0.0.1:80", "127.0.0.1:8080x", "*:", "**:80"}) {
        cfg::endpoint e;
        std::string err = cfg::parse_endpoint(bad, e);
        BOOST_TEST(!err.empty(), "parse_endpoint accepted '" << bad << "'");
    }
}

BOOST_AUTO_TEST_CASE(endpoint_port_range) {
    cfg::endpoint e;
    std::string err = cfg::parse_endpoint("127.0.0.1:0", e);
    BOOST_TEST(contains(err, "1..65535"), "port 0: '" << err << "'");
    err = cfg::parse_endpoint("127.0.0.1:65536", e);
    BOOST_TEST(contains(err, "1..65535"), "port 65536: '" << err << "'");
    err = cfg::parse_endpoint("[::1]:0", e);
    BOOST_TEST(contains(err, "1..65535"), "[::1]:0: '" << err << "'");
    err = cfg::parse_endpoint("[::1]:99999999999999999999", e);
    BOOST_TEST(!err.empty());
}

BOOST_AUTO_TEST_CASE(server_with_and_without_weight) {
    cfg::server s;
    BOOST_TEST(cfg::parse_server("127.0.0.1:9001", s) == "");
    BOOST_TEST(s.address.text() == "127.0.0.1:9001");
    BOOST_TEST(s.weight == 1u);

    cfg::server w;
    BOOST_TEST(cfg::parse_server("127.0.0.1:9001 weight=3", w) == "");
    BOOST_TEST(w.address.host == "127.0.0.1");
    BOOST_TEST(w.address.port == 9001);
    BOOST_TEST(w.weight == 3u);

    cfg::server v6;
    BOOST_TEST(cfg::parse_server("[::1]:9002\tweight=1000", v6) == "");
    BOOST_TEST(v6.address.ipv6);
    BOOST_TEST(v6.address.port == 9002);
    BOOST_TEST(v6.weight == 1000u);

    cfg::server spaced;
    BOOST_TEST(cfg::parse_server("127.0.0.1:9001   weight=1", spaced) == "");
    BOOST_TEST(spaced.weight == 1u);
}

BOOST_AUTO_TEST_CASE(server_weight_out_of_range) {
    for (const char* bad : {"127.0.0.1:9001 weight=0", "127.0.0.1:9001 weight=1001", "127.0.0.1:9001 weight=",
                            "127.0.0.1:9001 weight=-1", "127.0.0.1:9001 weight=2x"}) {
        cfg::server s;
        std::string err = cfg::parse_server(bad, s);
        BOOST_TEST(contains(err, "1..1000"), "'" << bad << "': '" << err << "'");
    }
}

BOOST_AUTO_TEST_CASE(server_backup_and_max_conns_options) {
    cfg::server s;
    BOOST_TEST(cfg::parse_server("127.0.0.1:9001 weight=2 max_conns=100 backup", s).empty());
    BOOST_TEST(s.weight == 2u);
    BOOST_TEST(s.max_conns == 100u);
    BOOST_TEST(s.backup);
    BOOST_TEST(contains(cfg::parse_server("127.0.0.1:9001 max_conns=x", s), "max_conns"));
}

BOOST_AUTO_TEST_CASE(server_unknown_option_and_bad_address) {
    cfg::server s;
    std::string err = cfg::parse_server("127.0.0.1:9001 down", s);
    BOOST_TEST(contains(err, "down"), err);
    BOOST_TEST(contains(err, "weight"), err);
    BOOST_TEST(contains(err, "backup"), err);
    err = cfg::parse_server("127.0.0.1:9001 max_fails=3", s);
    BOOST_TEST(contains(err, "max_fails"), err);
    err = cfg::parse_server("backend.local:9001 weight=2", s);
    BOOST_TEST(!err.empty());
    err = cfg::parse_server("127.0.0.1:0", s);
    BOOST_TEST(contains(err, "1..65535"), err);
    err = cfg::parse_server("", s);
    BOOST_TEST(!err.empty());
}

BOOST_AUTO_TEST_CASE(check_count_or_auto) {
    accepts("global", "workers", "auto");
    accepts("global", "workers", "1");
    accepts("global", "workers", "512");
    rejects("global", "workers", "0", "1..512");
    rejects("global", "workers", "513", "1..512");
    rejects("global", "workers", "AUTO", "auto");
    rejects("global", "workers", "two", "auto");
    rejects("global", "workers", "-1", "auto");
    rejects("global", "workers", "4 ", "auto");
}

BOOST_AUTO_TEST_CASE(check_count) {
    accepts("upstream", "max_fails", "0");
    accepts("upstream", "max_fails", "32");
    accepts("upstream", "max_fails", "1000");
    rejects("upstream", "max_fails", "1001", "0..1000");
    rejects("upstream", "max_fails", "auto", "number");
    rejects("upstream", "max_fails", "-1", "number");
}

// keepalive = auto (the default, issue 16) or a cap, 0 included.
BOOST_AUTO_TEST_CASE(check_keepalive_number_or_auto) {
    accepts("upstream", "keepalive", "auto");
    accepts("upstream", "keepalive", "0");
    accepts("upstream", "keepalive", "4");
    accepts("upstream", "keepalive", "65535");
    rejects("upstream", "keepalive", "65536", "0..65535");
    rejects("upstream", "keepalive", "Auto", "auto");
    rejects("upstream", "keepalive", "-1", "number or auto");
}

BOOST_AUTO_TEST_CASE(check_size_with_range) {
    accepts("global", "max_header_size", "1k");
    accepts("global", "max_header_size", "1024");
    accepts("global", "max_header_size", "32k");
    accepts("global", "max_header_size", "1m");
    accepts("global", "max_header_size", "1M");
    rejects("global", "max_header_size", "1023", "1k..1m");
    rejects("global", "max_header_size", "2m", "1k..1m");
    rejects("global", "max_header_size", "1g", "1k..1m");
    rejects("global", "max_header_size", "1kb", "64k");  // the message shows example sizes
}

BOOST_AUTO_TEST_CASE(check_duration) {
    for (const char* k : {"shutdown_timeout", "client_header_timeout", "client_body_timeout", "keepalive_timeout",
                          "upstream_connect_timeout", "upstream_timeout"}) {
        accepts("global", k, "500ms");
        accepts("global", k, "30s");
        accepts("global", k, "30");
        accepts("global", k, "5m");
        rejects("global", k, "1x", "30s");
        rejects("global", k, "-1s", "30s");
    }
}

BOOST_AUTO_TEST_CASE(check_choice) {
    const cfg::key_spec& level = key("global", "log_level");
    for (const char* ok : {"debug", "info", "notice", "warn", "error", "crit"}) accepts("global", "log_level", ok);
    rejects("global", "log_level", "verbose", level.allowed);
    rejects("global", "log_level", "INFO", level.allowed);
    rejects("global", "log_level", "warning", level.allowed);
    rejects("global", "log_level", "info|warn", level.allowed);
    rejects("global", "log_level", "inf", level.allowed);
    rejects("global", "log_level", "crit ", level.allowed);
}

BOOST_AUTO_TEST_CASE(check_text_path_reference_prefix) {
    accepts("global", "user", "www-data");
    rejects("global", "user", "www data", "single word");
    accepts("global", "pid_file", "/run/bulwark.pid");
    accepts("global", "pid_file", "run/bulwark.pid");
    accepts("listener", "upstream", "app");
    rejects("listener", "upstream", "app two", "single word");
    accepts("route", "path_prefix", "/");
    accepts("route", "path_prefix", "/api/v1");
    rejects("route", "path_prefix", "api", "/");
    rejects("route", "path_prefix", "/a b", "/");
    accepts("route", "host", "example.com");
}

BOOST_AUTO_TEST_CASE(check_log_target) {
    accepts("global", "error_log", "stderr");
    accepts("global", "error_log", "/var/log/bulwark/error.log");
    rejects("global", "error_log", "off", "path|stderr");
    accepts("log", "access_log", "off");
    accepts("log", "access_log", "stderr");
    accepts("log", "access_log", "logs/access.log");
}

BOOST_AUTO_TEST_CASE(check_endpoint_and_server_keys) {
    accepts("listener", "bind", "127.0.0.1:8080");
    accepts("listener", "bind", "[::1]:8080");
    accepts("listener", "bind", "*:80");
    rejects("listener", "bind", "localhost:8080", "IPv4");
    rejects("listener", "bind", "127.0.0.1:0", "1..65535");
    accepts("upstream", "server", "127.0.0.1:9001 weight=3");
    rejects("upstream", "server", "127.0.0.1:9001 weight=0", "1..1000");
    rejects("upstream", "server", "127.0.0.1:9001 down", "weight");
}

BOOST_AUTO_TEST_CASE(every_key_rejects_an_empty_value) {
    for (const auto& k : cfg::keys()) {
        std::string err = cfg::check_value(k, "");
        BOOST_TEST(!err.empty(), k.section << "." << k.name << " accepts an empty value");
    }
}

BOOST_AUTO_TEST_CASE(every_default_passes_its_own_check) {
    for (const auto& k : cfg::keys()) {
        if (k.default_value.empty()) continue;
        std::string err = cfg::check_value(k, k.default_value);
        BOOST_TEST(err.empty(), k.section << "." << k.name << " default '" << k.default_value << "': " << err);
    }
}

BOOST_AUTO_TEST_CASE(ranges_are_read_with_the_key_type) {
    std::uint64_t lo = 0, hi = 0;
    BOOST_REQUIRE(cfg::parse_range(key("global", "max_header_size"), lo, hi));
    BOOST_TEST(lo == 1024u);
    BOOST_TEST(hi == 1024u * 1024u);
    BOOST_REQUIRE(cfg::parse_range(key("global", "workers"), lo, hi));
    BOOST_TEST(lo == 1u);
    BOOST_TEST(hi == 512u);
    BOOST_TEST(!cfg::parse_range(key("global", "log_level"), lo, hi));
    BOOST_TEST(!cfg::parse_range(key("global", "user"), lo, hi));
}

BOOST_AUTO_TEST_CASE(schema_lookups) {
    BOOST_TEST(cfg::find_section("global") != nullptr);
    BOOST_TEST(cfg::find_section("listener")->named);
    BOOST_TEST(!cfg::find_section("log")->named);
    BOOST_TEST(cfg::find_section("cache") != nullptr);
    BOOST_TEST(cfg::find_section("stream") == nullptr);
    BOOST_TEST(cfg::find_key("global", "bind") == nullptr);
    BOOST_TEST(cfg::find_key("listener", "bind")->repeatable);
    BOOST_TEST(cfg::find_key("route", "upstream")->required);
    for (const auto& k : cfg::keys()) {
        BOOST_TEST(cfg::find_section(k.section) != nullptr, k.name << " belongs to unknown section " << k.section);
        BOOST_TEST(!k.doc.empty(), k.section << "." << k.name << " has no doc");
        BOOST_TEST(!cfg::type_name(k.type).empty());
        if (k.type == cfg::value_type::choice) BOOST_TEST(!k.allowed.empty(), k.name << ": choice without values");
    }
}

BOOST_AUTO_TEST_SUITE_END()
