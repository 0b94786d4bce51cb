// proxy/balancer: the five ways of choosing a server. Each pick first settles the group (the primaries,
// or the backups when no primary is up), then runs its algorithm over the group's eligible servers.
// Only make() allocates: per-pick state lives in vectors sized at construction.
#include "proxy/balancer.hpp"

#include <algorithm>
#include <cmath>

namespace bulwark::proxy {

// ---- round_robin (the pre-balancer API) ----
// Each pick adds every weight to its server's running score, takes the highest and subtracts the total
// from it; the scores always sum to zero, which is what spreads picks smoothly.

round_robin::round_robin(const std::vector<unsigned>& weights) {
    servers_.reserve(weights.size());
    for (unsigned w : weights) servers_.push_back({static_cast<long>(w)});
}

std::size_t round_robin::pick(std::uint64_t tried) {
    long total = 0;
    std::size_t best = servers_.size();
    for (std::size_t i = 0; i < servers_.size(); ++i) {
        if (i < 64 && (tried >> i) & 1) continue;
        entry& e = servers_[i];
        e.current += e.weight;
        total += e.weight;
        if (best == servers_.size() || e.current > servers_[best].current) best = i;
    }
    if (best < servers_.size()) servers_[best].current -= total;
    return best;
}

// ---- hashing ----

std::uint64_t hash_mix(std::uint64_t x) noexcept {
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

std::uint64_t hash_bytes(std::string_view bytes) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64
    for (unsigned char c : bytes) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    return hash_mix(h);
}

namespace {

using u128 = unsigned __int128;

constexpr std::uint64_t golden = 0x9e3779b97f4a7c15ULL;  // 2^64 / phi: the splitmix64 increment
constexpr std::uint64_t weight_scale = 100;               // ramp resolution of 1%
constexpr std::uint64_t ring_points_per_weight = 160;     // ketama's choice: a 1-2% spread of shares
constexpr std::uint64_t max_ring_points = 1 << 17;        // 2 MB per ring at worst (weights up to 1000)
constexpr int ip_hash_rehashes = 20;                      // as nginx, before a deterministic scan

std::uint64_t points_of(unsigned weight) noexcept { return ring_points_per_weight * std::max(1u, weight); }

/// max(1, round(weight * ramp * 100)): integer, so round-robin stays exact at full weight.
std::uint64_t scaled_weight(unsigned weight, double ramp) noexcept {
    const std::uint64_t full = std::uint64_t{weight} * weight_scale;
    if (!(ramp < 1.0)) return std::max<std::uint64_t>(1, full);  // also NaN
    if (!(ramp > 0.0)) return 1;
    return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::llround(static_cast<double>(full) * ramp)));
}

/// Maps 64 uniform bits onto [0, n) by multiplication (no modulo, so n need not divide 2^64 evenly).
std::uint64_t scale_to(std::uint64_t bits, std::uint64_t n) noexcept {
    return static_cast<std::uint64_t>((static_cast<u128>(bits) * n) >> 64);
}

/// Whether a ramping server keeps the key behind `bits`: true for a fraction `ramp` of keys, and a key
/// kept at some ramp is kept at every higher one.
bool keeps(double ramp, std::uint64_t bits) noexcept {
    if (!(ramp < 1.0)) return true;
    return static_cast<double>(bits >> 11) * 0x1.0p-53 < ramp;
}

/// True when load a/wa is strictly lower than b/wb (cross-multiplied: no division, no overflow).
bool lighter(std::uint64_t a, std::uint64_t wa, std::uint64_t b, std::uint64_t wb) noexcept {
    return static_cast<u128>(a) * wb < static_cast<u128>(b) * wa;
}

/// The configured servers plus the eligibility rules every kind shares.
class server_set {
public:
    explicit server_set(std::span<const server_spec> specs) {
        servers_.reserve(specs.size());
        for (const server_spec& s : specs) servers_.push_back({s.weight, s.max_conns, s.backup});
    }

    std::size_t size() const noexcept { return servers_.size(); }
    bool backup(std::size_t i) const noexcept { return servers_[i].backup; }
    unsigned configured_weight(std::size_t i) const noexcept { return servers_[i].weight; }

    const server_live& live(const pick_input& in, std::size_t i) const noexcept {
        static constexpr server_live idle{};
        return i < in.live.size() ? in.live[i] : idle;
    }

    /// The group of this pick: the backups only when no primary is up (whether tried or full or not).
    bool backups_only(const pick_input& in) const noexcept {
        for (std::size_t i = 0; i < servers_.size(); ++i)
            if (!servers_[i].backup && live(in, i).up) return false;
        return true;
    }

    bool eligible(const pick_input& in, std::size_t i, bool backups) const noexcept {
        const server& s = servers_[i];
        if (s.backup != backups) return false;
        if (i < 64 && (in.tried >> i) & 1) return false;
        const server_live& l = live(in, i);
        return l.up && (s.max_conns == 0 || l.active < s.max_conns);
    }

    std::uint64_t weight(const pick_input& in, std::size_t i) const noexcept {
        return scaled_weight(servers_[i].weight, live(in, i).ramp);
    }

private:
    struct server {
        unsigned weight;
        unsigned max_conns;
        bool backup;
    };
    std::vector<server> servers_;
};

// ---- round_robin: smooth weighted, as round_robin above, over the eligible servers ----

class smooth_round_robin final : public balancer {
public:
    explicit smooth_round_robin(std::span<const server_spec> specs)
        : balancer(config::balance_kind::round_robin, specs.size()), set_(specs), current_(specs.size(), 0) {}

    // balancer::
    std::size_t pick(const pick_input& in) noexcept override {
        const bool backups = set_.backups_only(in);
        std::int64_t total = 0;
        std::size_t best = npos;
        for (std::size_t i = 0; i < set_.size(); ++i) {
            if (!set_.eligible(in, i, backups)) continue;
            const auto w = static_cast<std::int64_t>(set_.weight(in, i));
            current_[i] += w;
            total += w;
            if (best == npos || current_[i] > current_[best]) best = i;
        }
        if (best != npos) current_[best] -= total;
        return best;
    }

private:
    server_set set_;
    std::vector<std::int64_t> current_;
};

// ---- least_conn ----

class least_conn final : public balancer {
public:
    explicit least_conn(std::span<const server_spec> specs)
        : balancer(config::balance_kind::least_conn, specs.size()), set_(specs) {}

    // balancer::
    std::size_t pick(const pick_input& in) noexcept override {
        const bool backups = set_.backups_only(in);
        const std::size_t n = set_.size();
        std::size_t best = npos;
        std::uint64_t best_active = 0, best_weight = 0;
        // Scanning from a rotating start makes the first of equal servers, which wins ties, change.
        for (std::size_t k = 0; k < n; ++k) {
            const std::size_t i = (start_ + k) % n;
            if (!set_.eligible(in, i, backups)) continue;
            const std::uint64_t active = set_.live(in, i).active, w = set_.weight(in, i);
            const bool better = best == npos || lighter(active, w, best_active, best_weight) ||
                                (!lighter(best_active, best_weight, active, w) && w > best_weight);
            if (better) best = i, best_active = active, best_weight = w;
        }
        if (best != npos) start_ = (best + 1) % n;
        return best;
    }

private:
    server_set set_;
    std::size_t start_ = 0;
};

// ---- ip_hash: a weighted map of the hash onto the group, with rehashing past ineligible servers ----

class ip_hash final : public balancer {
public:
    explicit ip_hash(std::span<const server_spec> specs)
        : balancer(config::balance_kind::ip_hash, specs.size()), set_(specs) {
        for (std::size_t i = 0; i < set_.size(); ++i) {
            group& g = groups_[set_.backup(i) ? 1 : 0];
            const std::uint64_t before = g.cumulative.empty() ? 0 : g.cumulative.back();
            g.members.push_back(static_cast<std::uint32_t>(i));
            g.cumulative.push_back(before + std::max(1u, set_.configured_weight(i)));
        }
    }

    // balancer::
    std::size_t pick(const pick_input& in) noexcept override {
        const bool backups = set_.backups_only(in);
        const group& g = groups_[backups ? 1 : 0];
        if (g.members.empty()) return npos;
        // The configured weights, not the live ones, place a key: ramps and failures elsewhere in the
        // group must not move the keys of a server that stays eligible.
        std::uint64_t h = hash_mix(in.hash);
        for (int attempt = 0; attempt < ip_hash_rehashes; ++attempt) {
            const std::uint64_t point = scale_to(h, g.cumulative.back());
            const auto k = static_cast<std::size_t>(
                std::upper_bound(g.cumulative.begin(), g.cumulative.end(), point) - g.cumulative.begin());
            const std::size_t i = g.members[k];
            if (set_.eligible(in, i, backups) && keeps(set_.live(in, i).ramp, hash_mix(h ^ golden))) return i;
            h = hash_mix(h + golden);
        }
        // Twenty misses: most of the group is out. Scan from a point fixed by the key.
        const std::size_t n = g.members.size();
        const std::size_t start = scale_to(hash_mix(in.hash + golden), n);
        for (std::size_t k = 0; k < n; ++k) {
            const std::size_t i = g.members[(start + k) % n];
            if (set_.eligible(in, i, backups)) return i;
        }
        return npos;
    }

private:
    struct group {
        std::vector<std::uint32_t> members;     // server indexes
        std::vector<std::uint64_t> cumulative;  // running sum of their configured weights
    };
    server_set set_;
    group groups_[2];  // primaries, backups
};

// ---- hash: consistent hashing on a ketama ring per group ----

class ketama final : public balancer {
public:
    explicit ketama(std::span<const server_spec> specs)
        : balancer(config::balance_kind::hash, specs.size()), set_(specs) {
        identity_.reserve(specs.size());
        std::uint64_t wanted = 0;
        for (std::size_t i = 0; i < specs.size(); ++i) {
            // A server's points depend on its key alone, so other servers coming and going leave them
            // in place. A repeated key gets its own points (an unnamed server falls back to its index).
            const std::string_view key = specs[i].key;
            std::uint64_t id = key.empty() ? hash_mix(golden * (i + 1)) : hash_bytes(key);
            std::uint64_t seen = 0;
            for (std::size_t j = 0; j < i; ++j) seen += !key.empty() && specs[j].key == key;
            if (seen) id = hash_mix(id + seen);
            identity_.push_back(id);
            wanted += points_of(specs[i].weight);
        }
        // Only extreme weights exceed the cap; the ring then shrinks in proportion (and adding or removing
        // a server that changes the scale moves more keys than the minimum).
        const double scale =
            wanted > max_ring_points ? static_cast<double>(max_ring_points) / static_cast<double>(wanted) : 1.0;
        for (std::size_t i = 0; i < specs.size(); ++i) {
            const auto scaled = std::llround(static_cast<double>(points_of(specs[i].weight)) * scale);
            const std::uint64_t points = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(scaled));
            std::vector<point>& ring = rings_[specs[i].backup ? 1 : 0];
            for (std::uint64_t j = 0; j < points; ++j)
                ring.push_back({hash_mix(identity_[i] + golden * (j + 1)), static_cast<std::uint32_t>(i)});
        }
        for (auto& ring : rings_)
            std::sort(ring.begin(), ring.end(), [](const point& a, const point& b) {
                return a.pos != b.pos ? a.pos < b.pos : a.server < b.server;
            });
    }

    // balancer::
    std::size_t pick(const pick_input& in) noexcept override {
        const bool backups = set_.backups_only(in);
        const std::vector<point>& ring = rings_[backups ? 1 : 0];
        const std::uint64_t h = hash_mix(in.hash);
        // Whether some eligible server keeps this key at its ramp; if none does, ramps are ignored.
        bool any_eligible = false, any_keeps = false;
        for (std::size_t i = 0; i < set_.size() && !any_keeps; ++i) {
            if (!set_.eligible(in, i, backups)) continue;
            any_eligible = true;
            any_keeps = keeps(set_.live(in, i).ramp, hash_mix(h ^ identity_[i]));
        }
        if (!any_eligible) return npos;
        // Clockwise from the key's position to the first point of a server that takes it.
        const std::size_t n = ring.size();
        const auto at_or_after = [](const point& p, std::uint64_t v) { return p.pos < v; };
        const auto first =
            static_cast<std::size_t>(std::lower_bound(ring.begin(), ring.end(), h, at_or_after) - ring.begin());
        for (std::size_t k = 0; k < n; ++k) {
            const std::size_t i = ring[(first + k) % n].server;
            if (!set_.eligible(in, i, backups)) continue;
            if (!any_keeps || keeps(set_.live(in, i).ramp, hash_mix(h ^ identity_[i]))) return i;
        }
        return npos;  // unreachable: an eligible server has at least one point
    }

private:
    struct point {
        std::uint64_t pos;
        std::uint32_t server;
    };
    server_set set_;
    std::vector<std::uint64_t> identity_;  // per server: the hash of its key
    std::vector<point> rings_[2];          // primaries, backups; sorted by pos
};

// ---- random_two: power of two choices ----

class random_two final : public balancer {
public:
    explicit random_two(std::span<const server_spec> specs)
        : balancer(config::balance_kind::random_two, specs.size()),
          set_(specs),
          index_(specs.size()),
          cumulative_(specs.size()) {}

    // balancer::
    std::size_t pick(const pick_input& in) noexcept override {
        const bool backups = set_.backups_only(in);
        std::size_t m = 0;
        std::uint64_t total = 0;
        for (std::size_t i = 0; i < set_.size(); ++i) {
            if (!set_.eligible(in, i, backups)) continue;
            total += set_.weight(in, i);
            index_[m] = i;
            cumulative_[m++] = total;
        }
        if (m == 0) return npos;
        if (m == 1) return index_[0];
        // Two distinct candidates drawn by weight, from the low and the high half of `random`.
        const auto draw = [&](std::uint64_t bits32, std::uint64_t range) {
            return static_cast<std::uint64_t>((static_cast<u128>(bits32) * range) >> 32);
        };
        const auto slot_of = [&](std::uint64_t x) {
            const auto end = cumulative_.begin() + static_cast<std::ptrdiff_t>(m);
            return static_cast<std::size_t>(std::upper_bound(cumulative_.begin(), end, x) - cumulative_.begin());
        };
        const std::size_t k1 = slot_of(draw(in.random & 0xffffffffu, total));
        const std::uint64_t start1 = k1 ? cumulative_[k1 - 1] : 0, w1 = cumulative_[k1] - start1;
        std::uint64_t x2 = draw(in.random >> 32, total - w1);
        if (x2 >= start1) x2 += w1;  // skip the first candidate's span
        const std::size_t a = index_[k1], b = index_[slot_of(x2)];
        // The lighter one by active/weight; on a tie the first, which was drawn by weight.
        const bool b_lighter =
            lighter(set_.live(in, b).active, set_.weight(in, b), set_.live(in, a).active, set_.weight(in, a));
        return b_lighter ? b : a;
    }

private:
    server_set set_;
    std::vector<std::size_t> index_;          // scratch: the eligible servers of this pick
    std::vector<std::uint64_t> cumulative_;   // scratch: running sum of their weights
};

}  // namespace

std::unique_ptr<balancer> balancer::make(config::balance_kind kind, std::span<const server_spec> servers) {
    switch (kind) {
    case config::balance_kind::least_conn: return std::make_unique<least_conn>(servers);
    case config::balance_kind::ip_hash: return std::make_unique<ip_hash>(servers);
    case config::balance_kind::hash: return std::make_unique<ketama>(servers);
    case config::balance_kind::random_two: return std::make_unique<random_two>(servers);
    case config::balance_kind::round_robin: break;
    }
    return std::make_unique<smooth_round_robin>(servers);
}

}  // namespace bulwark::proxy
