// proxy/balancer: smooth weighted round-robin gives every server exactly its share of each cycle,
// spread out rather than in bursts, and skips the servers a retry already tried.
#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

#include "proxy/balancer.hpp"

namespace proxy = bulwark::proxy;

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
