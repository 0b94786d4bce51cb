// limit/rate: the request-rate limits and the brute-force guard of [limit:NAME], applied per key
// (client address, route or header) in shm::limit_table, so every worker draws from the same buckets.
// Pure logic: no Asio, no allocation, noexcept; the caller passes CLOCK_MONOTONIC milliseconds.
//
// Identity of a limit in the table. Each limit's entries are keyed by (key bytes, a 64-bit hash of
// the limit's name), so a reload that reorders, adds or removes limits keeps every surviving limit's
// buckets and blocks, and two limits never share a bucket. The "requests limited" counter of limit i
// is shm::limit_table::limited(limit_id_of(i)) = limited(i + 1) (the table counts ids 1..255); it
// counts 429 refusals only, not requests refused because a guard blocked the key.
//
// Rate (rate > 0): a token bucket of `burst` requests (0 counts as 1) refilled at `rate`: over any D
// seconds a key gets at most burst + rate * D requests across all workers. nodelay = on: every
// request the bucket admits passes at once. nodelay = off (nginx's default): an admitted request
// ahead of the steady rate gets delay_ms, the caller waits that long before forwarding, so the
// backend sees the steady rate; the wait is capped at max_delay_ms by shrinking the bucket (the
// request that would wait longer is refused, 429, without spending a token).
// Several limits: each is charged in order and the first refusal wins; tokens already taken from
// earlier limits of that request are not given back (the table has no refund).
//
// Brute-force guard (on_status non-empty; a limit may also have a rate, the two are independent):
// responses whose status is listed are counted per key, and the max_responses-th within `window`
// blocks the key for `block_for` (the caller answers 403 while blocked_until > now). The table has
// token buckets, not sliding windows, so the count is a bucket of max_responses - 1 refilled at
// (max_responses - 1) per window, the tightest bucket that is never stricter than the exact window:
// max_responses responses in quick succession block; a client the exact sliding window
// ("max_responses within any window") lets through is never blocked; responses spread over a window
// block at the latest at the (2 * max_responses - 2)-th within it (the 8th for 5 per minute).
// Responses arriving while the key is blocked are not counted. A key missing from the request
// (header absent or empty, no client address) is not limited by that limit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "config/model.hpp"
#include "core/cidr.hpp"

namespace bulwark::shm {
class limit_table;
}

namespace bulwark::limit {

/// Longest wait given to a request in delay mode (nodelay = off).
inline constexpr std::uint64_t max_delay_ms = 10'000;

/// What the limits need to know about one request. `header` returns the value of the header named
/// `lower_name` (lower-case), or an empty view when the request has none.
struct request_facts {
    const ip_address* client = nullptr;
    std::string_view route_name;
    std::string_view (*header)(void* ctx, std::string_view lower_name) = nullptr;
    void* ctx = nullptr;
};

struct verdict {
    bool allowed = true;
    std::uint32_t retry_after_s = 0;  // when refused: Retry-After, whole seconds rounded up, >= 1
    std::uint64_t delay_ms = 0;       // when allowed: wait this long before forwarding (delay mode)
    int limit_index = -1;             // the refusing (or most delaying) limit, -1 if none
};

/// The id under which the table counts requests refused by limit `index` (index + 1).
constexpr std::uint32_t limit_id_of(std::size_t index) noexcept { return static_cast<std::uint32_t>(index + 1); }

/// Charges the request to every limit in `limit_indexes` (indexes into `limits`) with rate > 0.
verdict check_request(shm::limit_table& table, std::span<const int> limit_indexes,
                      const std::vector<config::limit>& limits, const request_facts& facts,
                      std::uint64_t now_ms) noexcept;

/// The latest end of a guard block in force for this request (0 when none): answer 403 until then.
std::uint64_t blocked_until(const shm::limit_table& table, std::span<const int> limit_indexes,
                            const std::vector<config::limit>& limits, const request_facts& facts,
                            std::uint64_t now_ms) noexcept;
inline bool blocked(const shm::limit_table& table, std::span<const int> limit_indexes,
                    const std::vector<config::limit>& limits, const request_facts& facts,
                    std::uint64_t now_ms) noexcept {
    return blocked_until(table, limit_indexes, limits, facts, now_ms) != 0;
}

/// Counts a response of `status` against each guard that lists it; true when this call blocked a
/// key that was not blocked (log it once; two workers crossing the threshold in the same instant
/// may both see true).
bool record_response(shm::limit_table& table, std::span<const int> limit_indexes,
                     const std::vector<config::limit>& limits, const request_facts& facts, int status,
                     std::uint64_t now_ms) noexcept;

}  // namespace bulwark::limit
