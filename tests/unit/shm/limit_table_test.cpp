// shm/limit_table: token-bucket rates hold across processes, the table never grows, a flood of new
// keys evicts stale entries and not hot ones, and connection counts and blocks behave.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "shm/limit_table.hpp"
#include "shm/segment.hpp"
#include "shm_test_util.hpp"

namespace shm = bulwark::shm;
using shm_test::temp_dir;

namespace {

struct fixture {
    explicit fixture(std::uint32_t slots = 1024)
        : seg(shm::segment::open_or_create(dir.file("limits.shm"),
                                           shm::segment_header_bytes + shm::limit_table::bytes_for(slots), 1)
                  .seg),
          table(shm::limit_table::open_or_format(mem(), slots, reason)) {}
    std::span<std::byte> mem() { return {seg.data(), seg.data_size()}; }

    temp_dir dir;
    shm::segment seg;
    std::string reason;
    shm::limit_table table;
};

constexpr std::uint32_t limit_a = 1, limit_b = 2;

}  // namespace

BOOST_AUTO_TEST_SUITE(shm_limit_table)

BOOST_AUTO_TEST_CASE(format_reuse_and_attach) {
    fixture f(100);
    BOOST_TEST(f.reason == "no limit table");
    BOOST_TEST(f.table.capacity() == 128u);  // 16 groups of 8
    auto key = f.table.key_of("10.0.0.1", limit_a);
    BOOST_TEST(f.table.try_acquire(key, limit_a, shm::limit_rate::make(1, 1), 1000).allowed);
    std::string reason;
    auto again = shm::limit_table::open_or_format(f.mem(), 100, reason);
    BOOST_TEST(reason.empty());
    BOOST_TEST(again.key_of("10.0.0.1", limit_a) == key);  // same seed
    BOOST_TEST(again.contains(key));
    BOOST_TEST(shm::limit_table::attach(f.mem()).contains(key));
    auto other = shm::limit_table::open_or_format(f.mem(), 16, reason);
    BOOST_TEST(reason == "limit table of 128 slots, expected 16");
    BOOST_TEST(!other.contains(key));
    BOOST_CHECK_THROW(shm::limit_table::open_or_format(f.mem(), 1u << 20, reason), std::invalid_argument);
    std::vector<std::byte> zeroes(4096);
    BOOST_CHECK_THROW(shm::limit_table::attach(zeroes), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(keys_depend_on_the_limit_id) {
    fixture f;
    BOOST_TEST(f.table.key_of("10.0.0.1", limit_a) != f.table.key_of("10.0.0.1", limit_b));
    BOOST_TEST(f.table.key_of("10.0.0.1", limit_a) != f.table.key_of("10.0.0.2", limit_a));
    BOOST_TEST(f.table.key_of("", 0) != 0u);
}

BOOST_AUTO_TEST_CASE(burst_then_the_steady_rate) {
    fixture f;
    auto rate = shm::limit_rate::make(10, 5);  // 10/s, bucket of 5
    auto key = f.table.key_of("10.0.0.1", limit_a);
    std::uint64_t t = 1'000'000;
    for (int i = 0; i < 5; ++i) BOOST_TEST(f.table.try_acquire(key, limit_a, rate, t).allowed);
    auto refused = f.table.try_acquire(key, limit_a, rate, t);
    BOOST_TEST(!refused.allowed);
    BOOST_TEST(refused.retry_after_ms == 100u);
    BOOST_TEST(!f.table.try_acquire(key, limit_a, rate, t + 99).allowed);
    BOOST_TEST(f.table.try_acquire(key, limit_a, rate, t + 100).allowed);
    BOOST_TEST(f.table.limited(limit_a) == 2u);

    // A request every ms for 10 s: at most burst + rate * 10 s.
    fixture g;
    int allowed = 0;
    for (std::uint64_t ms = 0; ms < 10'000; ++ms) allowed += g.table.try_acquire(key, limit_a, rate, t + ms).allowed;
    BOOST_TEST(allowed >= 104);
    BOOST_TEST(allowed <= 105);
}

BOOST_AUTO_TEST_CASE(retry_after_and_delay_are_exact) {
    fixture f;
    auto rate = shm::limit_rate::make(4, 3);  // one every 250 ms, bucket of 3
    auto key = f.table.key_of("k", limit_a);
    std::uint64_t t = 5000;
    BOOST_TEST(f.table.try_acquire(key, limit_a, rate, t).delay_ms == 0u);
    BOOST_TEST(f.table.try_acquire(key, limit_a, rate, t).delay_ms == 250u);  // "delay" mode would wait
    BOOST_TEST(f.table.try_acquire(key, limit_a, rate, t).delay_ms == 500u);
    auto r = f.table.try_acquire(key, limit_a, rate, t + 10);
    BOOST_TEST(!r.allowed);
    BOOST_TEST(r.retry_after_ms == 240u);
    BOOST_TEST(!f.table.try_acquire(key, limit_a, rate, t + 10 + r.retry_after_ms - 1).allowed);
    BOOST_TEST(f.table.try_acquire(key, limit_a, rate, t + 10 + r.retry_after_ms).allowed);
    // The convenience overload hashes the key and builds the rate itself.
    BOOST_TEST(f.table.try_acquire("other", limit_a, 4.0, 3, t).allowed);
    // burst 0 behaves as 1; rate per minute works.
    auto per_minute = shm::limit_rate::make(6.0 / 60, 0);
    auto k2 = f.table.key_of("slow", limit_b);
    BOOST_TEST(f.table.try_acquire(k2, limit_b, per_minute, t).allowed);
    auto slow = f.table.try_acquire(k2, limit_b, per_minute, t);
    BOOST_TEST(!slow.allowed);
    BOOST_TEST(slow.retry_after_ms == 10'000u);
}

BOOST_AUTO_TEST_CASE(keys_and_limits_are_independent) {
    fixture f;
    auto rate = shm::limit_rate::make(1, 1);
    auto a = f.table.key_of("10.0.0.1", limit_a), b = f.table.key_of("10.0.0.2", limit_a),
         a2 = f.table.key_of("10.0.0.1", limit_b);
    BOOST_TEST(f.table.try_acquire(a, limit_a, rate, 100).allowed);
    BOOST_TEST(!f.table.try_acquire(a, limit_a, rate, 100).allowed);
    BOOST_TEST(f.table.try_acquire(b, limit_a, rate, 100).allowed);
    BOOST_TEST(f.table.try_acquire(a2, limit_b, rate, 100).allowed);
    BOOST_TEST(f.table.limited(limit_a) == 1u);
    BOOST_TEST(f.table.limited(limit_b) == 0u);
}

BOOST_AUTO_TEST_CASE(the_rate_holds_across_two_processes, *boost::unit_test::timeout(60)) {
    fixture f;
    const std::string path = f.dir.file("limits.shm");
    constexpr double rate = 50;
    constexpr std::uint32_t burst = 10;
    constexpr std::uint64_t duration_ms = 800;
    shm_test::shared_counters out;  // [0] allowed, [1] refused
    const std::uint64_t start = shm_test::mono_ms();
    auto hammer = [&] {
        // Maps the file again by path, as a process after exec would.
        auto seg = shm::segment::open_existing(path, 1);
        auto table = shm::limit_table::attach({seg.data(), seg.data_size()});
        auto key = table.key_of("192.0.2.7", limit_a);
        auto spec = shm::limit_rate::make(rate, burst);
        std::uint64_t ok = 0, no = 0;
        for (std::uint64_t now = shm_test::mono_ms(); now < start + duration_ms; now = shm_test::mono_ms())
            (table.try_acquire(key, limit_a, spec, now).allowed ? ok : no) += 1;
        out.add(0, ok);
        out.add(1, no);
        return 0;
    };
    pid_t a = shm_test::fork_child(hammer);
    pid_t b = shm_test::fork_child(hammer);
    BOOST_TEST(shm_test::wait_child(a) == 0);
    BOOST_TEST(shm_test::wait_child(b) == 0);
    const double elapsed_s = static_cast<double>(shm_test::mono_ms() - start) / 1000;
    const auto allowed = out.get(0);
    BOOST_TEST_MESSAGE("allowed " << allowed << ", refused " << out.get(1) << " in " << elapsed_s << " s");
    BOOST_TEST(allowed <= burst + rate * elapsed_s + 1);
    BOOST_TEST(allowed >= burst + rate * (duration_ms / 1000.0) * 0.5);  // loose: the machine may be busy
    BOOST_TEST(out.get(1) > 1000u);  // both hammered far above the rate
    BOOST_TEST(f.table.limited(limit_a) == out.get(1));
}

BOOST_AUTO_TEST_CASE(a_million_new_keys_neither_grow_the_table_nor_evict_hot_keys) {
    constexpr std::uint32_t slots = 4096;
    fixture f(slots);
    const auto bytes = shm::limit_table::bytes_for(slots);
    // Hot keys: their bucket (3 per hour) is spent, so they are refused unless they lose their entry.
    auto strict = shm::limit_rate::make(3.0 / 3600, 3);
    std::vector<std::uint64_t> hot;
    for (int i = 0; i < 16; ++i) hot.push_back(f.table.key_of("hot-" + std::to_string(i), limit_a));
    std::uint64_t now = 1'000'000;
    for (auto k : hot)
        for (int i = 0; i < 3; ++i) BOOST_REQUIRE(f.table.try_acquire(k, limit_a, strict, now).allowed);

    auto open_rate = shm::limit_rate::make(100, 10);
    int hot_allowed = 0;
    for (std::uint32_t i = 0; i < 1'000'000; ++i) {
        if (i % 10 == 0) ++now;  // 10 new addresses per ms
        auto k = f.table.key_of("flood-" + std::to_string(i), limit_a);
        BOOST_REQUIRE(f.table.try_acquire(k, limit_a, open_rate, now).allowed);
        if (i % 50 == 0)
            for (auto h : hot) hot_allowed += f.table.try_acquire(h, limit_a, strict, now).allowed;
    }
    BOOST_TEST(hot_allowed == 0);
    for (auto h : hot) BOOST_TEST(f.table.contains(h));
    BOOST_TEST(f.table.used() == f.table.capacity());
    BOOST_TEST(f.table.capacity() == slots);
    BOOST_TEST(shm::limit_table::bytes_for(slots) == bytes);
    BOOST_TEST(f.table.evictions() >= 1'000'000u - slots);
    BOOST_TEST(f.table.inserts() + f.table.evictions() == 1'000'000u + hot.size());
    BOOST_TEST(f.table.overflows() == 0u);
}

BOOST_AUTO_TEST_CASE(a_full_group_recycles_its_least_recently_used_slot) {
    fixture f(8);  // a single group: every key competes for the same 8 slots
    auto rate = shm::limit_rate::make(100, 10);
    std::vector<std::uint64_t> keys;
    for (int i = 0; i < 9; ++i) keys.push_back(f.table.key_of("k" + std::to_string(i), limit_a));
    for (int i = 0; i < 8; ++i) f.table.try_acquire(keys[i], limit_a, rate, 100 + i);
    f.table.try_acquire(keys[0], limit_a, rate, 200);  // k0 is used again: k1 is now the oldest
    BOOST_TEST(f.table.evictions() == 0u);
    f.table.try_acquire(keys[8], limit_a, rate, 201);
    BOOST_TEST(f.table.evictions() == 1u);
    BOOST_TEST(!f.table.contains(keys[1]));
    BOOST_TEST(f.table.contains(keys[0]));
    BOOST_TEST(f.table.contains(keys[8]));
    BOOST_TEST(f.table.used() == 8u);
}

BOOST_AUTO_TEST_CASE(open_connections_and_active_blocks_are_never_recycled) {
    fixture f(8);
    auto rate = shm::limit_rate::make(100, 10);
    std::vector<std::uint64_t> keys;
    for (int i = 0; i < 10; ++i) keys.push_back(f.table.key_of("c" + std::to_string(i), limit_a));
    for (int i = 0; i < 7; ++i) BOOST_TEST(f.table.conn_acquire(keys[i], 10, 100));
    f.table.block(keys[7], 10'000, 100);
    // Nothing can go: the new key is let through untracked and counted.
    BOOST_TEST(f.table.try_acquire(keys[8], limit_a, rate, 5000).allowed);
    BOOST_TEST(!f.table.contains(keys[8]));
    BOOST_TEST(f.table.overflows() == 1u);
    BOOST_TEST(f.table.conn_acquire(keys[9], 1, 5000));  // fail open as well
    BOOST_TEST(f.table.overflows() == 2u);
    // Once a connection closes (or the block ends), that entry may be recycled.
    f.table.conn_release(keys[3]);
    BOOST_TEST(f.table.try_acquire(keys[8], limit_a, rate, 5001).allowed);
    BOOST_TEST(f.table.contains(keys[8]));
    BOOST_TEST(!f.table.contains(keys[3]));
    BOOST_TEST(f.table.blocked_until(keys[7], 5001) == 10'000u);
    BOOST_TEST(f.table.try_acquire(keys[9], limit_a, rate, 10'001).allowed);  // block over: k7 is recyclable
    BOOST_TEST(!f.table.contains(keys[7]));
}

BOOST_AUTO_TEST_CASE(connection_counts) {
    fixture f;
    auto k = f.table.key_of("10.0.0.1", 7);
    for (int i = 0; i < 3; ++i) BOOST_TEST(f.table.conn_acquire(k, 3, 100));
    BOOST_TEST(!f.table.conn_acquire(k, 3, 100));
    BOOST_TEST(f.table.conns(k) == 3u);
    f.table.conn_release(k);
    BOOST_TEST(f.table.conn_acquire(k, 3, 101));
    f.table.conn_release(f.table.key_of("never-seen", 7));  // no-op, not inserted
    BOOST_TEST(!f.table.contains(f.table.key_of("never-seen", 7)));
    // A worker died holding some: counts restart, and releases of older connections do not underflow.
    f.table.forget_connections();
    BOOST_TEST(f.table.conns(k) == 0u);
    f.table.conn_release(k);
    BOOST_TEST(f.table.conns(k) == 0u);
    BOOST_TEST(f.table.conn_acquire(k, 1, 102));
    BOOST_TEST(!f.table.conn_acquire(k, 1, 102));
}

BOOST_AUTO_TEST_CASE(connection_counts_balance_across_processes, *boost::unit_test::timeout(60)) {
    fixture f;
    auto k = f.table.key_of("10.0.0.1", 7);
    shm_test::shared_counters out;  // [0] refusals
    auto body = [&] {
        for (int i = 0; i < 20000; ++i) {
            if (f.table.conn_acquire(k, 1, 100)) {
                if (f.table.conns(k) > 1) return 1;
                f.table.conn_release(k);
            } else {
                out.add(0, 1);
            }
        }
        return 0;
    };
    std::vector<pid_t> kids;
    for (int i = 0; i < 3; ++i) kids.push_back(shm_test::fork_child(body));
    for (pid_t p : kids) BOOST_TEST(shm_test::wait_child(p) == 0);
    BOOST_TEST(f.table.conns(k) == 0u);
    BOOST_TEST_MESSAGE("refused " << out.get(0) << " of 60000 with max 1 and 3 processes");
}

BOOST_AUTO_TEST_CASE(blocks_extend_and_expire_and_lookups_do_not_insert) {
    fixture f;
    auto k = f.table.key_of("10.0.0.9", 3);
    BOOST_TEST(f.table.blocked_until(k, 100) == 0u);
    BOOST_TEST(f.table.used() == 0u);
    f.table.block(k, 600'100, 100);
    BOOST_TEST(f.table.blocked_until(k, 101) == 600'100u);
    f.table.block(k, 500'000, 200);  // never shortened
    BOOST_TEST(f.table.blocked_until(k, 201) == 600'100u);
    f.table.block(k, 700'000, 300);
    BOOST_TEST(f.table.blocked_until(k, 301) == 700'000u);
    BOOST_TEST(f.table.blocked_until(k, 700'000) == 0u);
}

BOOST_AUTO_TEST_CASE(brute_force_guard_five_failures_in_a_minute_block_ten_minutes) {
    fixture f;
    constexpr std::uint32_t guard = 9;
    auto failures = shm::limit_rate::make(5.0 / 60, 5);
    auto k = f.table.key_of("198.51.100.4", guard);
    std::uint64_t t = 50'000;
    for (int i = 0; i < 5; ++i) BOOST_TEST(f.table.try_acquire(k, guard, failures, t + i * 1000).allowed);
    if (!f.table.try_acquire(k, guard, failures, t + 6000).allowed) f.table.block(k, t + 6000 + 600'000, t + 6000);
    BOOST_TEST(f.table.blocked_until(k, t + 7000) == t + 606'000);
    BOOST_TEST(f.table.blocked_until(k, t + 606'000) == 0u);
}

BOOST_AUTO_TEST_CASE(a_clock_stepped_back_does_not_lock_a_key_out) {
    fixture f;
    auto rate = shm::limit_rate::make(1, 2);
    auto k = f.table.key_of("k", limit_a);
    BOOST_TEST(f.table.try_acquire(k, limit_a, rate, 10'000'000).allowed);
    BOOST_TEST(f.table.try_acquire(k, limit_a, rate, 10'000'000).allowed);
    BOOST_TEST(!f.table.try_acquire(k, limit_a, rate, 10'000'000).allowed);
    // After a reboot the monotonic clock restarts near zero: the entry from "the future" is stale.
    BOOST_TEST(f.table.try_acquire(k, limit_a, rate, 5000).allowed);
}

BOOST_AUTO_TEST_SUITE_END()
