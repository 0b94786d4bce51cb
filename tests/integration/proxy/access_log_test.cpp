// proxy/access_log: each request leaves one combined-format line (workers flush at least once a second).
#include <boost/test/unit_test.hpp>

#include <regex>
#include <sstream>
#include <string>

#include "harness/bulwark_process.hpp"
#include "harness/http_client.hpp"
#include "harness/origin.hpp"

using namespace bulwark::test;

BOOST_AUTO_TEST_SUITE(proxy_access_log)

BOOST_AUTO_TEST_CASE(request_leaves_a_combined_format_line) {
    origin o("origin-a");
    bulwark_process bw;
    bw.start(config_options::with_servers({o.address()}));

    http_client c(bw.port());
    auto r = c.get("/who?x=1", {{"User-Agent", "bulwark-test/1.0"}, {"Referer", "http://ref.test/page"}});
    BOOST_TEST_REQUIRE(r.status == 200);

    // 127.0.0.1 - - [30/Nov/2026:08:40:00 +0000] "GET /who?x=1 HTTP/1.1" 200 8 "referer" "agent" "request-id"
    // (combined format; the request id follows because request_id = on by default)
    const std::regex line_re(
        R"(^127\.0\.0\.1 - - \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] )"
        R"("GET /who\?x=1 HTTP/1\.1" 200 (\d+) "http://ref\.test/page" "bulwark-test/1\.0" "[0-9a-f]{32}"$)");
    std::string matched;
    bool found = wait_until(
        [&] {
            std::istringstream in(bw.access_log());
            std::string line;
            while (std::getline(in, line))
                if (std::regex_match(line, line_re)) {
                    matched = line;
                    return true;
                }
            return false;
        },
        std::chrono::seconds(3), std::chrono::milliseconds(100));
    BOOST_TEST(found, "no combined-format line within 3 s; access log:\n" << bw.access_log());
    if (found) {
        std::smatch m;
        std::regex_match(matched, m, line_re);
        auto bytes = std::stoull(m[1].str());
        // Either the body size (8) or the whole response size; never zero.
        BOOST_TEST(bytes >= 8u, "bytes field " << bytes);
    }
}

BOOST_AUTO_TEST_SUITE_END()
