// shared/balancers: each balance method against real origins, counting which origin answered; least_conn
// and max_conns are measured with requests in flight at the origins, across two workers.
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "shared/shared_fixture.hpp"

using namespace bulwark::test;
using namespace bulwark::test::shared;

BOOST_AUTO_TEST_SUITE(shared_balancing)

BOOST_AUTO_TEST_CASE(round_robin_splits_by_weight_smoothly_and_across_workers) {
    origin a("a");
    origin b("b");
    bulwark_process bw;
    bw.start(upstream_with({a.address() + " weight=3", b.address() + " weight=1"}, 2, "balance = round_robin\n"));

    // One keep-alive connection is one worker: exactly 3:1, interleaved (a a b a), never 4 a's in a row.
    std::string order;
    {
        http_client c(bw.port());
        for (int i = 0; i < 40; ++i) {
            auto r = c.get("/who");
            BOOST_TEST_REQUIRE(r.status == 200);
            order += r.body;
        }
    }
    BOOST_TEST(std::count(order.begin(), order.end(), 'a') == 30);
    BOOST_TEST(std::count(order.begin(), order.end(), 'b') == 10);
    BOOST_TEST(order.find("aaaa") == std::string::npos, "not smooth: " << order);

    // New connections land on either worker; each worker is smooth on its own, so the sum stays close.
    std::map<std::string, int> served;
    for (int i = 0; i < 80; ++i) {
        auto o = get_once(bw.port(), "/who");
        BOOST_TEST_REQUIRE(o.status == 200, o.error);
        ++served[o.body];
    }
    BOOST_TEST(served["a"] >= 56);
    BOOST_TEST(served["a"] <= 64);
    BOOST_TEST(served["a"] + served["b"] == 80);
}

BOOST_AUTO_TEST_CASE(least_conn_keeps_active_requests_within_one_across_two_workers) {
    origin a("a");
    origin b("b");
    bulwark_process bw;
    bw.start(upstream_with(servers_of({&a, &b}), 2, "balance = least_conn\n"));

    constexpr int per_round = 6;
    for (int round = 0; round < 3; ++round) {
        BOOST_TEST_CONTEXT("round " << round) {
            BOOST_TEST_REQUIRE(wait_until([&] { return a.in_flight() + b.in_flight() == 0; }, 3s));
            a.reset_max_in_flight();
            b.reset_max_in_flight();
            std::vector<outcome> results(per_round);
            std::vector<std::thread> threads;
            // Started 25 ms apart on fresh connections (either worker): each pick sees the earlier ones.
            for (int i = 0; i < per_round; ++i) {
                threads.emplace_back([&, i] { results[i] = get_once(bw.port(), "/slow/900"); });
                std::this_thread::sleep_for(25ms);
            }
            bool all_in = wait_until([&] { return a.in_flight() + b.in_flight() == per_round; }, 700ms, 5ms);
            std::size_t in_a = a.in_flight(), in_b = b.in_flight();
            status_table st = read_status(bw);  // the shared gauges, while the requests are still in flight
            for (auto& t : threads) t.join();

            BOOST_TEST(all_in, "in flight: a " << a.in_flight() << ", b " << b.in_flight());
            BOOST_TEST(in_a == 3u);
            BOOST_TEST(in_b == 3u);
            BOOST_TEST(a.max_in_flight() <= 3u);
            BOOST_TEST(b.max_in_flight() <= 3u);
            const server_row* ra = st.find(a.address());
            const server_row* rb = st.find(b.address());
            BOOST_TEST_REQUIRE((ra && rb), st.text);
            BOOST_TEST(ra->active + rb->active == static_cast<std::uint64_t>(per_round), st.text);
            BOOST_TEST(std::llabs(static_cast<long long>(ra->active) - static_cast<long long>(rb->active)) <= 1,
                       st.text);
            for (const auto& r : results) BOOST_TEST(r.status == 200, r.error);
        }
    }
}

BOOST_AUTO_TEST_CASE(ip_hash_sends_each_client_address_to_one_server) {
    origin a("a");
    origin b("b");
    bulwark_process bw;
    bw.start(upstream_with(servers_of({&a, &b}), 2, "balance = ip_hash\n"));

    std::map<std::string, std::set<std::string>> servers_of_client;
    std::set<std::string> used;
    for (int host = 2; host < 18; ++host) {
        const std::string ip = "127.0.0." + std::to_string(host);
        for (int i = 0; i < 4; ++i) {  // fresh connections: either worker
            auto o = get_once(bw.port(), "/who", ip);
            BOOST_TEST_REQUIRE(o.status == 200, ip << ": " << o.error);
            servers_of_client[ip].insert(o.body);
            used.insert(o.body);
        }
    }
    for (const auto& [ip, s] : servers_of_client)
        BOOST_TEST(s.size() == 1u, ip << " went to " << s.size() << " servers");
    BOOST_TEST(used.size() == 2u, "16 client addresses all hashed to one server");
}

BOOST_AUTO_TEST_CASE(hash_on_uri_keeps_each_uri_on_one_server_and_moves_only_a_failed_servers_uris) {
    origin a("a");
    origin b("b");
    auto c = std::make_unique<origin>("c");
    bulwark_process bw;
    // keepalive = 0: a pooled connection to the stopped server is passive_health's case, not this one.
    bw.start(upstream_with(servers_of({&a, &b, c.get()}), 2,
                           "balance = hash\nhash_key = uri\nkeepalive = 0\nmax_fails = 1\nfail_timeout = 30s\n"));

    // /who?k=N: the origin answers /who whatever the query, and the hash covers the whole target.
    std::map<int, std::string> home;
    std::set<std::string> used;
    for (int k = 0; k < 24; ++k) {
        std::set<std::string> seen;
        for (int i = 0; i < 3; ++i) {
            auto o = get_once(bw.port(), "/who?k=" + std::to_string(k));
            BOOST_TEST_REQUIRE(o.status == 200, o.error);
            seen.insert(o.body);
        }
        BOOST_TEST(seen.size() == 1u, "uri " << k << " went to " << seen.size() << " servers");
        home[k] = *seen.begin();
        used.insert(*seen.begin());
    }
    BOOST_TEST(used.size() >= 2u, "24 uris all hashed to one server");

    // c goes away: its uris move (the first one marks it down), every other uri keeps its server.
    c->stop();
    int moved = 0;
    for (int k = 0; k < 24; ++k) {
        auto o = get_once(bw.port(), "/who?k=" + std::to_string(k));
        BOOST_TEST_REQUIRE(o.status == 200,
                           "uri " << k << ": " << o.status << " " << o.error << "\n" << bw.error_log());
        if (home[k] == "c") {
            BOOST_TEST(o.body != "c");
            ++moved;
        } else {
            BOOST_TEST(o.body == home[k], "uri " << k << " moved from " << home[k] << " to " << o.body);
        }
    }
    BOOST_TEST_MESSAGE("hash: " << moved << " of 24 uris were on the stopped server");
}

BOOST_AUTO_TEST_CASE(random_two_spreads_requests_over_both_servers) {
    origin a("a");
    origin b("b");
    bulwark_process bw;
    bw.start(upstream_with(servers_of({&a, &b}), 2, "balance = random_two\n"));

    std::map<std::string, int> served;
    for (int conn = 0; conn < 10; ++conn) {
        http_client c(bw.port());
        for (int i = 0; i < 20; ++i) {
            auto r = c.get("/who");
            BOOST_TEST_REQUIRE(r.status == 200);
            ++served[r.body];
        }
    }
    BOOST_TEST(served["a"] + served["b"] == 200);
    BOOST_TEST(served["a"] >= 50, "a served " << served["a"] << " of 200");
    BOOST_TEST(served["b"] >= 50, "b served " << served["b"] << " of 200");
}

BOOST_AUTO_TEST_CASE(backup_serves_only_while_every_primary_is_down) {
    auto a = std::make_unique<origin>("a");
    auto b = std::make_unique<origin>("b");
    origin c("c");
    const auto port_a = a->port(), port_b = b->port();
    bulwark_process bw;
    // keepalive = 0: no pooled connection to a stopped primary (that case is passive_health's).
    bw.start(upstream_with({a->address(), b->address(), c.address() + " backup"}, 2,
                           "keepalive = 0\nmax_fails = 1\nfail_timeout = 1s\n"));

    std::map<std::string, int> served;
    for (int i = 0; i < 20; ++i) {
        auto o = get_once(bw.port(), "/who");
        BOOST_TEST_REQUIRE(o.status == 200, o.error);
        ++served[o.body];
    }
    BOOST_TEST(served["c"] == 0);
    BOOST_TEST(c.requests() == 0u);

    // Both primaries go away: the backup takes over (the first request finds them refusing).
    a->stop();
    b->stop();
    for (int i = 0; i < 20; ++i) {
        auto o = get_once(bw.port(), "/who");
        BOOST_TEST_REQUIRE(o.status == 200, "request " << i << ": " << o.error << "\n" << bw.diagnostics());
        BOOST_TEST(o.body == "c");
    }

    // They come back on their addresses; after fail_timeout they are tried again and the backup idles.
    a = std::make_unique<origin>("a", port_a);
    b = std::make_unique<origin>("b", port_b);
    std::this_thread::sleep_for(1200ms);
    const std::size_t backup_before = c.requests();
    served.clear();
    for (int i = 0; i < 20; ++i) {
        auto o = get_once(bw.port(), "/who");
        BOOST_TEST_REQUIRE(o.status == 200, o.error);
        ++served[o.body];
    }
    BOOST_TEST(served["c"] == 0);
    BOOST_TEST(c.requests() == backup_before);
    BOOST_TEST(served["a"] > 0);
    BOOST_TEST(served["b"] > 0);
}

BOOST_AUTO_TEST_CASE(max_conns_one_never_sees_two_concurrent_requests) {
    origin a("a");
    origin b("b");
    bulwark_process bw;
    bw.start(upstream_with({a.address() + " max_conns=1", b.address()}, 2, "balance = round_robin\n"));

    std::size_t failures = 0;
    for (int round = 0; round < 3; ++round) {
        std::vector<outcome> results(6);
        // Released together on fresh connections, so both workers pick at the same moment.
        run_together(results.size(), [&](std::size_t i) { results[i] = get_once(bw.port(), "/slow/300"); });
        for (const auto& r : results) failures += r.status != 200;
    }
    BOOST_TEST(failures == 0u);
    BOOST_TEST(a.max_in_flight() == 1u, "a (max_conns=1) had " << a.max_in_flight() << " requests at once");
    BOOST_TEST(a.requests() >= 1u);
    BOOST_TEST(b.requests() + a.requests() == 18u);
}

BOOST_AUTO_TEST_SUITE_END()
