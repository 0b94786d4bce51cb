// shared/upstream_pool (issue 16): a worker's connection pool keeps what recent traffic needed. With the
// default keepalive = auto, 64 concurrent keep-alive clients are served by about 64 origin connections
// (a fixed keepalive = 32 opened a new one for 14-26 % of requests); once the burst is over the idle
// ones are closed gradually; an explicit keepalive caps the idle connections. The origin counts the
// connections, `bulwark -s status` shows the pool's totals.
#include <boost/test/unit_test.hpp>

#include <string>
#include <thread>

#include "harness/load_generator.hpp"
#include "shared/shared_fixture.hpp"

using namespace bulwark::test;
using namespace bulwark::test::shared;

namespace {

constexpr unsigned clients = 64;
constexpr std::size_t slack = 8;

load_counts burst(std::uint16_t port, unsigned n, std::chrono::milliseconds how_long) {
    load_options lo;
    lo.port = port;
    lo.keepalive_clients = n;
    lo.new_connection_clients = 0;
    lo.slow_clients = 0;
    lo.path = "/who";
    lo.bodies = {"a"};
    lo.pause = std::chrono::milliseconds(0);
    load_generator load(lo);
    std::this_thread::sleep_for(how_long);
    return load.stop();
}

// The pools publish once a second: waits until the status shows every request of the origin.
status_table settled_status(bulwark_process& bw, const origin& o) {
    status_table st;
    wait_until(
        [&] {
            st = read_status(bw);
            const server_row* r = st.find(o.address());
            return r && r->opened + r->reused >= o.requests();
        },
        5s, 200ms);
    return st;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(shared_upstream_pool)

BOOST_AUTO_TEST_CASE(sixty_four_clients_open_at_most_sixty_four_origin_connections_by_default) {
    origin o("a");
    bulwark_process bw;
    bw.start(upstream_with({o.address()}, 1, ""));  // one worker, keepalive not set (auto)

    auto c = burst(bw.port(), clients, 3s);
    BOOST_TEST_MESSAGE("load: " << c.summary() << "; origin connections " << o.connections() << " for "
                                << o.requests() << " requests");
    BOOST_TEST(c.failed == 0u, c.summary());
    BOOST_TEST_REQUIRE(c.succeeded >= 2u * clients, c.summary());
    BOOST_TEST(o.connections() <= clients + slack,
               "the origin accepted " << o.connections() << " connections for " << o.requests() << " requests");

    auto st = settled_status(bw, o);
    BOOST_TEST_MESSAGE("bulwark -s status:\n" << st.text);
    BOOST_TEST_REQUIRE(st.has_header, st.text);
    const server_row* r = st.find(o.address());
    BOOST_TEST_REQUIRE(r != nullptr, st.text);
    BOOST_TEST(r->opened == o.connections(), st.text);
    BOOST_TEST(r->opened + r->reused == o.requests(), st.text);
    BOOST_TEST(r->idle <= r->opened, st.text);
    BOOST_TEST(r->idle >= 1u, st.text);
}

BOOST_AUTO_TEST_CASE(idle_connections_are_trimmed_gradually_after_a_burst) {
    origin o("a");
    bulwark_process bw;
    bw.start(upstream_with({o.address()}, 1, ""));

    auto c = burst(bw.port(), clients, 2s);
    BOOST_TEST(c.failed == 0u, c.summary());
    const std::size_t peak = o.open_connections();
    BOOST_TEST_MESSAGE("origin connections open after the burst: " << peak << " (accepted " << o.connections() << ")");
    BOOST_TEST_REQUIRE(peak >= clients / 2, "the pool did not keep the burst's connections: " << peak);

    // Not all at once: the recent peak still holds them for a few seconds.
    auto t0 = steady::now();
    std::this_thread::sleep_for(1s);
    BOOST_TEST(o.open_connections() >= peak / 2, "closed too early: " << o.open_connections() << " of " << peak);

    // Then gradually down to (nearly) nothing: 5 s of window, then half the surplus each second.
    BOOST_TEST(wait_until([&] { return o.open_connections() <= 2; }, 25s, 200ms),
               "still " << o.open_connections() << " origin connections open " << ms_since(t0) << " ms after the burst");
    BOOST_TEST_MESSAGE("trimmed to " << o.open_connections() << " after " << ms_since(t0) << " ms");

    status_table st;
    BOOST_TEST(wait_until(
                   [&] {
                       st = read_status(bw);
                       const server_row* r = st.find(o.address());
                       return r && r->idle <= 2 && r->trimmed + 2 >= peak;
                   },
                   5s, 200ms),
               st.text);
    BOOST_TEST_MESSAGE("bulwark -s status:\n" << st.text);

    // The pool still works afterwards.
    auto again = get_once(bw.port(), "/who");
    BOOST_TEST(again.status == 200, again.error);
}

BOOST_AUTO_TEST_CASE(an_explicit_keepalive_caps_the_idle_connections) {
    origin o("a");
    bulwark_process bw;
    bw.start(upstream_with({o.address()}, 1, "keepalive = 4\n"));

    auto c = burst(bw.port(), 16, 2s);
    BOOST_TEST(c.failed == 0u, c.summary());
    // 16 concurrent requests with room for 4 idle connections: the others are closed after their response.
    BOOST_TEST(o.connections() > 16u, "only " << o.connections() << " origin connections: no cap applied");
    BOOST_TEST(wait_until([&] { return o.open_connections() <= 4; }, 2s, 50ms),
               o.open_connections() << " origin connections open with keepalive = 4");
    auto st = settled_status(bw, o);
    const server_row* r = st.find(o.address());
    BOOST_TEST_REQUIRE(r != nullptr, st.text);
    BOOST_TEST(r->idle <= 4u, st.text);
    BOOST_TEST(r->opened == o.connections(), st.text);
}

// A reload that lowers keepalive applies to the connections already idle, within a housekeeping second
// or two, not only to those that come back later.
BOOST_AUTO_TEST_CASE(a_reload_lowering_keepalive_closes_the_surplus) {
    origin o("a");
    bulwark_process bw;
    config_options opt = upstream_with({o.address()}, 1, "");
    bw.start(opt);
    auto c = burst(bw.port(), 16, 1s);
    BOOST_TEST(c.failed == 0u, c.summary());
    BOOST_TEST_REQUIRE(o.open_connections() >= 8u, "the burst left " << o.open_connections() << " connections");

    opt.tail = "keepalive = 2\n";
    bw.write_config(bw.config(opt));
    auto r = bw.run({"-c", bw.config_path(), "-s", "reload"}, 30s);
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.out << r.err);
    BOOST_TEST(wait_until([&] { return o.open_connections() <= 2; }, 3s, 50ms),
               o.open_connections() << " origin connections open after reloading with keepalive = 2");
    auto again = get_once(bw.port(), "/who");
    BOOST_TEST(again.status == 200, again.error);
}

BOOST_AUTO_TEST_SUITE_END()
