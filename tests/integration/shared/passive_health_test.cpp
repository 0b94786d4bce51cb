// shared/passive_health: max_fails within fail_timeout takes a refusing server out for every worker at
// once (connect attempts counted in the error log, and by an origin that appears on the closed port),
// a one-server upstream is never taken out, and an upstream with every server down answers 503 at once.
#include <boost/test/unit_test.hpp>

#include <map>
#include <string>

#include "harness/ports.hpp"
#include "shared/shared_fixture.hpp"

using namespace bulwark::test;
using namespace bulwark::test::shared;

BOOST_AUTO_TEST_SUITE(shared_passive_health)

BOOST_AUTO_TEST_CASE(max_fails_takes_a_refusing_server_out_for_fail_timeout_then_it_is_retried) {
    origin a("a");
    const std::uint16_t closed = free_port();  // nothing listens here (yet)
    const std::string b_addr = "127.0.0.1:" + std::to_string(closed);
    bulwark_process bw;
    bw.start(upstream_with({a.address(), b_addr}, 2, "max_fails = 2\nfail_timeout = 2s\n"));
    const std::string refused_line = "upstream server " + b_addr + ": connect failed";
    const std::string down_line = "server " + b_addr + " is down";

    // Fresh connections spread over both workers; a refused connect moves on to a, so clients see 200.
    steady::time_point down_at{};
    for (int i = 0; i < 20 && down_at == steady::time_point{}; ++i) {
        auto o = get_once(bw.port(), "/who");
        BOOST_TEST_REQUIRE(o.status == 200, o.error);
        BOOST_TEST(o.body == "a");
        if (count_lines(bw.error_log(), {down_line}) > 0) down_at = steady::now();
    }
    BOOST_TEST_REQUIRE((down_at != steady::time_point{}), "never marked down\n" << bw.diagnostics());
    // Failures are counted across workers: two refused connects in all, not two per worker.
    BOOST_TEST(count_lines(bw.error_log(), {refused_line}) == 2u, bw.error_log());

    // The server comes back at once, but stays out until fail_timeout has passed: no connect at all.
    origin b("b", closed);
    int during = 0;
    while (ms_since(down_at) < 1500) {
        auto o = get_once(bw.port(), "/who");
        BOOST_TEST(o.status == 200, o.error);
        BOOST_TEST(o.body == "a");
        ++during;
        std::this_thread::sleep_for(30ms);
    }
    BOOST_TEST(during >= 10);
    BOOST_TEST(b.connections() == 0u, "connected to within fail_timeout");
    BOOST_TEST(count_lines(bw.error_log(), {refused_line}) == 2u);
    BOOST_TEST(count_lines(bw.error_log(), {down_line}) == 1u, "state change not logged exactly once\n"
                                                                      << bw.error_log());

    // After fail_timeout the server gets requests again, and its recovery is logged once.
    std::this_thread::sleep_for(std::chrono::milliseconds(std::max(0LL, 2200 - ms_since(down_at))));
    std::map<std::string, int> served;
    for (int i = 0; i < 20; ++i) {
        auto o = get_once(bw.port(), "/who");
        BOOST_TEST_REQUIRE(o.status == 200, o.error);
        ++served[o.body];
    }
    BOOST_TEST(served["b"] >= 5, "b served " << served["b"] << " of 20 after fail_timeout");
    BOOST_TEST(wait_log_line(bw, {"server " + b_addr + " is up"}, 1s));
    BOOST_TEST(count_lines(bw.error_log(), {"server " + b_addr + " is up"}) == 1u);
}

// A server that stops while the proxy holds idle pooled connections to it: the next request finds the
// pooled connection closed, retries on a fresh one, which is refused. The request never reached a
// server, so, as for any refused connect, it must go to another server rather than fail with 502.
BOOST_AUTO_TEST_CASE(a_server_stopping_with_idle_pooled_connections_costs_no_request) {
    origin a("a");
    auto b = std::make_unique<origin>("b");
    bulwark_process bw;
    bw.start(upstream_with(servers_of({&a, b.get()}), 1, "max_fails = 1\nfail_timeout = 30s\n"));
    {
        http_client c(bw.port());
        for (int i = 0; i < 4; ++i) BOOST_TEST_REQUIRE(c.get("/who").status == 200);
    }
    BOOST_TEST_REQUIRE(b->open_connections() == 1u, "no pooled connection to b");
    b->stop();
    for (int i = 0; i < 10; ++i) {
        auto o = get_once(bw.port(), "/who");
        BOOST_TEST(o.status == 200, "request " << i << ": " << o.status << " " << o.error);
        if (o.status == 200) BOOST_TEST(o.body == "a");
    }
    BOOST_TEST(wait_log_line(bw, {"server " + b->address() + " is down"}, 1s), bw.error_log());
}

BOOST_AUTO_TEST_CASE(slow_start_ramps_a_recovered_servers_share_up) {
    origin a("a");
    const std::uint16_t closed = free_port();
    const std::string b_addr = "127.0.0.1:" + std::to_string(closed);
    bulwark_process bw;
    bw.start(upstream_with({a.address(), b_addr}, 1, "max_fails = 1\nfail_timeout = 1s\nslow_start = 4s\n"));

    // b refuses once and is down for a second; then it listens again and the next trial brings it up.
    BOOST_TEST_REQUIRE(get_once(bw.port(), "/who").status == 200);
    BOOST_TEST_REQUIRE(get_once(bw.port(), "/who").status == 200);
    BOOST_TEST_REQUIRE(wait_log_line(bw, {"server " + b_addr + " is down"}, 1s), bw.error_log());
    origin b("b", closed);
    std::this_thread::sleep_for(1100ms);
    http_client c(bw.port());
    steady::time_point up_at{};
    for (int i = 0; i < 10 && up_at == steady::time_point{}; ++i) {
        BOOST_TEST_REQUIRE(c.get("/who").status == 200);
        if (count_lines(bw.error_log(), {"server " + b_addr + " is up"}) > 0) up_at = steady::now();
    }
    BOOST_TEST_REQUIRE((up_at != steady::time_point{}), "b never came back\n" << bw.error_log());

    // Within the first half second of the ramp b weighs a tenth to an eighth of a.
    std::map<std::string, int> early, late;
    while (ms_since(up_at) < 500) {
        auto r = c.get("/who");
        BOOST_TEST_REQUIRE(r.status == 200);
        ++early[r.body];
        std::this_thread::sleep_for(4ms);
    }
    // Once slow_start has passed it has its full weight: half of the requests.
    std::this_thread::sleep_for(std::chrono::milliseconds(std::max(0LL, 4100 - ms_since(up_at))));
    for (int i = 0; i < 60; ++i) {
        auto r = c.get("/who");
        BOOST_TEST_REQUIRE(r.status == 200);
        ++late[r.body];
    }
    const double early_share = static_cast<double>(early["b"]) / (early["a"] + early["b"]);
    BOOST_TEST_MESSAGE("slow_start: b served " << early["b"] << " of " << early["a"] + early["b"]
                                               << " in the first 0.5 s, " << late["b"] << " of 60 after 4 s");
    BOOST_TEST(early["a"] + early["b"] >= 20);
    BOOST_TEST(early_share <= 0.25);
    BOOST_TEST(late["b"] >= 27);
    BOOST_TEST(late["b"] <= 33);
}

BOOST_AUTO_TEST_CASE(a_one_server_upstream_is_never_marked_down) {
    const std::uint16_t closed = free_port();
    const std::string addr = "127.0.0.1:" + std::to_string(closed);
    bulwark_process bw;
    bw.start(upstream_with({addr}, 2, "max_fails = 1\nfail_timeout = 30s\n"));

    for (int i = 0; i < 6; ++i) {
        auto o = get_once(bw.port(), "/who");
        BOOST_TEST(o.status == 502, "request " << i << ": " << o.status << " " << o.error);
    }
    // Every request tried to connect (nothing else to send it to), and the server was never taken out.
    BOOST_TEST(count_lines(bw.error_log(), {"upstream server " + addr + ": connect failed"}) == 6u, bw.error_log());
    BOOST_TEST(count_lines(bw.error_log(), {"is down"}) == 0u, bw.error_log());
}

BOOST_AUTO_TEST_CASE(every_server_refusing_gives_503_at_once_without_a_connect_storm) {
    const std::string a_addr = "127.0.0.1:" + std::to_string(free_port());
    const std::string b_addr = "127.0.0.1:" + std::to_string(free_port());
    bulwark_process bw;
    bw.start(upstream_with({a_addr, b_addr}, 2, "max_fails = 1\nfail_timeout = 30s\n"));

    // The first request finds both refusing: 502, and both are down for every worker.
    auto first = get_once(bw.port(), "/who");
    BOOST_TEST(first.status == 502, first.error);
    const std::size_t connects = count_lines(bw.error_log(), {"upstream server ", ": connect failed"});
    BOOST_TEST(connects == 2u, bw.error_log());

    const auto t0 = steady::now();
    long long slowest = 0;
    int answered_503 = 0;
    for (int i = 0; i < 60; ++i) {
        auto o = get_once(bw.port(), "/who");
        answered_503 += o.status == 503;
        slowest = std::max(slowest, o.took_ms);
    }
    const double elapsed_s = static_cast<double>(ms_since(t0)) / 1000.0;
    BOOST_TEST(answered_503 == 60);
    BOOST_TEST(slowest < 100, "slowest 503 took " << slowest << " ms");
    BOOST_TEST(count_lines(bw.error_log(), {"upstream server ", ": connect failed"}) == connects,
               "connect attempts while all down\n" << bw.error_log());
    // Logged, at most once per second by each worker.
    const std::size_t logged = count_lines(bw.error_log(), {"upstream \"backend\"", "no server available"});
    BOOST_TEST(logged >= 1u);
    BOOST_TEST(logged <= 2 * (static_cast<std::size_t>(elapsed_s) + 2), logged << " lines in " << elapsed_s << " s");
}

BOOST_AUTO_TEST_SUITE_END()
