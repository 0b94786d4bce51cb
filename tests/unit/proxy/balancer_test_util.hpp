// proxy/balancer tests: helpers shared by the balancer test files (distributions, specs, kinds).
#pragma once

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

namespace proxy = bulwark::proxy;
using kind = bulwark::config::balance_kind;

namespace {

constexpr kind all_kinds[] = {kind::round_robin, kind::least_conn, kind::ip_hash, kind::hash, kind::random_two};
constexpr std::size_t npos = proxy::balancer::npos;

const char* name_of(kind k) {
    switch (k) {
    case kind::round_robin: return "round_robin";
    case kind::least_conn: return "least_conn";
    case kind::ip_hash: return "ip_hash";
    case kind::hash: return "hash";
    case kind::random_two: return "random_two";
    }
    return "?";
}

/// "127.0.0.1:9001", "127.0.0.1:9002", ...: stable storage for the keys the specs point into.
std::string_view key_of(std::size_t i) {
    static std::deque<std::string> keys;
    while (keys.size() <= i) keys.push_back("127.0.0.1:" + std::to_string(9001 + keys.size()));
    return keys[i];
}

std::vector<proxy::server_spec> specs_of(const std::vector<unsigned>& weights) {
    std::vector<proxy::server_spec> specs;
    for (std::size_t i = 0; i < weights.size(); ++i) specs.push_back({weights[i], 0, false, key_of(i)});
    return specs;
}

std::unique_ptr<proxy::balancer> make(kind k, const std::vector<proxy::server_spec>& specs) {
    auto b = proxy::balancer::make(k, specs);
    BOOST_TEST_REQUIRE(b != nullptr);
    BOOST_TEST(b->size() == specs.size());
    BOOST_TEST((b->kind() == k));
    return b;
}

/// Runs `picks` requests through `b`, each lasting `lifetime` picks (active counts rise and fall as in a
/// proxy under steady load), with fresh random hash and random bits per pick. Returns the pick counts.
std::vector<unsigned> simulate(proxy::balancer& b, std::vector<proxy::server_live> live, unsigned picks,
                               std::uint64_t seed = 1, std::size_t lifetime = 0) {
    if (lifetime == 0) lifetime = 40 * live.size();
    std::mt19937_64 rng(seed);
    std::vector<unsigned> counts(live.size(), 0);
    std::deque<std::size_t> in_flight;
    for (unsigned n = 0; n < picks; ++n) {
        if (in_flight.size() >= lifetime) {
            --live[in_flight.front()].active;
            in_flight.pop_front();
        }
        const std::size_t k = b.pick({live, 0, rng(), rng()});
        BOOST_TEST_REQUIRE(k < live.size());
        ++counts[k];
        ++live[k].active;
        in_flight.push_back(k);
    }
    return counts;
}

/// Fails when a server's share of the picks strays more than `tolerance` from its expected share.
void check_shares(const std::vector<unsigned>& counts, const std::vector<double>& expected, double tolerance,
                  kind k) {
    const double total = std::accumulate(counts.begin(), counts.end(), 0.0);
    const double expected_total = std::accumulate(expected.begin(), expected.end(), 0.0);
    for (std::size_t i = 0; i < counts.size(); ++i) {
        const double share = counts[i] / total, want = expected[i] / expected_total;
        BOOST_TEST(std::abs(share - want) <= tolerance, name_of(k) << ": server " << i << " got " << share
                                                                    << " of the picks, expected " << want);
    }
}

}  // namespace
