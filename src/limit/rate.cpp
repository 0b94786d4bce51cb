// limit/rate: maps each configured limit onto limit_table entries; every decision is one or two
// lock-free table operations per limit, so a request never waits on another worker.
#include "limit/rate.hpp"

#include <algorithm>
#include <optional>

#include "shm/hash.hpp"
#include "shm/layout.hpp"
#include "shm/limit_table.hpp"

namespace bulwark::limit {
namespace {

// shm::limit_rate counts time in 1/64 ms (see shm/limit_table.hpp).
constexpr std::uint64_t rate_units_per_ms = 64;
// Guards charge their response counts under an id the table keeps no "limited" counter for.
constexpr std::uint32_t uncounted_id = shm::max_limit_ids;

enum class purpose : std::uint64_t { rate = 1, guard = 2 };

const config::limit* limit_at(const std::vector<config::limit>& limits, int index) noexcept {
    return index >= 0 && static_cast<std::size_t>(index) < limits.size() ? &limits[static_cast<std::size_t>(index)]
                                                                          : nullptr;
}

/// The bytes a limit keys on for this request, or nullopt when the request has no such key.
/// `scratch` holds the client address bytes the view points into.
std::optional<std::string_view> key_bytes(const config::limit& l, const request_facts& f,
                                          ip_address& scratch) noexcept {
    switch (l.key.what) {
    case config::request_key::kind::client_ip:
        if (f.client == nullptr) return std::nullopt;
        scratch = f.client->unmapped();  // one bucket per client, whatever the listener's family
        return std::string_view(reinterpret_cast<const char*>(scratch.bytes.data()), scratch.v6 ? 16 : 4);
    case config::request_key::kind::route:
        return f.route_name;  // requests matching no route share the "" bucket
    case config::request_key::kind::header: {
        if (f.header == nullptr) return std::nullopt;
        std::string_view v = f.header(f.ctx, l.key.header);
        if (v.empty()) return std::nullopt;
        return v;
    }
    case config::request_key::kind::uri:
        break;  // not a limit key (rejected by config validation)
    }
    return std::nullopt;
}

/// The table entry of (limit name, purpose, key bytes): stable across reloads and processes.
std::uint64_t entry_of(const shm::limit_table& table, const config::limit& l, purpose p,
                       std::string_view key) noexcept {
    std::uint64_t salt = shm::hash_bytes(l.name, static_cast<std::uint64_t>(p));
    std::uint64_t e = shm::mix64(table.key_of(key, 0) ^ salt);
    return e == 0 ? 1 : e;  // 0 marks an empty slot
}

std::uint32_t retry_seconds(std::uint32_t ms) noexcept {
    return std::max<std::uint32_t>(1, ms / 1000 + (ms % 1000 != 0));
}

/// Responses counted by a guard: a bucket of max_responses - 1 refilled at that many per window, so
/// the max_responses-th response inside one window is the first one refused (see the header).
shm::limit_rate guard_rate(const config::limit& l) noexcept {
    const double per_window = static_cast<double>(l.max_responses - 1);
    const double window_s = static_cast<double>(std::max<std::int64_t>(1, l.window.count())) / 1000.0;
    return shm::limit_rate::make(per_window / window_s, l.max_responses - 1);
}

}  // namespace

verdict check_request(shm::limit_table& table, std::span<const int> limit_indexes,
                      const std::vector<config::limit>& limits, const request_facts& facts,
                      std::uint64_t now_ms) noexcept {
    verdict v;
    ip_address scratch;
    for (int index : limit_indexes) {
        const config::limit* l = limit_at(limits, index);
        if (l == nullptr || !(l->rate_per_sec > 0)) continue;  // a pure guard has no request rate
        auto key = key_bytes(*l, facts, scratch);
        if (!key) continue;
        shm::limit_rate rate = shm::limit_rate::make(l->rate_per_sec, l->burst);
        // Delay mode: never make a request wait more than max_delay_ms; beyond that it is refused.
        if (!l->nodelay) rate.tolerance = std::min(rate.tolerance, max_delay_ms * rate_units_per_ms);
        const auto r = table.try_acquire(entry_of(table, *l, purpose::rate, *key),
                                         limit_id_of(static_cast<std::size_t>(index)), rate, now_ms);
        if (!r.allowed) return {false, retry_seconds(r.retry_after_ms), 0, index};
        // nodelay = on: admitted requests pass at once, however far ahead of the steady rate.
        if (!l->nodelay && r.delay_ms > v.delay_ms) {
            v.delay_ms = r.delay_ms;
            v.limit_index = index;
        }
    }
    return v;
}

std::uint64_t blocked_until(const shm::limit_table& table, std::span<const int> limit_indexes,
                            const std::vector<config::limit>& limits, const request_facts& facts,
                            std::uint64_t now_ms) noexcept {
    std::uint64_t until = 0;
    ip_address scratch;
    for (int index : limit_indexes) {
        const config::limit* l = limit_at(limits, index);
        if (l == nullptr || l->on_status.empty()) continue;
        auto key = key_bytes(*l, facts, scratch);
        if (!key) continue;
        until = std::max(until, table.blocked_until(entry_of(table, *l, purpose::guard, *key), now_ms));
    }
    return until;
}

bool record_response(shm::limit_table& table, std::span<const int> limit_indexes,
                     const std::vector<config::limit>& limits, const request_facts& facts, int status,
                     std::uint64_t now_ms) noexcept {
    bool newly_blocked = false;
    ip_address scratch;
    for (int index : limit_indexes) {
        const config::limit* l = limit_at(limits, index);
        if (l == nullptr || std::find(l->on_status.begin(), l->on_status.end(), status) == l->on_status.end())
            continue;
        auto key = key_bytes(*l, facts, scratch);
        if (!key) continue;
        const std::uint64_t entry = entry_of(table, *l, purpose::guard, *key);
        if (table.blocked_until(entry, now_ms) != 0) continue;  // already blocked: a late in-flight response
        bool trip = l->max_responses <= 1;
        if (!trip) trip = !table.try_acquire(entry, uncounted_id, guard_rate(*l), now_ms).allowed;
        if (!trip) continue;
        const auto block_ms = static_cast<std::uint64_t>(std::max<std::int64_t>(0, l->block_for.count()));
        table.block(entry, now_ms + block_ms, now_ms);
        newly_blocked = newly_blocked || block_ms > 0;
    }
    return newly_blocked;
}

}  // namespace bulwark::limit
