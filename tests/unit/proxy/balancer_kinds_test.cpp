// proxy/balancer: the promises of the hashing kinds and of random_two: ip_hash is stable, hash
// (consistent hashing) remaps minimally when servers come and go, random_two beats plain random.
#include <boost/test/unit_test.hpp>

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


// ---- ip_hash ----

BOOST_AUTO_TEST_SUITE(proxy_balancer_ip_hash)

BOOST_AUTO_TEST_CASE(a_hash_maps_to_the_same_server_every_time) {
    auto b = make(kind::ip_hash, specs_of({1, 2, 3, 1}));
    auto twin = make(kind::ip_hash, specs_of({1, 2, 3, 1}));
    const std::vector<proxy::server_live> live(4);
    std::mt19937_64 rng(6);
    for (int i = 0; i < 1000; ++i) {
        const std::uint64_t h = rng();
        const std::size_t first = b->pick({live, 0, h, rng()});
        for (int again = 0; again < 3; ++again) BOOST_TEST_REQUIRE(b->pick({live, 0, h, rng()}) == first);
        BOOST_TEST_REQUIRE(twin->pick({live, 0, h, 0}) == first);  // other workers agree
    }
    // The hash of a client address, as the proxy computes it.
    const std::uint64_t client = proxy::hash_bytes("192.0.2.17");
    const std::size_t server = b->pick({live, 0, client});
    for (int i = 0; i < 10; ++i) BOOST_TEST(b->pick({live, 0, client}) == server);
}

BOOST_AUTO_TEST_CASE(a_down_server_moves_only_its_own_clients) {
    auto b = make(kind::ip_hash, specs_of({1, 1, 1, 1, 1}));
    std::vector<proxy::server_live> live(5);
    std::vector<std::size_t> before;
    for (std::uint64_t c = 0; c < 5000; ++c) before.push_back(b->pick({live, 0, proxy::hash_bytes(std::to_string(c))}));
    live[2].up = false;
    std::vector<unsigned> moved_to(5, 0);
    for (std::uint64_t c = 0; c < 5000; ++c) {
        const std::size_t now = b->pick({live, 0, proxy::hash_bytes(std::to_string(c))});
        BOOST_TEST_REQUIRE(now != 2u);
        if (before[c] != 2u) BOOST_TEST_REQUIRE(now == before[c]);
        else ++moved_to[now];
        // Deterministic: asking again gives the same fallback.
        BOOST_TEST_REQUIRE(b->pick({live, 0, proxy::hash_bytes(std::to_string(c))}) == now);
    }
    // The displaced clients spread over the others rather than piling onto one neighbour.
    for (std::size_t i : {0u, 1u, 3u, 4u}) BOOST_TEST(moved_to[i] > 150u);
    live[2].up = true;
    for (std::uint64_t c = 0; c < 5000; ++c)
        BOOST_TEST_REQUIRE(b->pick({live, 0, proxy::hash_bytes(std::to_string(c))}) == before[c]);
}

BOOST_AUTO_TEST_CASE(finds_the_last_eligible_server_of_many) {
    auto b = make(kind::ip_hash, specs_of(std::vector<unsigned>(40, 1)));
    std::vector<proxy::server_live> live(40);
    for (auto& l : live) l.up = false;
    live[33].up = true;
    for (std::uint64_t h = 0; h < 200; ++h) BOOST_TEST_REQUIRE(b->pick({live, 0, h}) == 33u);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- hash (consistent) ----

BOOST_AUTO_TEST_SUITE(proxy_balancer_hash)

namespace {

/// Which server key each of `keys` request keys maps to, over servers 0..n-1 minus `without`.
std::vector<std::string_view> assign(std::size_t n, std::size_t without, std::size_t keys,
                                     std::span<const proxy::server_live> live = {}) {
    std::vector<proxy::server_spec> specs;
    for (std::size_t i = 0; i < n; ++i)
        if (i != without) specs.push_back({1, 0, false, key_of(i)});
    auto b = make(kind::hash, specs);
    std::vector<std::string_view> owner;
    for (std::size_t k = 0; k < keys; ++k) {
        const std::size_t got = b->pick({live, 0, proxy::hash_bytes("/item/" + std::to_string(k))});
        BOOST_TEST_REQUIRE(got < specs.size());
        owner.push_back(specs[got].key);
    }
    return owner;
}

}  // namespace

BOOST_AUTO_TEST_CASE(removing_a_server_moves_only_its_keys) {
    const auto all = assign(10, npos, 10000);
    const auto nine = assign(10, 4, 10000);
    unsigned moved = 0;
    for (std::size_t k = 0; k < all.size(); ++k) {
        if (all[k] == nine[k]) continue;
        ++moved;
        BOOST_TEST_REQUIRE(all[k] == key_of(4));
    }
    BOOST_TEST(moved == static_cast<unsigned>(std::count(all.begin(), all.end(), key_of(4))));
    BOOST_TEST(moved > 700u);
    BOOST_TEST(moved < 1300u);
    // A server that is down rather than removed gives the same mapping.
    std::vector<proxy::server_live> live(10);
    live[4].up = false;
    BOOST_TEST(assign(10, npos, 10000, live) == nine, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(adding_a_server_moves_only_the_keys_it_takes) {
    const auto ten = assign(10, npos, 10000);
    const auto eleven = assign(11, npos, 10000);
    unsigned moved = 0;
    for (std::size_t k = 0; k < ten.size(); ++k) {
        if (ten[k] == eleven[k]) continue;
        ++moved;
        BOOST_TEST_REQUIRE(eleven[k] == key_of(10));
    }
    BOOST_TEST(moved > 10000u / 11 * 7 / 10);
    BOOST_TEST(moved < 10000u / 11 * 13 / 10);
}

BOOST_AUTO_TEST_CASE(the_mapping_does_not_depend_on_server_order) {
    std::vector<proxy::server_spec> specs = specs_of({1, 2, 1, 3});
    auto b = make(kind::hash, specs);
    std::reverse(specs.begin(), specs.end());
    auto reversed = make(kind::hash, specs);
    for (std::uint64_t k = 0; k < 2000; ++k) {
        const std::uint64_t h = proxy::hash_mix(k);
        BOOST_TEST_REQUIRE(b->pick({{}, 0, h}) == 3 - reversed->pick({{}, 0, h}));
    }
}

BOOST_AUTO_TEST_CASE(huge_weights_still_build_a_bounded_ring) {
    auto b = make(kind::hash, specs_of({1000, 1000, 1000, 1}));
    const auto counts = simulate(*b, std::vector<proxy::server_live>(4), 10000);
    check_shares(counts, {1000, 1000, 1000, 1}, 0.03, kind::hash);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- random_two ----

BOOST_AUTO_TEST_SUITE(proxy_balancer_random_two)

BOOST_AUTO_TEST_CASE(the_two_candidates_differ) {
    // With two servers both are always compared, so the lighter one always wins.
    auto b = make(kind::random_two, specs_of({5, 1}));
    std::vector<proxy::server_live> live(2);
    live[0].active = 11;  // 2.2 per unit of weight against 2
    live[1].active = 2;
    std::mt19937_64 rng(7);
    for (int i = 0; i < 1000; ++i) BOOST_TEST_REQUIRE(b->pick({live, 0, 0, rng()}) == 1u);
    live[0].active = 9;
    for (int i = 0; i < 1000; ++i) BOOST_TEST_REQUIRE(b->pick({live, 0, 0, rng()}) == 0u);
}

BOOST_AUTO_TEST_CASE(spreads_load_better_than_random) {
    // 10 equal servers; each step 10 requests arrive and every request in flight ends with
    // probability 1/20: about 200 in flight, 20 per server.
    constexpr std::size_t servers = 10;
    auto b = make(kind::random_two, specs_of(std::vector<unsigned>(servers, 1)));
    const auto run = [&](bool two) {
        std::mt19937_64 rng(8);
        std::vector<proxy::server_live> live(servers);
        std::vector<std::size_t> in_flight;
        double spread_sum = 0;
        for (int step = 0; step < 20000; ++step) {
            for (std::size_t at = 0; at < in_flight.size();) {
                if (rng() % 20 == 0) {
                    --live[in_flight[at]].active;
                    in_flight[at] = in_flight.back();
                    in_flight.pop_back();
                } else {
                    ++at;
                }
            }
            for (int arrivals = 0; arrivals < 10; ++arrivals) {
                const std::size_t got = two ? b->pick({live, 0, 0, rng()}) : rng() % servers;
                ++live[got].active;
                in_flight.push_back(got);
            }
            if (step >= 1000) {
                auto [lo, hi] = std::minmax_element(live.begin(), live.end(),
                                                    [](const auto& x, const auto& y) { return x.active < y.active; });
                spread_sum += static_cast<double>(hi->active - lo->active);
            }
        }
        return spread_sum / 19000;
    };
    const double random_spread = run(false), two_spread = run(true);
    BOOST_TEST_MESSAGE("mean max-min active: random " << random_spread << ", random_two " << two_spread);
    BOOST_TEST(two_spread * 2 < random_spread);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- hashing ----

BOOST_AUTO_TEST_SUITE(proxy_balancer_hashing)

BOOST_AUTO_TEST_CASE(hash_bytes_is_stable_and_spreads) {
    BOOST_TEST(proxy::hash_bytes("127.0.0.1") == proxy::hash_bytes(std::string("127.0.0.1")));
    BOOST_TEST(proxy::hash_bytes("127.0.0.1") != proxy::hash_bytes("127.0.0.2"));
    BOOST_TEST(proxy::hash_bytes("") != proxy::hash_bytes(std::string(1, '\0')));
    // Keys differing in one byte land in well-spread buckets, high bits included.
    std::vector<unsigned> buckets(16, 0);
    for (int i = 0; i < 16000; ++i) ++buckets[proxy::hash_bytes("10.0." + std::to_string(i)) >> 60];
    for (unsigned n : buckets) BOOST_TEST((n > 850u && n < 1150u), "bucket " << n);
    // One flipped input bit flips about half the output bits.
    unsigned flipped = 0;
    for (std::uint64_t x = 1; x <= 1000; ++x) flipped += std::popcount(proxy::hash_mix(x) ^ proxy::hash_mix(x ^ 1));
    BOOST_TEST(std::abs(flipped / 1000.0 - 32) < 2);
}

BOOST_AUTO_TEST_SUITE_END()
