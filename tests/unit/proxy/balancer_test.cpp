// proxy/balancer: smooth weighted round-robin gives every server exactly its share of each cycle,
// spread out rather than in bursts, and skips the servers a retry already tried. Every balance kind
// obeys the same rules (down, tried, max_conns, backups, ramp), respects weights, and each keeps its own
// promise: least_conn evens active counts, ip_hash is stable, hash remaps minimally, random_two beats
// plain random.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <numeric>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "config/model.hpp"
#include "proxy/balancer.hpp"

#include "balancer_test_util.hpp"


BOOST_AUTO_TEST_SUITE(proxy_balancer)

BOOST_AUTO_TEST_CASE(weights_5_1_1_give_the_nginx_sequence) {
    proxy::round_robin rr({5, 1, 1});
    const std::vector<std::size_t> cycle = {0, 0, 1, 0, 2, 0, 0};  // a a b a c a a
    for (int round = 0; round < 5; ++round) {
        std::vector<std::size_t> got;
        for (std::size_t i = 0; i < cycle.size(); ++i) got.push_back(rr.pick());
        BOOST_TEST(got == cycle, boost::test_tools::per_element());
    }
}

BOOST_AUTO_TEST_CASE(picks_are_exactly_proportional_to_weights) {
    for (const std::vector<unsigned>& weights :
         {std::vector<unsigned>{5, 1, 1}, {3, 1}, {1, 1, 1, 1}, {7, 3, 2, 1, 10}, {1000, 1}, {4}}) {
        proxy::round_robin rr(weights);
        const unsigned sum = std::accumulate(weights.begin(), weights.end(), 0u);
        std::vector<unsigned> counts(weights.size(), 0);
        for (unsigned i = 0; i < 1000 * sum; ++i) {
            std::size_t k = rr.pick();
            BOOST_TEST_REQUIRE(k < weights.size());
            ++counts[k];
        }
        std::vector<unsigned> expected;
        for (unsigned w : weights) expected.push_back(1000 * w);
        BOOST_TEST(counts == expected, boost::test_tools::per_element());
    }
}

BOOST_AUTO_TEST_CASE(every_cycle_of_sum_weights_picks_is_exact) {
    const std::vector<unsigned> weights = {7, 3, 2, 1, 10};
    proxy::round_robin rr(weights);
    const unsigned sum = std::accumulate(weights.begin(), weights.end(), 0u);
    for (int cycle = 0; cycle < 50; ++cycle) {
        std::vector<unsigned> counts(weights.size(), 0);
        for (unsigned i = 0; i < sum; ++i) ++counts[rr.pick()];
        BOOST_TEST(counts == weights, boost::test_tools::per_element());
    }
}

BOOST_AUTO_TEST_CASE(weights_3_1_never_pick_a_server_more_than_3_times_in_a_row) {
    proxy::round_robin rr({3, 1});
    std::size_t last = rr.size();
    int run = 0, longest = 0;
    for (int i = 0; i < 4000; ++i) {
        std::size_t k = rr.pick();
        run = (k == last) ? run + 1 : 1;
        last = k;
        if (run > longest) longest = run;
    }
    BOOST_TEST(longest <= 3);
    BOOST_TEST(longest >= 2);  // weight 3 of 4 cannot alternate perfectly
}

BOOST_AUTO_TEST_CASE(equal_weights_alternate) {
    proxy::round_robin rr({1, 1, 1});
    std::vector<std::size_t> got;
    for (int i = 0; i < 6; ++i) got.push_back(rr.pick());
    const std::vector<std::size_t> expected = {0, 1, 2, 0, 1, 2};
    BOOST_TEST(got == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(tried_mask_excludes_servers) {
    proxy::round_robin rr({5, 1, 1});
    for (int i = 0; i < 100; ++i) {
        std::size_t k = rr.pick(0b001);
        BOOST_TEST((k == 1 || k == 2), "picked " << k);
    }
    for (int i = 0; i < 100; ++i) BOOST_TEST(rr.pick(0b011) == 2u);
    for (int i = 0; i < 100; ++i) {
        std::size_t k = rr.pick(0b100);
        BOOST_TEST((k == 0 || k == 1), "picked " << k);
    }
}

BOOST_AUTO_TEST_CASE(tried_mask_shares_the_rest_by_weight) {
    proxy::round_robin rr({2, 6, 3});
    std::vector<unsigned> counts(3, 0);
    for (int i = 0; i < 900; ++i) ++counts[rr.pick(0b010)];
    BOOST_TEST(counts[1] == 0u);
    BOOST_TEST(counts[0] == 360u);
    BOOST_TEST(counts[2] == 540u);
}

BOOST_AUTO_TEST_CASE(all_excluded_returns_size) {
    proxy::round_robin rr({5, 1, 1});
    BOOST_TEST(rr.size() == 3u);
    BOOST_TEST(rr.pick(0b111) == rr.size());
    BOOST_TEST(rr.pick(~std::uint64_t{0}) == rr.size());
    // An exhausted retry does not disturb the rotation that follows.
    const std::vector<std::size_t> cycle = {0, 0, 1, 0, 2, 0, 0};
    std::vector<std::size_t> got;
    for (std::size_t i = 0; i < cycle.size(); ++i) got.push_back(rr.pick());
    BOOST_TEST(got == cycle, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(empty_balancer_returns_size) {
    proxy::round_robin rr(std::vector<unsigned>{});
    BOOST_TEST(rr.size() == 0u);
    BOOST_TEST(rr.pick() == 0u);
}

BOOST_AUTO_TEST_CASE(servers_past_63_are_never_excluded) {
    proxy::round_robin rr(std::vector<unsigned>(65, 1));
    BOOST_TEST(rr.size() == 65u);
    for (int i = 0; i < 10; ++i) BOOST_TEST(rr.pick(~std::uint64_t{0}) == 64u);
}

BOOST_AUTO_TEST_SUITE_END()


// ---- rules every kind obeys ----

BOOST_AUTO_TEST_SUITE(proxy_balancer_rules)

BOOST_AUTO_TEST_CASE(npos_when_nothing_is_eligible) {
    for (kind k : all_kinds) {
        BOOST_TEST_CONTEXT(name_of(k)) {
            auto empty = make(k, {});
            BOOST_TEST(empty->pick({}) == npos);
            auto b = make(k, specs_of({3, 1, 2}));
            std::vector<proxy::server_live> live(3);
            for (auto& l : live) l.up = false;
            for (std::uint64_t h = 0; h < 50; ++h) BOOST_TEST(b->pick({live, 0, h, h}) == npos);
            live.assign(3, {});
            BOOST_TEST(b->pick({live, 0b111, 7, 7}) == npos);
            BOOST_TEST(b->pick({live, ~std::uint64_t{0}, 7, 7}) == npos);
            // Down, tried and full at once.
            auto full = specs_of({1, 1, 1});
            full[2].max_conns = 4;
            auto c = make(k, full);
            live[0].up = false;
            live[2].active = 4;
            BOOST_TEST(c->pick({live, 0b010, 9, 9}) == npos);
        }
    }
}

BOOST_AUTO_TEST_CASE(down_servers_are_never_picked) {
    for (kind k : all_kinds) {
        BOOST_TEST_CONTEXT(name_of(k)) {
            auto b = make(k, specs_of({1, 5, 1, 2}));
            std::vector<proxy::server_live> live(4);
            live[1].up = false;
            live[3].up = false;
            const auto counts = simulate(*b, live, 2000);
            BOOST_TEST(counts[1] == 0u);
            BOOST_TEST(counts[3] == 0u);
            BOOST_TEST(counts[0] > 500u);
            BOOST_TEST(counts[2] > 500u);
        }
    }
}

BOOST_AUTO_TEST_CASE(tried_mask_excludes_servers) {
    for (kind k : all_kinds) {
        BOOST_TEST_CONTEXT(name_of(k)) {
            auto b = make(k, specs_of({5, 1, 1}));
            const std::vector<proxy::server_live> live(3);
            std::mt19937_64 rng(3);
            std::vector<unsigned> counts(3, 0);
            for (int i = 0; i < 3000; ++i) {
                const std::size_t got = b->pick({live, 0b001, rng(), rng()});
                BOOST_TEST_REQUIRE(got < 3u);
                ++counts[got];
            }
            BOOST_TEST(counts[0] == 0u);
            BOOST_TEST(counts[1] > 1000u);
            BOOST_TEST(counts[2] > 1000u);
            for (int i = 0; i < 100; ++i) BOOST_TEST(b->pick({live, 0b011, rng(), rng()}) == 2u);
        }
    }
}

BOOST_AUTO_TEST_CASE(servers_at_max_conns_are_skipped) {
    for (kind k : all_kinds) {
        BOOST_TEST_CONTEXT(name_of(k)) {
            auto specs = specs_of({10, 1});
            specs[0].max_conns = 3;
            auto b = make(k, specs);
            std::vector<proxy::server_live> live(2);
            std::mt19937_64 rng(4);
            live[0].active = 3;
            for (int i = 0; i < 200; ++i) BOOST_TEST(b->pick({live, 0, rng(), rng()}) == 1u);
            live[0].active = 7;  // over the limit (the gauge is global and racy): still skipped
            for (int i = 0; i < 200; ++i) BOOST_TEST(b->pick({live, 0, rng(), rng()}) == 1u);
            live[0].active = 2;
            live[1].active = 100;  // so that least_conn and random_two prefer server 0
            unsigned first = 0;
            for (int i = 0; i < 200; ++i) first += b->pick({live, 0, rng(), rng()}) == 0u;
            BOOST_TEST(first > 0u);
            // Under steady load server 0 never carries more than 3 requests at once.
            std::deque<std::size_t> in_flight;
            live.assign(2, {});
            for (int i = 0; i < 5000; ++i) {
                if (in_flight.size() >= 8) {
                    --live[in_flight.front()].active;
                    in_flight.pop_front();
                }
                const std::size_t got = b->pick({live, 0, rng(), rng()});
                BOOST_TEST_REQUIRE(got < 2u);
                ++live[got].active;
                in_flight.push_back(got);
                BOOST_TEST_REQUIRE(live[0].active <= 3u);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(backups_serve_only_when_no_primary_is_up) {
    for (kind k : all_kinds) {
        BOOST_TEST_CONTEXT(name_of(k)) {
            auto specs = specs_of({1, 1, 1, 1});
            specs[2].backup = true;
            specs[3].backup = true;
            specs[0].max_conns = 5;
            auto b = make(k, specs);
            std::vector<proxy::server_live> live(4);
            auto counts = simulate(*b, live, 2000);
            BOOST_TEST(counts[2] + counts[3] == 0u);
            BOOST_TEST(counts[0] > 0u);
            BOOST_TEST(counts[1] > 0u);

            live[0].up = false;  // one primary left
            counts = simulate(*b, live, 2000);
            BOOST_TEST(counts[1] == 2000u);

            live[1].up = false;  // none: the backups share the load
            counts = simulate(*b, live, 2000);
            BOOST_TEST(counts[0] + counts[1] == 0u);
            BOOST_TEST(counts[2] > 500u);
            BOOST_TEST(counts[3] > 500u);

            live[3].up = false;
            counts = simulate(*b, live, 500);
            BOOST_TEST(counts[2] == 500u);
            live[2].up = false;
            BOOST_TEST(b->pick({live, 0, 1, 1}) == npos);

            // A primary that is up but tried or full does not hand its traffic to the backups.
            live.assign(4, {});
            live[1].up = false;
            BOOST_TEST(b->pick({live, 0b0001, 1, 1}) == npos);
            live[0].active = 5;
            BOOST_TEST(b->pick({live, 0, 1, 1}) == npos);
            // Tried backups are excluded like tried primaries.
            live.assign(4, {});
            live[0].up = live[1].up = false;
            for (std::uint64_t h = 0; h < 100; ++h) BOOST_TEST(b->pick({live, 0b0100, h, h}) == 3u);
        }
    }
}

BOOST_AUTO_TEST_CASE(missing_live_state_means_up_and_idle) {
    for (kind k : all_kinds) {
        BOOST_TEST_CONTEXT(name_of(k)) {
            auto b = make(k, specs_of({1, 1, 1}));
            std::vector<unsigned> counts(3, 0);
            for (std::uint64_t i = 0; i < 3000; ++i) {
                const std::size_t got = b->pick({{}, 0, proxy::hash_mix(i), proxy::hash_mix(~i)});
                BOOST_TEST_REQUIRE(got < 3u);
                ++counts[got];
            }
            for (unsigned c : counts) BOOST_TEST(c > 500u);
            // A short span: server 2 has no entry and counts as up.
            std::vector<proxy::server_live> live(2);
            live[0].up = live[1].up = false;
            BOOST_TEST(b->pick({live, 0, 5, 5}) == 2u);
        }
    }
}

BOOST_AUTO_TEST_CASE(weights_are_respected_under_load) {
    for (const std::vector<unsigned>& weights :
         {std::vector<unsigned>{1, 1, 1}, {3, 1}, {5, 1, 1}, {4, 2, 1, 1}, {10, 1, 3, 6}}) {
        for (kind k : all_kinds) {
            BOOST_TEST_CONTEXT(name_of(k) << " weights " << weights.size() << " first " << weights[0]) {
                auto b = make(k, specs_of(weights));
                const auto counts = simulate(*b, std::vector<proxy::server_live>(weights.size()), 10000);
                // A ring of 160 points per unit of weight leaves each server's share about 1/sqrt(160), 8%
                // of itself, off its weight (ketama's known spread); the other kinds are exact or nearly.
                check_shares(counts, {weights.begin(), weights.end()}, k == kind::hash ? 0.05 : 0.02, k);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(ramp_halves_a_servers_weight) {
    for (kind k : all_kinds) {
        BOOST_TEST_CONTEXT(name_of(k)) {
            auto b = make(k, specs_of({2, 2, 2, 2}));
            std::vector<proxy::server_live> live(4);
            live[1].ramp = 0.5;
            const auto counts = simulate(*b, live, 20000);
            // By weight, server 1 gets 1/7 (weights 2,1,2,2). The hash ring instead keeps half of server 1's
            // keys and spreads the rest over its neighbours: 1/8.
            const double want = k == kind::hash ? 1.0 / 8 : 1.0 / 7;
            const double share = counts[1] / 20000.0;
            BOOST_TEST(std::abs(share - want) < 0.02, "share " << share << " want " << want);
            for (std::size_t i : {0u, 2u, 3u}) BOOST_TEST(counts[i] > counts[1] * 3 / 2);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_tiny_ramp_still_gets_some_traffic) {
    for (kind k : all_kinds) {
        BOOST_TEST_CONTEXT(name_of(k)) {
            auto b = make(k, specs_of({1, 1}));
            std::vector<proxy::server_live> live(2);
            live[1].ramp = 0.0001;  // rounds to weight 1 of 100
            live[0].up = false;
            BOOST_TEST(b->pick({live, 0, 42, 42}) == 1u);  // a ramping server alone takes everything
            live[0].up = true;
            const auto counts = simulate(*b, live, 20000);
            BOOST_TEST(counts[1] < 400u);
            if (k != kind::hash && k != kind::ip_hash) BOOST_TEST(counts[1] > 50u);  // weight 1 of 101
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()

// ---- round_robin ----

BOOST_AUTO_TEST_SUITE(proxy_balancer_round_robin)

BOOST_AUTO_TEST_CASE(gives_the_nginx_sequence) {
    auto b = make(kind::round_robin, specs_of({5, 1, 1}));
    const std::vector<std::size_t> cycle = {0, 0, 1, 0, 2, 0, 0};
    for (int round = 0; round < 5; ++round) {
        std::vector<std::size_t> got;
        for (std::size_t i = 0; i < cycle.size(); ++i) got.push_back(b->pick({}));
        BOOST_TEST(got == cycle, boost::test_tools::per_element());
    }
}

BOOST_AUTO_TEST_CASE(every_cycle_is_exact_and_matches_the_old_class) {
    const std::vector<unsigned> weights = {7, 3, 2, 1, 10};
    auto b = make(kind::round_robin, specs_of(weights));
    proxy::round_robin old(weights);
    const std::vector<proxy::server_live> live(weights.size());
    const unsigned sum = std::accumulate(weights.begin(), weights.end(), 0u);
    for (int cycle = 0; cycle < 50; ++cycle) {
        std::vector<unsigned> counts(weights.size(), 0);
        for (unsigned i = 0; i < sum; ++i) {
            const std::size_t got = b->pick({live});
            BOOST_TEST_REQUIRE(got == old.pick());
            ++counts[got];
        }
        BOOST_TEST(counts == weights, boost::test_tools::per_element());
    }
}

BOOST_AUTO_TEST_CASE(a_ramp_scales_the_cycle_exactly) {
    auto b = make(kind::round_robin, specs_of({1, 1}));
    std::vector<proxy::server_live> live(2);
    live[1].ramp = 0.25;  // weights 100 and 25: 4 to 1
    std::vector<unsigned> counts(2, 0);
    for (int i = 0; i < 500; ++i) ++counts[b->pick({live})];
    BOOST_TEST(counts[0] == 400u);
    BOOST_TEST(counts[1] == 100u);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- least_conn ----

BOOST_AUTO_TEST_SUITE(proxy_balancer_least_conn)

BOOST_AUTO_TEST_CASE(picks_the_lowest_active_per_weight) {
    auto b = make(kind::least_conn, specs_of({1, 2, 1}));
    std::vector<proxy::server_live> live(3);
    live[0].active = 3;
    live[1].active = 5;  // 2.5 per unit of weight
    live[2].active = 4;
    for (int i = 0; i < 10; ++i) BOOST_TEST(b->pick({live}) == 1u);
    live[1].active = 6;  // 3 per unit, tied with server 0: the higher weight wins
    for (int i = 0; i < 10; ++i) BOOST_TEST(b->pick({live}) == 1u);
    live[1].active = 7;
    for (int i = 0; i < 10; ++i) BOOST_TEST(b->pick({live}) == 0u);
    live[1].ramp = 0.5;  // weight 1: 7 per unit
    live[0].active = 8;
    for (int i = 0; i < 10; ++i) BOOST_TEST(b->pick({live}) == 2u);
}

BOOST_AUTO_TEST_CASE(equal_servers_alternate) {
    auto b = make(kind::least_conn, specs_of({1, 1, 1}));
    const std::vector<proxy::server_live> live(3);  // nothing completes or starts: all stay tied
    std::vector<std::size_t> got;
    for (int i = 0; i < 6; ++i) got.push_back(b->pick({live}));
    const std::vector<std::size_t> expected = {0, 1, 2, 0, 1, 2};
    BOOST_TEST(got == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(keeps_active_counts_within_one) {
    auto b = make(kind::least_conn, specs_of({1, 1, 1, 1, 1}));
    std::vector<proxy::server_live> live(5);
    std::vector<std::size_t> in_flight;
    std::mt19937_64 rng(5);
    const auto spread = [&] {
        auto [lo, hi] = std::minmax_element(live.begin(), live.end(),
                                            [](const auto& a, const auto& c) { return a.active < c.active; });
        return hi->active - lo->active;
    };
    for (int i = 0; i < 40; ++i) {
        const std::size_t got = b->pick({live});
        ++live[got].active;
        in_flight.push_back(got);
        BOOST_TEST_REQUIRE(spread() <= 1u);
    }
    // Rounds of random completions, each followed by as many new requests.
    for (int round = 0; round < 2000; ++round) {
        const std::size_t done = 1 + rng() % 6;
        for (std::size_t d = 0; d < done; ++d) {
            const std::size_t at = rng() % in_flight.size();
            --live[in_flight[at]].active;
            in_flight.erase(in_flight.begin() + static_cast<std::ptrdiff_t>(at));
        }
        for (std::size_t d = 0; d < done; ++d) {
            const std::size_t got = b->pick({live});
            BOOST_TEST_REQUIRE(got < 5u);
            ++live[got].active;
            in_flight.push_back(got);
        }
        BOOST_TEST_REQUIRE(spread() <= 1u, "round " << round);
    }
}

BOOST_AUTO_TEST_CASE(active_counts_follow_the_weights) {
    auto b = make(kind::least_conn, specs_of({3, 1, 2}));
    std::vector<proxy::server_live> live(3);
    for (int i = 0; i < 60; ++i) ++live[b->pick({live})].active;
    BOOST_TEST(live[0].active == 30u);
    BOOST_TEST(live[1].active == 10u);
    BOOST_TEST(live[2].active == 20u);
}

BOOST_AUTO_TEST_SUITE_END()