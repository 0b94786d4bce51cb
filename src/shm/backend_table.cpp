// shm/backend_table: open addressing with linear probing and tombstones over a fixed array of slots;
// inserts and retirements under the robust mutex, everything else with single-word atomics.
#include "shm/backend_table.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <stdexcept>

#include "shm/atomic.hpp"
#include "shm/hash.hpp"
#include "shm/robust_mutex.hpp"

namespace bulwark::shm {
namespace {

constexpr std::uint64_t state_mask = 0xff;
constexpr std::uint64_t u32_mask = 0xffffffffULL;
constexpr std::uint64_t window_count_mask = 0xffff;

std::size_t row_bytes_for(std::uint32_t capacity) {
    return (capacity * sizeof(std::uint32_t) + cache_line_bytes - 1) / cache_line_bytes * cache_line_bytes;
}

// "upstream" NUL "address": NUL cannot occur in either name.
bool make_key(std::string_view upstream, std::string_view address, std::string& key, std::string* error) {
    if (upstream.size() + 1 + address.size() > backend_key_bytes) {
        if (error != nullptr)
            *error = "backend key too long: " + std::string(upstream) + " " + std::string(address);
        return false;
    }
    key.assign(upstream);
    key.push_back('\0');
    key.append(address);
    return true;
}

}  // namespace

std::string_view backend_state_name(backend_state s) noexcept {
    switch (s) {
        case backend_state::up: return "up";
        case backend_state::down: return "down";
        case backend_state::draining: return "draining";
    }
    return "unknown";
}

std::size_t backend_table::bytes_for(std::uint32_t capacity) noexcept {
    return sizeof(backend_table_header) + std::size_t{capacity} * sizeof(backend_slot) +
           2 * std::size_t{max_worker_slots} * row_bytes_for(capacity);  // active, then idle
}

backend_table::backend_table(std::byte* base) noexcept
    : header_(reinterpret_cast<backend_table_header*>(base)),
      slots_(reinterpret_cast<backend_slot*>(base + sizeof(backend_table_header))),
      gauges_(base + sizeof(backend_table_header) + std::size_t{header_->capacity} * sizeof(backend_slot)),
      row_bytes_(row_bytes_for(header_->capacity)) {}

backend_table backend_table::open_or_format(std::span<std::byte> mem, std::uint32_t capacity, std::string& reason) {
    if (capacity == 0) throw std::invalid_argument("backend table: capacity 0");
    const std::size_t need = bytes_for(capacity);
    if (mem.size() < need)
        throw std::invalid_argument("backend table: " + std::to_string(mem.size()) + " bytes given, " +
                                    std::to_string(need) + " needed");
    auto* h = reinterpret_cast<backend_table_header*>(mem.data());
    reason.clear();
    if (load(h->magic) != backend_table_magic)
        reason = "no backend table";
    else if (h->layout_version != backend_table_version)
        reason = "backend table version " + std::to_string(h->layout_version);
    else if (h->capacity != capacity || h->worker_slots != max_worker_slots || h->bytes != need)
        reason = "backend table capacity " + std::to_string(h->capacity) + ", expected " + std::to_string(capacity);
    if (reason.empty()) return backend_table(mem.data());

    store(h->magic, std::uint64_t{0});
    std::memset(mem.data(), 0, need);
    h->layout_version = backend_table_version;
    h->capacity = capacity;
    h->worker_slots = max_worker_slots;
    h->bytes = need;
    robust_mutex::init(h->lock);
    store(h->magic, backend_table_magic);
    return backend_table(mem.data());
}

backend_table backend_table::attach(std::span<std::byte> mem) {
    auto* h = reinterpret_cast<backend_table_header*>(mem.data());
    if (mem.size() < sizeof(backend_table_header) || load(h->magic) != backend_table_magic ||
        h->layout_version != backend_table_version || h->worker_slots != max_worker_slots ||
        h->bytes != bytes_for(h->capacity) || h->bytes > mem.size())
        throw std::runtime_error("no usable backend table in the shared segment");
    return backend_table(mem.data());
}

backend_slot& backend_table::slot(backend_handle h) const noexcept {
    assert(h.index < header_->capacity);
    return slots_[h.index];
}

std::uint32_t* backend_table::gauge(std::uint32_t worker, std::uint32_t index) const noexcept {
    assert(worker < max_worker_slots && index < header_->capacity);
    return reinterpret_cast<std::uint32_t*>(gauges_ + worker * row_bytes_) + index;
}

std::uint32_t* backend_table::idle_gauge(std::uint32_t worker, std::uint32_t index) const noexcept {
    assert(worker < max_worker_slots && index < header_->capacity);
    return reinterpret_cast<std::uint32_t*>(gauges_ + (max_worker_slots + worker) * row_bytes_) + index;
}

// A dead owner may have left a slot half-written: it was never published, so it becomes a tombstone.
void backend_table::repair(void* self) noexcept {
    auto* t = static_cast<backend_table*>(self);
    std::uint64_t live = 0;
    for (std::uint32_t i = 0; i < t->header_->capacity; ++i) {
        std::uint32_t st = load(t->slots_[i].status);
        if (st == slot_claiming) store(t->slots_[i].status, std::uint32_t{slot_retired});
        if (st == slot_live) ++live;
    }
    store(t->header_->live, live);
}

std::uint64_t backend_table::begin_generation() {
    robust_lock guard(robust_mutex(header_->lock), &repair, this);
    return add(header_->generation, std::uint64_t{1}, std::memory_order_acq_rel);
}

std::uint64_t backend_table::generation() const noexcept { return load(header_->generation); }

std::uint64_t backend_table::lock_recoveries() const noexcept { return load(header_->lock.recoveries); }

std::optional<backend_handle> backend_table::find(std::string_view upstream, std::string_view address) {
    std::string key;
    if (!make_key(upstream, address, key, nullptr)) return std::nullopt;
    const std::uint64_t hash = hash_bytes(key);
    robust_lock guard(robust_mutex(header_->lock), &repair, this);
    const std::uint32_t cap = header_->capacity;
    for (std::uint32_t i = 0, idx = static_cast<std::uint32_t>(hash % cap); i < cap; ++i, idx = (idx + 1) % cap) {
        const backend_slot& s = slots_[idx];
        std::uint32_t st = load(s.status);
        if (st == slot_empty) break;
        if (st == slot_live && s.key_hash == hash && s.key_len == key.size() &&
            std::memcmp(s.key, key.data(), key.size()) == 0)
            return backend_handle{idx};
    }
    return std::nullopt;
}

std::optional<backend_handle> backend_table::find_or_add(std::string_view upstream, std::string_view address,
                                                         std::uint64_t generation, std::string* error) {
    std::string key;
    if (!make_key(upstream, address, key, error)) return std::nullopt;
    const std::uint64_t hash = hash_bytes(key);
    robust_lock guard(robust_mutex(header_->lock), &repair, this);
    const std::uint32_t cap = header_->capacity;
    std::optional<std::uint32_t> free;
    for (std::uint32_t i = 0, idx = static_cast<std::uint32_t>(hash % cap); i < cap; ++i, idx = (idx + 1) % cap) {
        backend_slot& s = slots_[idx];
        std::uint32_t st = load(s.status);
        if (st == slot_live) {
            if (s.key_hash == hash && s.key_len == key.size() && std::memcmp(s.key, key.data(), key.size()) == 0) {
                s.seen_generation = std::max(s.seen_generation, generation);
                return backend_handle{idx};
            }
            continue;
        }
        if (!free) free = idx;
        if (st == slot_empty) break;  // the key is not further on
    }
    if (!free) {
        if (error != nullptr) *error = "backend table full (" + std::to_string(cap) + " servers)";
        return std::nullopt;
    }
    backend_slot& s = slots_[*free];
    store(s.status, std::uint32_t{slot_claiming});
    std::memset(reinterpret_cast<std::byte*>(&s) + sizeof s.status, 0, sizeof s - sizeof s.status);
    for (std::uint32_t w = 0; w < max_worker_slots; ++w) {
        store(*gauge(w, *free), std::uint32_t{0});
        store(*idle_gauge(w, *free), std::uint32_t{0});
    }
    std::memcpy(s.key, key.data(), key.size());
    s.key_len = static_cast<std::uint32_t>(key.size());
    s.key_hash = hash;
    s.seen_generation = generation;
    store(s.status, std::uint32_t{slot_live});
    add(header_->live, std::uint64_t{1});
    return backend_handle{*free};
}

std::size_t backend_table::retire_older_than(std::uint64_t generation) {
    robust_lock guard(robust_mutex(header_->lock), &repair, this);
    std::size_t retired = 0;
    for (std::uint32_t i = 0; i < header_->capacity; ++i) {
        backend_slot& s = slots_[i];
        if (load(s.status) == slot_live && s.seen_generation < generation) {
            store(s.status, std::uint32_t{slot_retired});
            ++retired;
        }
    }
    aref(header_->live).fetch_sub(retired);
    return retired;
}

void backend_table::reset_worker_slot(std::uint32_t worker) noexcept {
    if (worker >= max_worker_slots) return;
    for (std::uint32_t i = 0; i < header_->capacity; ++i) {
        store(*gauge(worker, i), std::uint32_t{0});
        store(*idle_gauge(worker, i), std::uint32_t{0});  // its connections died with it
    }
}

// ---- state ------------------------------------------------------------------------------------------

backend_state backend_table::state(backend_handle h) const noexcept {
    return static_cast<backend_state>(load(slot(h).state_word) & state_mask);
}

std::uint64_t backend_table::state_since_ms(backend_handle h) const noexcept { return load(slot(h).state_word) >> 8; }

backend_state backend_table::exchange_state(backend_handle h, backend_state to, std::uint64_t now_ms) noexcept {
    std::uint64_t& word = slot(h).state_word;
    std::uint64_t cur = load(word);
    for (;;) {
        auto prev = static_cast<backend_state>(cur & state_mask);
        if (prev == to) return prev;
        if (cas(word, cur, now_ms << 8 | static_cast<std::uint64_t>(to))) return prev;
    }
}

bool backend_table::transition(backend_handle h, backend_state from, backend_state to, std::uint64_t now_ms) noexcept {
    std::uint64_t& word = slot(h).state_word;
    std::uint64_t cur = load(word);
    while (static_cast<backend_state>(cur & state_mask) == from) {
        if (from == to) return true;
        if (cas(word, cur, now_ms << 8 | static_cast<std::uint64_t>(to))) return true;
    }
    return false;
}

std::uint32_t backend_table::record_success(backend_handle h) noexcept {
    std::uint64_t& word = slot(h).streaks;
    std::uint64_t cur = load(word);
    for (;;) {
        std::uint64_t succ = std::min<std::uint64_t>((cur >> 32) + 1, u32_mask);
        if (cas(word, cur, succ << 32)) return static_cast<std::uint32_t>(succ);
    }
}

std::uint32_t backend_table::record_failure(backend_handle h) noexcept {
    std::uint64_t& word = slot(h).streaks;
    std::uint64_t cur = load(word);
    for (;;) {
        std::uint64_t fail = std::min<std::uint64_t>((cur & u32_mask) + 1, u32_mask);
        if (cas(word, cur, fail)) return static_cast<std::uint32_t>(fail);
    }
}

std::uint32_t backend_table::consecutive_failures(backend_handle h) const noexcept {
    return static_cast<std::uint32_t>(load(slot(h).streaks) & u32_mask);
}

std::uint32_t backend_table::consecutive_successes(backend_handle h) const noexcept {
    return static_cast<std::uint32_t>(load(slot(h).streaks) >> 32);
}

std::uint32_t backend_table::passive_failure(backend_handle h, std::uint64_t now_ms, std::uint64_t window_ms) noexcept {
    std::uint64_t& word = slot(h).fail_window;
    std::uint64_t cur = load(word);
    for (;;) {
        std::uint64_t start = cur >> 16, count = cur & window_count_mask;
        if (count == 0 || now_ms < start || now_ms - start >= window_ms) {
            start = now_ms;
            count = 1;
        } else if (count < window_count_mask) {
            ++count;
        }
        if (cas(word, cur, start << 16 | count)) return static_cast<std::uint32_t>(count);
    }
}

void backend_table::reset_passive(backend_handle h) noexcept { store(slot(h).fail_window, std::uint64_t{0}); }

std::uint64_t backend_table::down_until(backend_handle h) const noexcept { return load(slot(h).down_until_ms); }

void backend_table::set_down_until(backend_handle h, std::uint64_t until_ms) noexcept {
    store(slot(h).down_until_ms, until_ms);
}

// ---- gauges and totals -------------------------------------------------------------------------------

void backend_table::acquire(backend_handle h, std::uint32_t worker) noexcept {
    if (worker >= max_worker_slots) return;
    std::uint32_t used = load(header_->worker_rows_used, std::memory_order_relaxed);
    while (worker >= used && !cas(header_->worker_rows_used, used, worker + 1)) {
    }
    std::uint32_t* g = gauge(worker, h.index);
    store(*g, load(*g, std::memory_order_relaxed) + 1, std::memory_order_relaxed);  // single writer
}

void backend_table::release(backend_handle h, std::uint32_t worker) noexcept {
    if (worker >= max_worker_slots) return;
    std::uint32_t* g = gauge(worker, h.index);
    std::uint32_t v = load(*g, std::memory_order_relaxed);
    if (v > 0) store(*g, v - 1, std::memory_order_relaxed);
}

std::uint64_t backend_table::active(backend_handle h) const noexcept {
    const std::uint32_t rows = std::min(load(header_->worker_rows_used, std::memory_order_relaxed), max_worker_slots);
    std::uint64_t sum = 0;
    for (std::uint32_t w = 0; w < rows; ++w) sum += load(*gauge(w, h.index), std::memory_order_relaxed);
    return sum;
}

std::uint32_t backend_table::active_in_slot(backend_handle h, std::uint32_t worker) const noexcept {
    return worker < max_worker_slots ? load(*gauge(worker, h.index), std::memory_order_relaxed) : 0;
}

void backend_table::add_request(backend_handle h) noexcept { add(slot(h).requests, std::uint64_t{1}); }
void backend_table::add_failure(backend_handle h) noexcept { add(slot(h).failures, std::uint64_t{1}); }
void backend_table::add_bytes(backend_handle h, std::uint64_t in, std::uint64_t out) noexcept {
    if (in != 0) add(slot(h).bytes_in, in);
    if (out != 0) add(slot(h).bytes_out, out);
}

void backend_table::set_idle(backend_handle h, std::uint32_t worker, std::uint32_t idle) noexcept {
    if (worker >= max_worker_slots) return;
    std::uint32_t used = load(header_->worker_rows_used, std::memory_order_relaxed);
    while (worker >= used && !cas(header_->worker_rows_used, used, worker + 1)) {
    }
    store(*idle_gauge(worker, h.index), idle, std::memory_order_relaxed);  // single writer
}

std::uint64_t backend_table::idle(backend_handle h) const noexcept {
    const std::uint32_t rows = std::min(load(header_->worker_rows_used, std::memory_order_relaxed), max_worker_slots);
    std::uint64_t sum = 0;
    for (std::uint32_t w = 0; w < rows; ++w) sum += load(*idle_gauge(w, h.index), std::memory_order_relaxed);
    return sum;
}

void backend_table::add_pool_totals(backend_handle h, std::uint64_t opened, std::uint64_t reused,
                                    std::uint64_t trimmed) noexcept {
    backend_slot& s = slot(h);
    if (opened != 0) add(s.conns_opened, opened);
    if (reused != 0) add(s.reused_requests, reused);
    if (trimmed != 0) add(s.trim_closed, trimmed);
}

backend_snapshot backend_table::snapshot(backend_handle h) const {
    const backend_slot& s = slot(h);
    backend_snapshot out;
    std::uint32_t len = std::min<std::uint32_t>(s.key_len, backend_key_bytes);
    std::string_view key(s.key, len);
    auto nul = key.find('\0');
    out.upstream = std::string(key.substr(0, nul));
    if (nul != std::string_view::npos) out.address = std::string(key.substr(nul + 1));
    out.state = state(h);
    out.state_since_ms = state_since_ms(h);
    out.consecutive_failures = consecutive_failures(h);
    out.consecutive_successes = consecutive_successes(h);
    out.down_until_ms = down_until(h);
    out.active = active(h);
    auto& m = const_cast<backend_slot&>(s);
    out.requests = load(m.requests, std::memory_order_relaxed);
    out.failures = load(m.failures, std::memory_order_relaxed);
    out.bytes_in = load(m.bytes_in, std::memory_order_relaxed);
    out.bytes_out = load(m.bytes_out, std::memory_order_relaxed);
    out.idle = idle(h);
    out.conns_opened = load(m.conns_opened, std::memory_order_relaxed);
    out.reused_requests = load(m.reused_requests, std::memory_order_relaxed);
    out.trim_closed = load(m.trim_closed, std::memory_order_relaxed);
    return out;
}

std::vector<backend_handle> backend_table::live() const {
    std::vector<backend_handle> out;
    for (std::uint32_t i = 0; i < header_->capacity; ++i)
        if (load(slots_[i].status) == slot_live) out.push_back(backend_handle{i});
    return out;
}

}  // namespace bulwark::shm
