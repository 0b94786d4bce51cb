// http1/forwarded_headers: what the proxy tells the origin about the client: X-Forwarded-For (replaced
// unless the peer is a trusted proxy), Via, Forwarded (RFC 7239, opt-in) and X-Request-Id (generated
// when absent, forwarded, returned and logged).
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <regex>
#include <sstream>
#include <string>

#include "harness/ports.hpp"
#include "http1/proxy_fixture.hpp"

using namespace bulwark::test;
using namespace std::chrono_literals;

namespace {

// All values of a field joined as one list (several lines and a comma list are the same, RFC 9110 §5.3).
std::string joined(const recorded_request& r, std::string_view name) {
    std::string out;
    for (const auto& [k, v] : r.headers)
        if (lower(k) == name) out += (out.empty() ? "" : ", ") + v;
    return out;
}

bool is_hex32(const std::string& s) {
    static const std::regex re("^[0-9a-fA-F]{32}$");
    return std::regex_match(s, re);
}

// The access-log line of `target`, once flushed; "" after 3 s.
std::string access_line(const bulwark_process& bw, const std::string& target) {
    std::string found;
    wait_until(
        [&] {
            std::istringstream in(bw.access_log());
            std::string line;
            while (std::getline(in, line))
                if (line.find("\"GET " + target + " HTTP/1.1\"") != std::string::npos) {
                    found = line;
                    return true;
                }
            return false;
        },
        3s, 100ms);
    return found;
}

// Splits `for=1.2.3.4;proto=http;host="x"` into pairs with quotes removed.
std::vector<std::pair<std::string, std::string>> forwarded_pairs(const std::string& v) {
    std::vector<std::pair<std::string, std::string>> out;
    std::size_t pos = 0;
    while (pos <= v.size()) {
        auto semi = v.find(';', pos);
        std::string part = v.substr(pos, semi == std::string::npos ? std::string::npos : semi - pos);
        auto eq = part.find('=');
        std::string k = lower(part.substr(0, eq));
        std::string val = eq == std::string::npos ? "" : part.substr(eq + 1);
        if (val.size() >= 2 && val.front() == '"' && val.back() == '"') val = val.substr(1, val.size() - 2);
        out.emplace_back(k, val);
        if (semi == std::string::npos) break;
        pos = semi + 1;
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http1_forwarded_headers)

BOOST_AUTO_TEST_CASE(x_forwarded_for_is_replaced_for_an_untrusted_client) {
    proxied p({}, "trusted_proxies = 10.0.0.0/8\n");
    http_client c(p.bw.port(), 5s);
    BOOST_TEST(c.get("/x", {{"X-Forwarded-For", "203.0.113.9"}}).status == 200);
    auto last = p.o.last_request();
    BOOST_TEST(last.header_count("x-forwarded-for") == 1u);
    BOOST_TEST(last.header("x-forwarded-for").value_or("<none>") == "127.0.0.1");
    // Every client-supplied line goes, not just the first.
    c.send("GET /lines HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 203.0.113.9\r\nX-Forwarded-For: 198.51.100.7\r\n\r\n");
    BOOST_TEST(c.read_response().status == 200);
    BOOST_TEST(joined(p.o.last_request(), "x-forwarded-for") == "127.0.0.1");
}

BOOST_AUTO_TEST_CASE(x_forwarded_for_is_appended_for_a_trusted_proxy) {
    proxied p({}, "trusted_proxies = 10.0.0.0/8\ntrusted_proxies = 127.0.0.0/8\n");
    http_client c(p.bw.port(), 5s);
    BOOST_TEST(c.get("/x", {{"X-Forwarded-For", "203.0.113.9, 198.51.100.7"}}).status == 200);
    BOOST_TEST(joined(p.o.last_request(), "x-forwarded-for") == "203.0.113.9, 198.51.100.7, 127.0.0.1");
    // Several field lines are one list (RFC 9110 §5.3).
    c.send("GET /lines HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 203.0.113.9\r\nX-Forwarded-For: 198.51.100.7\r\n\r\n");
    BOOST_TEST(c.read_response().status == 200);
    BOOST_TEST(joined(p.o.last_request(), "x-forwarded-for") == "203.0.113.9, 198.51.100.7, 127.0.0.1");
    // Without a client-supplied one, the trusted peer's own address is the list.
    BOOST_TEST(c.get("/y").status == 200);
    BOOST_TEST(joined(p.o.last_request(), "x-forwarded-for") == "127.0.0.1");
}

BOOST_AUTO_TEST_CASE(via_is_added_to_the_upstream_request) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    BOOST_TEST(c.get("/x").status == 200);
    BOOST_TEST(joined(p.o.last_request(), "via") == "1.1 bulwark");
}

BOOST_AUTO_TEST_CASE(via_is_appended_to_an_existing_via) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    BOOST_TEST(c.get("/x", {{"Via", "1.0 fred, 1.1 p.example"}}).status == 200);
    BOOST_TEST(joined(p.o.last_request(), "via") == "1.0 fred, 1.1 p.example, 1.1 bulwark");
}

BOOST_AUTO_TEST_CASE(via_off_adds_no_via) {
    proxied p({}, "via = off\n");
    http_client c(p.bw.port(), 5s);
    BOOST_TEST(c.get("/x").status == 200);
    BOOST_TEST(!p.o.last_request().header("via").has_value());
}

BOOST_AUTO_TEST_CASE(forwarded_on_adds_an_rfc7239_field) {
    proxied p({}, "forwarded = on\n");
    http_client c(p.bw.port(), 5s);
    BOOST_TEST(c.get("/x", {{"Host", "example.com"}}).status == 200);
    auto last = p.o.last_request();
    BOOST_TEST_REQUIRE(last.header_count("forwarded") == 1u);
    auto pairs = forwarded_pairs(*last.header("forwarded"));
    std::vector<std::pair<std::string, std::string>> want = {
        {"for", "127.0.0.1"}, {"proto", "http"}, {"host", "example.com"}};
    BOOST_TEST((pairs == want), "Forwarded: " << *last.header("forwarded"));
}

BOOST_AUTO_TEST_CASE(forwarded_is_off_by_default) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    BOOST_TEST(c.get("/x").status == 200);
    BOOST_TEST(!p.o.last_request().header("forwarded").has_value());
}

BOOST_AUTO_TEST_CASE(request_id_is_generated_when_absent_and_returned_and_logged) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    auto r1 = c.get("/id-one");
    auto sent1 = p.o.last_request().header("x-request-id").value_or("<none>");
    auto r2 = c.get("/id-two");
    auto sent2 = p.o.last_request().header("x-request-id").value_or("<none>");
    BOOST_TEST(is_hex32(sent1), "X-Request-Id sent upstream: " << sent1);
    BOOST_TEST(sent1 != sent2, "two requests got the same id");
    BOOST_TEST(r1.header("x-request-id").value_or("<none>") == sent1);
    BOOST_TEST(r2.header("x-request-id").value_or("<none>") == sent2);
    BOOST_TEST(r1.header_count("x-request-id") == 1u);
    std::string line = access_line(p.bw, "/id-one");
    BOOST_TEST_REQUIRE(!line.empty(), "no access-log line; access log:\n" << p.bw.access_log());
    BOOST_TEST(line.ends_with(" \"" + sent1 + "\""), "access-log line: " << line);
}

BOOST_AUTO_TEST_CASE(request_id_is_kept_when_present) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    auto r = c.get("/kept", {{"X-Request-Id", "client-chosen-42"}});
    auto last = p.o.last_request();
    BOOST_TEST(last.header_count("x-request-id") == 1u);
    BOOST_TEST(last.header("x-request-id").value_or("<none>") == "client-chosen-42");
    BOOST_TEST(r.header("x-request-id").value_or("<none>") == "client-chosen-42");
    BOOST_TEST(r.header_count("x-request-id") == 1u);
    std::string line = access_line(p.bw, "/kept");
    BOOST_TEST_REQUIRE(!line.empty(), "no access-log line; access log:\n" << p.bw.access_log());
    BOOST_TEST(line.ends_with(" \"client-chosen-42\""), "access-log line: " << line);
}

BOOST_AUTO_TEST_CASE(request_id_off_adds_none) {
    proxied p({}, "request_id = off\n");
    http_client c(p.bw.port(), 5s);
    auto r = c.get("/x");
    BOOST_TEST(!p.o.last_request().header("x-request-id").has_value());
    BOOST_TEST(!r.header("x-request-id").has_value());
}

// RFC 7239 §6: an IPv6 node is bracketed and the value quoted.
BOOST_AUTO_TEST_CASE(forwarded_quotes_an_ipv6_client_address) {
    origin o("a");
    bulwark_process bw;
    const std::uint16_t v6port = free_port();
    config_options opt = config_options::with_servers({o.address()});
    opt.listener_extra = "forwarded = on\nbind = [::1]:" + std::to_string(v6port) + "\n";
    bw.start(opt);
    auto r = run_command({"curl", "-sg", "--max-time", "5", "-H", "Host: example.com",
                          "http://[::1]:" + std::to_string(v6port) + "/v6"},
                         10s);
    BOOST_TEST_REQUIRE(r.exit_code == 0, "curl over IPv6 failed: " << r.err);
    BOOST_TEST(r.out == "GET /v6");
    auto last = o.last_request();
    auto fwd = last.header("forwarded").value_or("<none>");
    BOOST_TEST(fwd.find("for=\"[::1]\"") != std::string::npos, "Forwarded: " << fwd);
    BOOST_TEST(last.header("x-forwarded-for").value_or("<none>") == "::1");
}

// The id is most useful exactly when the proxy itself answers (here: the origin refuses connections).
BOOST_AUTO_TEST_CASE(request_id_is_returned_on_proxy_generated_errors) {
    std::string dead = "127.0.0.1:" + std::to_string(free_port());
    bulwark_process bw;
    bw.start(config_options::with_servers({dead}));
    http_client c(bw.port(), 5s);
    auto r = c.get("/err-id");
    BOOST_TEST(r.status == 502);
    auto id = r.header("x-request-id").value_or("<none>");
    BOOST_TEST(is_hex32(id), "X-Request-Id on the 502: " << id);
    std::string line = access_line(bw, "/err-id");
    BOOST_TEST_REQUIRE(!line.empty(), "no access-log line; access log:\n" << bw.access_log());
    BOOST_TEST(line.ends_with(" \"" + id + "\""), "access-log line: " << line);
}

// A client-chosen id is logged inside quotes: it must not be able to close them and forge fields.
BOOST_AUTO_TEST_CASE(request_id_cannot_forge_access_log_fields) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    const std::string evil = "x\" 200 \"forged";
    auto r = c.get("/forge", {{"X-Request-Id", evil}});
    BOOST_TEST(r.status == 200);
    std::string line = access_line(p.bw, "/forge");
    BOOST_TEST_REQUIRE(!line.empty(), "no access-log line; access log:\n" << p.bw.access_log());
    BOOST_TEST(line.find(evil) == std::string::npos, "the id was logged unescaped: " << line);
}

BOOST_AUTO_TEST_SUITE_END()
