// proxy/balancer: choosing a server of an upstream. Pure logic (no Asio, no shared memory): callers pass
// each server's live state in, so the same code serves every worker; pick() never allocates.
//
// Every kind obeys the same eligibility rules: a server is eligible when it is up, not excluded by the
// retry mask `tried` and below its max_conns. Backup servers are considered only while no primary is
// up (up alone counts: primaries that are merely tried or full make the pick fail rather than spill
// onto the backups); the kind's algorithm then runs over the backups.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "config/model.hpp"

namespace bulwark::proxy {

/// Smooth weighted round-robin (the nginx algorithm): over a cycle of sum(weights) picks, each server is
/// chosen exactly weight times, interleaved rather than in bursts. Kept for the callers that predate
/// `balancer`; balancer::make(balance_kind::round_robin, ...) runs the same algorithm with live state.
class round_robin {
public:
    explicit round_robin(const std::vector<unsigned>& weights);

    /// Index of the next server; bit i of `tried` excludes server i (servers past 63 are never excluded).
    /// Returns size() when every server is excluded.
    std::size_t pick(std::uint64_t tried = 0);
    std::size_t size() const { return servers_.size(); }

private:
    struct entry {
        long weight;
        long current = 0;
    };
    std::vector<entry> servers_;
};

/// What the configuration says about one server. `key` is its stable identity for consistent hashing
/// (e.g. "127.0.0.1:9001"); make() copies what it needs, so the view may die after it returns.
struct server_spec {
    unsigned weight = 1;
    unsigned max_conns = 0;  // 0: no limit
    bool backup = false;
    std::string_view key;
};

/// What is known about one server right now.
struct server_live {
    bool up = true;
    std::uint64_t active = 0;  // active requests over all workers
    double ramp = 1.0;         // in (0, 1]: slow-start factor applied to the weight
};

/// One pick's inputs. `live` is indexed like the specs; servers past its end count as up, idle and at
/// full weight (so an empty span means "no live state"). Bit i of `tried` excludes server i (servers
/// past 63 are never excluded). `hash` feeds ip_hash and hash; `random` feeds random_two.
struct pick_input {
    std::span<const server_live> live;
    std::uint64_t tried = 0;
    std::uint64_t hash = 0;
    std::uint64_t random = 0;
};

/// Weights are scaled by the ramp as max(1, round(weight * ramp * 100)), so a full-weight server keeps
/// the exact proportions of its configured weight and a ramping one still gets a little traffic.
///
///   round_robin  smooth weighted round-robin over the eligible servers (state: one score per server).
///   least_conn   lowest active/weight; ties go to the higher weight, then rotate so equals alternate.
///   ip_hash      weighted mapping of `hash` onto the servers, stable while the set is unchanged; an
///                ineligible choice rehashes (then scans) deterministically to an eligible server.
///   hash         consistent hashing on a ketama ring (160 points per unit of weight, keyed by the
///                server key): removing or adding a server moves only the keys it owned or takes.
///   random_two   power of two choices: two distinct servers drawn by weight from `random`, the one
///                with the lower active/weight wins.
/// For the hash kinds a ramping server keeps a key with probability `ramp` (decided by the key, so the
/// set of keys it keeps only grows as it ramps up) and passes the others on as if it were ineligible.
class balancer {
public:
    static constexpr std::size_t npos = ~std::size_t{0};

    /// Builds the balancer of `kind` over `servers` (allocates; call at configuration time).
    static std::unique_ptr<balancer> make(config::balance_kind kind, std::span<const server_spec> servers);

    virtual ~balancer() = default;
    balancer(const balancer&) = delete;
    balancer& operator=(const balancer&) = delete;

    /// Index of the server to use, or npos when none is eligible (all down, excluded or at max_conns).
    virtual std::size_t pick(const pick_input& in) noexcept = 0;

    std::size_t size() const noexcept { return size_; }
    config::balance_kind kind() const noexcept { return kind_; }

protected:
    balancer(config::balance_kind kind, std::size_t size) noexcept : kind_(kind), size_(size) {}

private:
    config::balance_kind kind_;
    std::size_t size_;
};

/// splitmix64's finalizer: spreads every input bit over the whole output.
std::uint64_t hash_mix(std::uint64_t x) noexcept;

/// A good 64-bit hash of bytes (FNV-1a, then hash_mix) for client addresses and hash keys.
std::uint64_t hash_bytes(std::string_view bytes) noexcept;

}  // namespace bulwark::proxy
