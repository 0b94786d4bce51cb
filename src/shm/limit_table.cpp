// shm/limit_table: 8-way set-associative table with LRU recycling; every update is one CAS on one word.
#include "shm/limit_table.hpp"

#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "shm/atomic.hpp"
#include "shm/hash.hpp"

namespace bulwark::shm {
namespace {

constexpr std::uint64_t low48 = (std::uint64_t{1} << 48) - 1;
constexpr std::uint64_t low32 = 0xffffffffULL;
constexpr std::uint64_t units_per_ms = 64;     // GCRA time unit: 1/64 ms
constexpr std::uint64_t max_interval = std::uint64_t{1} << 40;  // ~200 days between requests
constexpr std::uint64_t clock_slack = 1000 * units_per_ms;  // processes read `now` at slightly different times
constexpr std::uint64_t future_last_used_ms = 60'000;       // a last-use this far ahead: another clock's
constexpr int max_attempts = 4;

std::uint64_t tag_of(std::uint64_t entry) noexcept { return entry >> 48; }
// The value a tagged word holds for the key whose tag is `tag`: a word left by another key reads as 0.
std::uint64_t value_for(std::uint64_t word, std::uint64_t tag) noexcept {
    return (word >> 48) == tag ? (word & low48) : 0;
}

std::uint32_t groups_for(std::uint32_t slots) noexcept {
    std::uint32_t need = std::max<std::uint32_t>(1, (slots + limit_ways - 1) / limit_ways);
    std::uint32_t groups = 1;
    while (groups < need && groups < (1u << 30)) groups <<= 1;
    return groups;
}

std::size_t bytes_for_groups(std::uint32_t groups) noexcept {
    return sizeof(limit_table_header) + std::size_t{groups} * sizeof(limit_group);
}

std::uint64_t random_seed() noexcept {
    std::uint64_t seed = 0;
    if (::getrandom(&seed, sizeof seed, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof seed)) {
        auto t = std::chrono::steady_clock::now().time_since_epoch().count();
        seed = mix64(static_cast<std::uint64_t>(t) ^ (static_cast<std::uint64_t>(::getpid()) << 32));
    }
    return seed;
}

}  // namespace

limit_rate limit_rate::make(double rate_per_sec, std::uint32_t burst) noexcept {
    limit_rate r;
    double interval = rate_per_sec > 0 ? 1000.0 * units_per_ms / rate_per_sec : static_cast<double>(max_interval);
    r.interval = std::clamp<std::uint64_t>(static_cast<std::uint64_t>(std::llround(std::min(interval, 1e15))), 1,
                                           max_interval);
    std::uint64_t extra = std::max<std::uint32_t>(burst, 1) - 1;
    r.tolerance = std::min(extra * r.interval, max_interval);
    return r;
}

std::size_t limit_table::bytes_for(std::uint32_t slots) noexcept { return bytes_for_groups(groups_for(slots)); }

limit_table::limit_table(std::byte* base) noexcept
    : header_(reinterpret_cast<limit_table_header*>(base)),
      groups_(reinterpret_cast<limit_group*>(base + sizeof(limit_table_header))) {}

limit_table limit_table::open_or_format(std::span<std::byte> mem, std::uint32_t slots, std::string& reason) {
    const std::uint32_t groups = groups_for(slots);
    const std::size_t need = bytes_for_groups(groups);
    if (mem.size() < need)
        throw std::invalid_argument("limit table: " + std::to_string(mem.size()) + " bytes given, " +
                                    std::to_string(need) + " needed");
    auto* h = reinterpret_cast<limit_table_header*>(mem.data());
    reason.clear();
    if (load(h->magic) != limit_table_magic)
        reason = "no limit table";
    else if (h->layout_version != limit_table_version)
        reason = "limit table version " + std::to_string(h->layout_version);
    else if (h->groups != groups || h->bytes != need)
        reason = "limit table of " + std::to_string(h->groups * limit_ways) + " slots, expected " +
                 std::to_string(groups * limit_ways);
    if (reason.empty()) return limit_table(mem.data());

    store(h->magic, std::uint64_t{0});
    std::memset(mem.data(), 0, need);
    h->layout_version = limit_table_version;
    h->groups = groups;
    h->bytes = need;
    h->seed = random_seed();
    store(h->magic, limit_table_magic);
    return limit_table(mem.data());
}

limit_table limit_table::attach(std::span<std::byte> mem) {
    auto* h = reinterpret_cast<limit_table_header*>(mem.data());
    if (mem.size() < sizeof(limit_table_header) || load(h->magic) != limit_table_magic ||
        h->layout_version != limit_table_version || h->groups == 0 || (h->groups & (h->groups - 1)) != 0 ||
        h->bytes != bytes_for_groups(h->groups) || h->bytes > mem.size())
        throw std::runtime_error("no usable limit table in the shared segment");
    return limit_table(mem.data());
}

std::uint64_t limit_table::key_of(std::string_view key, std::uint32_t limit_id) const noexcept {
    std::uint64_t h = hash_bytes(key, header_->seed ^ (std::uint64_t{limit_id} * 0x9e3779b97f4a7c15ULL));
    return h == 0 ? 1 : h;  // 0 marks an empty slot
}

// ---- placement ---------------------------------------------------------------------------------------

limit_table::place limit_table::find(std::uint64_t entry) const noexcept {
    limit_group& g = groups_[entry & (header_->groups - 1)];
    for (std::uint32_t w = 0; w < limit_ways; ++w)
        if (load(g.keys[w]) == entry) return {&g, w};
    return {};
}

bool limit_table::evictable(limit_slot& s, std::uint64_t key, std::uint64_t now_ms) const noexcept {
    const std::uint64_t tag = tag_of(key);
    std::uint64_t cw = load(s.conn_word);
    if ((cw >> 48) == tag && ((cw >> 32) & 0xffff) == (load(header_->conn_epoch) & 0xffff) && (cw & low32) != 0)
        return false;  // open connections would be lost
    return value_for(load(s.block_word), tag) <= now_ms;  // an active block must not be flushed away
}

limit_table::place limit_table::find_or_insert(std::uint64_t entry, std::uint64_t now_ms) noexcept {
    limit_group& g = groups_[entry & (header_->groups - 1)];
    for (int attempt = 0; attempt < max_attempts; ++attempt) {
        std::uint64_t keys[limit_ways];
        for (std::uint32_t w = 0; w < limit_ways; ++w) {
            keys[w] = load(g.keys[w]);
            if (keys[w] == entry) return {&g, w};
        }
        for (std::uint32_t w = 0; w < limit_ways; ++w) {
            if (keys[w] != 0) continue;
            std::uint64_t expected = 0;
            store(g.slots[w].last_used_ms, now_ms, std::memory_order_relaxed);
            if (cas(g.keys[w], expected, entry)) {
                add(header_->inserts, std::uint64_t{1});
                return {&g, w};
            }
            if (expected == entry) return {&g, w};
            keys[w] = expected;
        }
        // Full group: recycle the least recently used slot that holds nothing that must be kept.
        std::uint32_t victim = limit_ways;
        std::uint64_t oldest = UINT64_MAX;
        for (std::uint32_t w = 0; w < limit_ways; ++w) {
            if (keys[w] == 0 || !evictable(g.slots[w], keys[w], now_ms)) continue;
            std::uint64_t used = load(g.slots[w].last_used_ms, std::memory_order_relaxed);
            if (used > now_ms + future_last_used_ms) used = 0;
            if (used < oldest) {
                oldest = used;
                victim = w;
            }
        }
        if (victim == limit_ways) break;
        limit_slot& s = g.slots[victim];
        std::uint64_t rw = load(s.rate_word), cw = load(s.conn_word), bw = load(s.block_word);
        store(s.last_used_ms, now_ms, std::memory_order_relaxed);  // other evictors now pass it over
        std::uint64_t expected = keys[victim];
        if (cas(g.keys[victim], expected, entry)) {
            add(header_->evictions, std::uint64_t{1});
            // Best effort: the words are already stale for the new key unless the 16-bit tags collide.
            const std::uint64_t fresh = tag_of(entry) << 48;
            cas(s.rate_word, rw, fresh);
            cas(s.conn_word, cw, fresh);
            cas(s.block_word, bw, fresh);
            return {&g, victim};
        }
    }
    add(header_->overflows, std::uint64_t{1});
    return {};
}

void limit_table::touch(limit_slot& s, std::uint64_t now_ms) noexcept {
    if (load(s.last_used_ms, std::memory_order_relaxed) < now_ms)
        store(s.last_used_ms, now_ms, std::memory_order_relaxed);
}

// ---- rate --------------------------------------------------------------------------------------------

acquire_result limit_table::try_acquire(std::uint64_t entry, std::uint32_t limit_id, const limit_rate& rate,
                                        std::uint64_t now_ms) noexcept {
    const std::uint64_t tag = tag_of(entry);
    const std::uint64_t now = std::min(now_ms * units_per_ms, low48 - 4 * max_interval);
    for (int attempt = 0; attempt < max_attempts; ++attempt) {
        place p = find_or_insert(entry, now_ms);
        if (p.group == nullptr) return {};  // untracked (counted as an overflow)
        limit_slot& s = p.group->slots[p.way];
        touch(s, now_ms);
        std::uint64_t word = load(s.rate_word);
        do {
            std::uint64_t tat = value_for(word, tag);
            if (tat > now + rate.tolerance + rate.interval + clock_slack) tat = 0;  // clock went back
            const std::uint64_t base = std::max(tat, now);
            if (base - now > rate.tolerance) {
                if (limit_id < max_limit_ids) add(header_->limited[limit_id], std::uint64_t{1});
                std::uint64_t wait = base - rate.tolerance - now;
                return {false, static_cast<std::uint32_t>(
                                   std::min<std::uint64_t>((wait + units_per_ms - 1) / units_per_ms, UINT32_MAX)),
                        0};
            }
            if (cas(s.rate_word, word, tag << 48 | (base + rate.interval)))
                return {true, 0, static_cast<std::uint32_t>((base - now) / units_per_ms)};
        } while (load(p.group->keys[p.way]) == entry);  // lost a race: retry unless the slot was recycled
    }
    return {};
}

acquire_result limit_table::try_acquire(std::string_view key, std::uint32_t limit_id, double rate_per_sec,
                                        std::uint32_t burst, std::uint64_t now_ms) noexcept {
    return try_acquire(key_of(key, limit_id), limit_id, limit_rate::make(rate_per_sec, burst), now_ms);
}

// ---- connections -------------------------------------------------------------------------------------

bool limit_table::conn_acquire(std::uint64_t entry, std::uint32_t max, std::uint64_t now_ms) noexcept {
    const std::uint64_t tag = tag_of(entry);
    for (int attempt = 0; attempt < max_attempts; ++attempt) {
        place p = find_or_insert(entry, now_ms);
        if (p.group == nullptr) return true;  // untracked: fail open
        limit_slot& s = p.group->slots[p.way];
        touch(s, now_ms);
        const std::uint64_t epoch = load(header_->conn_epoch) & 0xffff;
        std::uint64_t word = load(s.conn_word);
        do {
            bool current = (word >> 48) == tag && ((word >> 32) & 0xffff) == epoch;
            std::uint64_t count = current ? word & low32 : 0;
            if (count >= max) return false;
            if (cas(s.conn_word, word, tag << 48 | epoch << 32 | (count + 1))) return true;
        } while (load(p.group->keys[p.way]) == entry);
    }
    return true;
}

void limit_table::conn_release(std::uint64_t entry) noexcept {
    place p = find(entry);
    if (p.group == nullptr) return;
    limit_slot& s = p.group->slots[p.way];
    const std::uint64_t tag = tag_of(entry);
    const std::uint64_t epoch = load(header_->conn_epoch) & 0xffff;
    std::uint64_t word = load(s.conn_word);
    for (;;) {
        if ((word >> 48) != tag || ((word >> 32) & 0xffff) != epoch || (word & low32) == 0) return;
        if (cas(s.conn_word, word, word - 1)) return;
    }
}

std::uint32_t limit_table::conns(std::uint64_t entry) const noexcept {
    place p = find(entry);
    if (p.group == nullptr) return 0;
    std::uint64_t word = load(p.group->slots[p.way].conn_word);
    const std::uint64_t epoch = load(header_->conn_epoch) & 0xffff;
    if ((word >> 48) != tag_of(entry) || ((word >> 32) & 0xffff) != epoch) return 0;
    return static_cast<std::uint32_t>(word & low32);
}

void limit_table::forget_connections() noexcept { add(header_->conn_epoch, std::uint64_t{1}); }

// ---- blocking ----------------------------------------------------------------------------------------

void limit_table::block(std::uint64_t entry, std::uint64_t until_ms, std::uint64_t now_ms) noexcept {
    const std::uint64_t tag = tag_of(entry);
    until_ms = std::min(until_ms, low48);
    for (int attempt = 0; attempt < max_attempts; ++attempt) {
        place p = find_or_insert(entry, now_ms);
        if (p.group == nullptr) return;
        limit_slot& s = p.group->slots[p.way];
        touch(s, now_ms);
        std::uint64_t word = load(s.block_word);
        do {
            if (value_for(word, tag) >= until_ms) return;
            if (cas(s.block_word, word, tag << 48 | until_ms)) return;
        } while (load(p.group->keys[p.way]) == entry);
    }
}

std::uint64_t limit_table::blocked_until(std::uint64_t entry, std::uint64_t now_ms) const noexcept {
    place p = find(entry);
    if (p.group == nullptr) return 0;
    std::uint64_t until = value_for(load(p.group->slots[p.way].block_word), tag_of(entry));
    return until > now_ms ? until : 0;
}

// ---- statistics --------------------------------------------------------------------------------------

bool limit_table::contains(std::uint64_t entry) const noexcept { return find(entry).group != nullptr; }

std::uint32_t limit_table::used() const noexcept {
    std::uint32_t n = 0;
    for (std::uint32_t g = 0; g < header_->groups; ++g)
        for (std::uint32_t w = 0; w < limit_ways; ++w) n += load(groups_[g].keys[w], std::memory_order_relaxed) != 0;
    return n;
}

std::uint64_t limit_table::inserts() const noexcept { return load(header_->inserts, std::memory_order_relaxed); }
std::uint64_t limit_table::evictions() const noexcept { return load(header_->evictions, std::memory_order_relaxed); }
std::uint64_t limit_table::overflows() const noexcept { return load(header_->overflows, std::memory_order_relaxed); }
std::uint64_t limit_table::limited(std::uint32_t limit_id) const noexcept {
    return limit_id < max_limit_ids ? load(header_->limited[limit_id], std::memory_order_relaxed) : 0;
}

}  // namespace bulwark::shm
