// shared/status: `bulwark -s status` reads the shared segment and prints every upstream server with its
// state and counters, the requests of each listener by status class, then every limit with its refusals;
// the numbers match what the origins saw.
#include <boost/test/unit_test.hpp>

#include <string>

#include "harness/ports.hpp"
#include "shared/shared_fixture.hpp"

using namespace bulwark::test;
using namespace bulwark::test::shared;

BOOST_AUTO_TEST_SUITE(shared_status)

BOOST_AUTO_TEST_CASE(status_prints_every_server_and_limit_with_plausible_counters) {
    origin a("a");
    origin b("b");
    const std::string closed = "127.0.0.1:" + std::to_string(free_port());
    bulwark_process bw;
    config_options opt = upstream_with({a.address(), b.address(), closed}, 2, "max_fails = 1\nfail_timeout = 30s\n",
                                       "[limit:perip]\nrate = 1000/s\nburst = 100\nnodelay = on\n");
    opt.listener_extra = "limit = perip\n";
    bw.start(opt);

    for (int i = 0; i < 30; ++i) {
        auto o = get_once(bw.port(), "/size/1000");
        BOOST_TEST_REQUIRE(o.status == 200, o.error);
    }
    auto st = read_status(bw);
    BOOST_TEST_MESSAGE("bulwark -s status:\n" << st.text);
    BOOST_TEST(st.exit_code == 0, st.text);
    BOOST_TEST(st.has_header, st.text);
    BOOST_TEST_REQUIRE(st.servers.size() == 3u, st.text);

    const server_row* ra = st.find(a.address());
    const server_row* rb = st.find(b.address());
    const server_row* rc = st.find(closed);
    BOOST_TEST_REQUIRE((ra && rb && rc), st.text);
    for (const server_row* r : {ra, rb, rc}) BOOST_TEST(r->upstream == "backend");
    BOOST_TEST(ra->state == "up");
    BOOST_TEST(rb->state == "up");
    BOOST_TEST(rc->state == "down");
    BOOST_TEST(st.total_active() == 0u, st.text);
    // Every request reached a or b: the origins' counts are the proxy's.
    BOOST_TEST(ra->requests == a.requests(), st.text);
    BOOST_TEST(rb->requests == b.requests(), st.text);
    BOOST_TEST(ra->requests + rb->requests == 30u, st.text);
    BOOST_TEST(ra->requests >= 10u);
    BOOST_TEST(rb->requests >= 10u);
    BOOST_TEST(ra->failures == 0u);
    BOOST_TEST(rc->failures >= 1u, st.text);
    // Bytes both ways: at least the 1000-byte bodies received, and request heads sent.
    BOOST_TEST(ra->bytes_in >= 1000 * ra->requests, st.text);
    BOOST_TEST(ra->bytes_out >= 16 * ra->requests, st.text);
    BOOST_TEST(rb->bytes_in >= 1000 * rb->requests, st.text);
    BOOST_TEST(rc->bytes_in == 0u);
    // Per listener: every request counted once, by status class.
    BOOST_TEST_REQUIRE(st.counters.count("listener:main") == 1u, st.text);
    BOOST_TEST(st.counters["listener:main"].requests == 30u, st.text);
    BOOST_TEST(st.counters["listener:main"].status[1] == 30u, st.text);
    BOOST_TEST(st.counters["listener:main"].bytes_out >= 30u * 1000, st.text);
    BOOST_TEST(st.limited.count("perip") == 1u, st.text);
    BOOST_TEST(st.limited["perip"] == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
