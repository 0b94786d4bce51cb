// regress/consecutive_1xx_in_one_read: two interim responses arriving in one read hung the exchange.
// Cause: after a 1xx, read_response_head re-parsed the buffer once and returned only on a final status;
// a second 1xx already buffered was neither relayed nor consumed, so the proxy waited (upstream_timeout).
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "http1/proxy_fixture.hpp"

using namespace bulwark::test;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(regress_consecutive_1xx_in_one_read)

BOOST_AUTO_TEST_CASE(two_103_and_a_200_in_one_write_are_all_relayed) {
    proxied p("upstream_timeout = 10s\n");
    p.o.set_raw("hints", raw_script::of("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
                                        "HTTP/1.1 103 Early Hints\r\nLink: </b.js>; rel=preload\r\n\r\n"
                                        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    http_client c(p.bw.port(), 3s);
    auto r = c.get("/raw/hints");
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body == "ok");
    BOOST_TEST((r.interim == std::vector<int>{103, 103}), "interim responses relayed: " << r.interim.size());
}

BOOST_AUTO_TEST_CASE(a_100_then_a_102_then_a_200_in_one_write_do_not_hang) {
    proxied p("upstream_timeout = 10s\n");
    p.o.set_raw("c", raw_script::of("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n"
                                    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    http_client c(p.bw.port(), 3s);
    auto r = c.get("/raw/c");
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body == "ok");
}

BOOST_AUTO_TEST_SUITE_END()
