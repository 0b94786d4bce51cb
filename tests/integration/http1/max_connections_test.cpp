// http1/max_connections: a worker at max_connections stops accepting (the kernel queues the newcomer),
// logs it once, and serves the queued connection as soon as one of its own closes.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "http1/proxy_fixture.hpp"

using namespace bulwark::test;
using namespace std::chrono_literals;
using std::chrono::steady_clock;

BOOST_AUTO_TEST_SUITE(http1_max_connections)

BOOST_AUTO_TEST_CASE(connection_beyond_max_connections_waits_until_one_closes) {
    proxied p("max_connections = 5\nkeepalive_timeout = 30s\n");  // workers = 1
    std::this_thread::sleep_for(300ms);  // start()'s own probe connection must not count against the limit
    std::vector<std::unique_ptr<http_client>> held;
    for (int i = 0; i < 5; ++i) {
        held.push_back(std::make_unique<http_client>(p.bw.port(), 5s));
        BOOST_TEST_REQUIRE(held.back()->get("/who").status == 200, "connection " << i + 1 << " not served");
    }
    http_client sixth(p.bw.port(), 5s);  // completes in the kernel's accept queue
    sixth.send(request_head("GET", "/sixth", {}));
    BOOST_TEST(!sixth.readable(800ms), "the 6th connection was answered while 5 were open");
    BOOST_TEST(p.o.requests() == 5u);
    BOOST_TEST(p.bw.wait_for_text(p.bw.error_log_path(), "max_connections (5) reached"),
               "no \"max_connections (5) reached\" line; error log:\n" << p.bw.error_log());

    std::string log = p.bw.error_log();
    std::size_t lines = 0;
    for (auto at = log.find("max_connections (5) reached"); at != std::string::npos;
         at = log.find("max_connections (5) reached", at + 1))
        ++lines;
    BOOST_TEST(lines == 1u, "the limit was logged " << lines << " times while it held");

    // The held connections still work while the limit is reached.
    BOOST_TEST(held[0]->get("/who").status == 200);

    auto t0 = steady_clock::now();
    held[4]->close();
    auto r = sixth.read_response();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - t0).count();
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body == "GET /sixth");
    BOOST_TEST(ms < 2000, "the 6th connection was served " << ms << " ms after a slot freed");
}

BOOST_AUTO_TEST_SUITE_END()
