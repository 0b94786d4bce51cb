// shm/backend_table: servers keyed by upstream + address keep their handle and state across a reload,
// gauges are per worker slot (a dead worker's slot is zeroed), and a dead lock holder is repaired.
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <unistd.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "shm/backend_table.hpp"
#include "shm/robust_mutex.hpp"
#include "shm/segment.hpp"
#include "shm_test_util.hpp"

namespace shm = bulwark::shm;
using shm::backend_handle;
using shm::backend_state;
using shm_test::temp_dir;

namespace {

struct fixture {
    explicit fixture(std::uint32_t capacity = 64)
        : seg(shm::segment::open_or_create(dir.file("backends.shm"),
                                           shm::segment_header_bytes + shm::backend_table::bytes_for(capacity), 1)
                  .seg),
          table(shm::backend_table::open_or_format(mem(), capacity, reason)) {}
    std::span<std::byte> mem() { return {seg.data(), seg.data_size()}; }

    temp_dir dir;
    shm::segment seg;
    std::string reason;
    shm::backend_table table;
};

backend_handle add(shm::backend_table& t, std::string_view up, std::string_view addr, std::uint64_t gen = 0) {
    auto h = t.find_or_add(up, addr, gen);
    BOOST_REQUIRE(h.has_value());
    return *h;
}

// Handles as numbers, so that failures print them (-1: none).
long idx(std::optional<backend_handle> h) { return h ? static_cast<long>(h->index) : -1; }
long idx(backend_handle h) { return static_cast<long>(h.index); }

}  // namespace

BOOST_AUTO_TEST_SUITE(shm_backend_table)

BOOST_AUTO_TEST_CASE(format_then_reuse_then_reformat_on_capacity_change) {
    fixture f(16);
    BOOST_TEST(f.reason == "no backend table");
    auto h = add(f.table, "app", "127.0.0.1:9001");
    std::string reason;
    auto again = shm::backend_table::open_or_format(f.mem(), 16, reason);
    BOOST_TEST(reason.empty());
    BOOST_TEST(idx(again.find("app", "127.0.0.1:9001")) == idx(h));
    auto attached = shm::backend_table::attach(f.mem());
    BOOST_TEST(attached.capacity() == 16u);
    auto smaller = shm::backend_table::open_or_format(f.mem(), 8, reason);
    BOOST_TEST(reason == "backend table capacity 16, expected 8");
    BOOST_TEST(!smaller.find("app", "127.0.0.1:9001").has_value());
    BOOST_CHECK_THROW(shm::backend_table::open_or_format(f.mem(), 1u << 20, reason), std::invalid_argument);
    std::vector<std::byte> zeroes(4096);
    BOOST_CHECK_THROW(shm::backend_table::attach(zeroes), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(handles_are_stable_per_upstream_and_address) {
    fixture f;
    auto a1 = add(f.table, "app", "127.0.0.1:9001");
    auto a2 = add(f.table, "app", "127.0.0.1:9002");
    auto b1 = add(f.table, "api", "127.0.0.1:9001");
    BOOST_TEST(a1.index != a2.index);
    BOOST_TEST(a1.index != b1.index);
    BOOST_TEST(idx(add(f.table, "app", "127.0.0.1:9001")) == idx(a1));
    BOOST_TEST(idx(f.table.find("api", "127.0.0.1:9001")) == idx(b1));
    BOOST_TEST(!f.table.find("api", "127.0.0.1:9002").has_value());
    BOOST_TEST(f.table.live().size() == 3u);
    auto s = f.table.snapshot(b1);
    BOOST_TEST(s.upstream == "api");
    BOOST_TEST(s.address == "127.0.0.1:9001");
    BOOST_TEST((s.state == backend_state::up));
}

BOOST_AUTO_TEST_CASE(a_reload_keeps_the_state_of_servers_still_listed) {
    fixture f;
    std::uint64_t g1 = f.table.begin_generation();
    auto kept = add(f.table, "app", "127.0.0.1:9001", g1);
    auto dropped = add(f.table, "app", "127.0.0.1:9002", g1);
    f.table.exchange_state(kept, backend_state::down, 1000);
    f.table.record_failure(kept);
    f.table.add_request(kept);
    f.table.set_down_until(kept, 5000);

    std::uint64_t g2 = f.table.begin_generation();
    BOOST_TEST(g2 == g1 + 1);
    BOOST_TEST(idx(add(f.table, "app", "127.0.0.1:9001", g2)) == idx(kept));
    auto added = add(f.table, "app", "127.0.0.1:9003", g2);
    BOOST_TEST((f.table.state(kept) == backend_state::down));
    BOOST_TEST(f.table.state_since_ms(kept) == 1000u);
    BOOST_TEST(f.table.consecutive_failures(kept) == 1u);
    BOOST_TEST(f.table.down_until(kept) == 5000u);
    BOOST_TEST(f.table.snapshot(kept).requests == 1u);
    BOOST_TEST((f.table.state(added) == backend_state::up));

    // Once the old generation's workers are gone, the server no longer listed is freed.
    BOOST_TEST(f.table.retire_older_than(g2) == 1u);
    BOOST_TEST(!f.table.find("app", "127.0.0.1:9002").has_value());
    BOOST_TEST(f.table.live().size() == 2u);
    // Listed again later: a fresh entry.
    auto back = add(f.table, "app", "127.0.0.1:9002", f.table.begin_generation());
    BOOST_TEST(f.table.snapshot(back).requests == 0u);
    (void)dropped;
}

BOOST_AUTO_TEST_CASE(a_full_table_and_an_overlong_key_are_reported) {
    fixture f(4);
    for (int i = 0; i < 4; ++i) add(f.table, "app", "10.0.0." + std::to_string(i) + ":80");
    std::string error;
    BOOST_TEST(!f.table.find_or_add("app", "10.0.0.9:80", 0, &error).has_value());
    BOOST_TEST(error == "backend table full (4 servers)");
    BOOST_TEST(!f.table.find_or_add(std::string(100, 'u'), std::string(40, 'a'), 0, &error).has_value());
    BOOST_TEST(error.rfind("backend key too long", 0) == 0u);
    // Retired slots (tombstones) are reused, and lookups still find servers placed after them.
    std::uint64_t g = f.table.begin_generation();
    add(f.table, "app", "10.0.0.3:80", g);
    BOOST_TEST(f.table.retire_older_than(g) == 3u);
    for (int i = 10; i < 13; ++i) add(f.table, "app", "10.0.0." + std::to_string(i) + ":80", g);
    BOOST_TEST(f.table.find("app", "10.0.0.3:80").has_value());
    BOOST_TEST(f.table.live().size() == 4u);
}

BOOST_AUTO_TEST_CASE(active_requests_are_summed_over_worker_slots) {
    fixture f;
    auto h = add(f.table, "app", "127.0.0.1:9001");
    auto other = add(f.table, "app", "127.0.0.1:9002");
    f.table.acquire(h, 0);
    f.table.acquire(h, 1);
    f.table.acquire(h, 1);
    f.table.acquire(h, 5);
    f.table.acquire(other, 1);
    BOOST_TEST(f.table.active(h) == 4u);
    BOOST_TEST(f.table.active_in_slot(h, 1) == 2u);
    f.table.release(h, 0);
    f.table.release(h, 0);  // never below zero
    BOOST_TEST(f.table.active_in_slot(h, 0) == 0u);
    f.table.reset_worker_slot(1);  // worker 1 died
    BOOST_TEST(f.table.active(h) == 1u);
    BOOST_TEST(f.table.active(other) == 0u);
    f.table.acquire(h, shm::max_worker_slots - 1);
    BOOST_TEST(f.table.active(h) == 2u);
}

// Connection pools (issue 16): idle gauges per worker slot beside the active ones, totals added up.
BOOST_AUTO_TEST_CASE(pool_idle_gauges_and_totals) {
    fixture f;
    auto h = add(f.table, "app", "127.0.0.1:9001");
    auto other = add(f.table, "app", "127.0.0.1:9002");
    f.table.set_idle(h, 0, 10);
    f.table.set_idle(h, 3, 5);
    f.table.set_idle(other, 3, 7);
    f.table.acquire(h, 0);
    BOOST_TEST(f.table.idle(h) == 15u);
    BOOST_TEST(f.table.active(h) == 1u);  // the two matrices do not overlap
    f.table.set_idle(h, 0, 2);             // a gauge: the latest value counts
    BOOST_TEST(f.table.idle(h) == 7u);
    f.table.add_pool_totals(h, 3, 100, 1);
    f.table.add_pool_totals(h, 1, 50, 0);
    auto snap = f.table.snapshot(h);
    BOOST_TEST(snap.idle == 7u);
    BOOST_TEST(snap.conns_opened == 4u);
    BOOST_TEST(snap.reused_requests == 150u);
    BOOST_TEST(snap.trim_closed == 1u);
    BOOST_TEST(f.table.snapshot(other).conns_opened == 0u);
    f.table.reset_worker_slot(3);  // worker 3 died, and its connections with it
    BOOST_TEST(f.table.idle(h) == 2u);
    BOOST_TEST(f.table.idle(other) == 0u);
    f.table.set_idle(h, shm::max_worker_slots - 1, 1);
    BOOST_TEST(f.table.idle(h) == 3u);
}

BOOST_AUTO_TEST_CASE(a_dead_workers_gauges_do_not_drift, *boost::unit_test::timeout(60)) {
    fixture f;
    auto h = add(f.table, "app", "127.0.0.1:9001");
    constexpr int n = 50000;
    // Worker 0 ends with 1000 requests in flight and stays alive; worker 1 dies with 700 in flight.
    pid_t w0 = shm_test::fork_child([&] {
        for (int i = 0; i < n; ++i) {
            f.table.acquire(h, 0);
            if (i >= 1000) f.table.release(h, 0);
        }
        return 0;
    });
    pid_t w1 = shm_test::fork_child([&] {
        for (int i = 0; i < n; ++i) {
            f.table.acquire(h, 1);
            f.table.add_request(h);
            if (i >= 700) f.table.release(h, 1);
        }
        ::raise(SIGKILL);
        return 0;
    });
    BOOST_TEST(shm_test::wait_child(w0) == 0);
    BOOST_TEST(shm_test::wait_child(w1) == 128 + SIGKILL);
    BOOST_TEST(f.table.active(h) == 1700u);
    f.table.reset_worker_slot(1);  // what the master does after reaping worker 1
    BOOST_TEST(f.table.active(h) == 1000u);
    BOOST_TEST(f.table.snapshot(h).requests == static_cast<std::uint64_t>(n));
}

BOOST_AUTO_TEST_CASE(exactly_one_process_sees_a_state_change, *boost::unit_test::timeout(60)) {
    fixture f;
    auto h = add(f.table, "app", "127.0.0.1:9001");
    shm_test::shared_counters seen;  // [0] changes to down seen, [1] changes back to up seen
    std::vector<pid_t> kids;
    for (int i = 0; i < 4; ++i)
        kids.push_back(shm_test::fork_child([&] {
            for (std::uint64_t round = 0; round < 5000; ++round) {
                if (f.table.transition(h, backend_state::up, backend_state::down, round)) seen.add(0, 1);
                if (f.table.exchange_state(h, backend_state::up, round) == backend_state::down) seen.add(1, 1);
            }
            return 0;
        }));
    for (pid_t k : kids) BOOST_TEST(shm_test::wait_child(k) == 0);
    // Changes alternate up -> down -> up and each is reported to exactly one process.
    BOOST_TEST((f.table.state(h) == backend_state::up));
    BOOST_TEST(seen.get(0) == seen.get(1));
    BOOST_TEST(seen.get(0) > 0u);
    BOOST_TEST(!f.table.transition(h, backend_state::down, backend_state::draining, 1));
    BOOST_TEST(f.table.transition(h, backend_state::up, backend_state::draining, 7));
    BOOST_TEST((f.table.exchange_state(h, backend_state::draining, 8) == backend_state::draining));
    BOOST_TEST(f.table.state_since_ms(h) == 7u);  // unchanged state keeps its "since"
}

BOOST_AUTO_TEST_CASE(health_streaks_and_the_passive_window) {
    fixture f;
    auto h = add(f.table, "app", "127.0.0.1:9001");
    BOOST_TEST(f.table.record_failure(h) == 1u);
    BOOST_TEST(f.table.record_failure(h) == 2u);
    BOOST_TEST(f.table.record_success(h) == 1u);
    BOOST_TEST(f.table.consecutive_failures(h) == 0u);
    BOOST_TEST(f.table.record_success(h) == 2u);
    BOOST_TEST(f.table.record_failure(h) == 1u);
    BOOST_TEST(f.table.consecutive_successes(h) == 0u);

    BOOST_TEST(f.table.passive_failure(h, 1000, 10000) == 1u);
    BOOST_TEST(f.table.passive_failure(h, 5000, 10000) == 2u);
    BOOST_TEST(f.table.passive_failure(h, 10999, 10000) == 3u);
    BOOST_TEST(f.table.passive_failure(h, 11000, 10000) == 1u);  // the window opened at 1000 expired
    f.table.reset_passive(h);
    BOOST_TEST(f.table.passive_failure(h, 11001, 10000) == 1u);

    f.table.add_failure(h);
    f.table.add_bytes(h, 100, 2000);
    auto s = f.table.snapshot(h);
    BOOST_TEST(s.failures == 1u);
    BOOST_TEST(s.bytes_in == 100u);
    BOOST_TEST(s.bytes_out == 2000u);
    BOOST_TEST(shm::backend_state_name(backend_state::draining) == "draining");
}

BOOST_AUTO_TEST_CASE(an_insert_cut_short_by_death_is_repaired, *boost::unit_test::timeout(30)) {
    fixture f;
    add(f.table, "app", "127.0.0.1:9001");
    auto* header = reinterpret_cast<shm::backend_table_header*>(f.mem().data());
    auto* slots = reinterpret_cast<shm::backend_slot*>(f.mem().data() + sizeof(shm::backend_table_header));
    // The child dies holding the lock in the middle of writing slot 40.
    pid_t pid = shm_test::fork_child([&] {
        shm::robust_mutex m(header->lock);
        m.lock();
        slots[40].status = shm::slot_claiming;
        ::raise(SIGKILL);
        return 0;
    });
    BOOST_TEST(shm_test::wait_child(pid) == 128 + SIGKILL);
    auto h = f.table.find_or_add("app", "127.0.0.1:9002", 0);
    BOOST_TEST(h.has_value());
    BOOST_TEST(f.table.lock_recoveries() == 1u);
    BOOST_TEST(slots[40].status == static_cast<std::uint32_t>(shm::slot_retired));
    BOOST_TEST(f.table.live().size() == 2u);
    BOOST_TEST(f.table.find("app", "127.0.0.1:9001").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
