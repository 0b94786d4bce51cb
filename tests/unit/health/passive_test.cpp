// health/passive: max_fails within fail_timeout takes a server down exactly once across processes,
// down_until expiry gives it a trial without active checks (and never with them), slow_start ramps.
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <unistd.h>

#include <vector>

#include "health/passive.hpp"
#include "health_test_util.hpp"

namespace health = bulwark::health;
namespace shm = bulwark::shm;
using shm::backend_state;
using namespace std::chrono_literals;

namespace {

bulwark::config::upstream make_upstream(unsigned max_fails, std::chrono::milliseconds fail_timeout,
                                        bool active = false) {
    bulwark::config::upstream up;
    up.name = "app";
    up.max_fails = max_fails;
    up.fail_timeout = fail_timeout;
    up.health.enabled = active;
    return up;
}

int state_of(const health::outcome& o) { return static_cast<int>(o.state); }
constexpr int up_ = static_cast<int>(backend_state::up);
constexpr int down_ = static_cast<int>(backend_state::down);

}  // namespace

BOOST_AUTO_TEST_SUITE(health_passive)

BOOST_AUTO_TEST_CASE(max_fails_within_fail_timeout_marks_down_once) {
    health_test::table_fixture f;
    auto h = f.add("app", "127.0.0.1:9001");
    auto up = make_upstream(3, 10s);
    BOOST_TEST(!health::on_failure(f.table, h, up, 1000).changed);
    BOOST_TEST(!health::on_failure(f.table, h, up, 2000).changed);
    BOOST_TEST(health::available(f.table, h, 2000));
    auto o = health::on_failure(f.table, h, up, 3000);
    BOOST_TEST(o.changed);
    BOOST_TEST(state_of(o) == down_);
    BOOST_TEST(f.table.down_until(h) == 13000u);
    BOOST_TEST(f.table.state_since_ms(h) == 3000u);
    // Later failures (exchanges that were in flight) change nothing and are not logged again.
    auto again = health::on_failure(f.table, h, up, 3001);
    BOOST_TEST(!again.changed);
    BOOST_TEST(state_of(again) == down_);
    BOOST_TEST(!health::available(f.table, h, 12000));
    // A success of an exchange that started earlier does not bring it back before down_until.
    BOOST_TEST(!health::on_success(f.table, h, 12000).changed);
    BOOST_TEST((f.table.state(h) == backend_state::down));
}

BOOST_AUTO_TEST_CASE(failures_spread_beyond_the_window_do_not_mark_down) {
    health_test::table_fixture f;
    auto h = f.add("app", "127.0.0.1:9001");
    auto up = make_upstream(3, 10s);
    BOOST_TEST(!health::on_failure(f.table, h, up, 1000).changed);
    BOOST_TEST(!health::on_failure(f.table, h, up, 6000).changed);
    BOOST_TEST(!health::on_failure(f.table, h, up, 11000).changed);  // the window opened at 1000 is over
    BOOST_TEST(!health::on_failure(f.table, h, up, 12000).changed);
    BOOST_TEST((f.table.state(h) == backend_state::up));
    BOOST_TEST(health::on_failure(f.table, h, up, 13000).changed);  // 11000, 12000, 13000
}

BOOST_AUTO_TEST_CASE(down_until_expiry_gives_a_trial_without_active_checks) {
    health_test::table_fixture f;
    auto h = f.add("app", "127.0.0.1:9001");
    auto up = make_upstream(1, 10s);
    BOOST_TEST(health::on_failure(f.table, h, up, 1000).changed);
    BOOST_TEST(!health::available(f.table, h, 10999));
    BOOST_TEST(health::available(f.table, h, 11000));
    // The trial fails: down for another fail_timeout, nothing to log.
    auto o = health::on_failure(f.table, h, up, 11500);
    BOOST_TEST(!o.changed);
    BOOST_TEST(state_of(o) == down_);
    BOOST_TEST(f.table.down_until(h) == 21500u);
    BOOST_TEST(!health::available(f.table, h, 21000));
    // The next trial succeeds: up, logged once, the passive window starts afresh.
    BOOST_TEST(health::available(f.table, h, 21500));
    auto back = health::on_success(f.table, h, 21600);
    BOOST_TEST(back.changed);
    BOOST_TEST(state_of(back) == up_);
    BOOST_TEST(f.table.state_since_ms(h) == 21600u);
    BOOST_TEST(!health::on_success(f.table, h, 21700).changed);
    BOOST_TEST(health::available(f.table, h, 21700));
    auto up3 = make_upstream(3, 10s);
    BOOST_TEST(!health::on_failure(f.table, h, up3, 21800).changed);
    BOOST_TEST(!health::on_failure(f.table, h, up3, 21900).changed);
}

BOOST_AUTO_TEST_CASE(with_active_checks_only_the_monitor_brings_it_back) {
    health_test::table_fixture f;
    auto h = f.add("app", "127.0.0.1:9001");
    auto up = make_upstream(2, 1s, true);
    f.table.record_success(h);
    f.table.record_success(h);
    f.table.record_success(h);  // a long run of passed probes
    BOOST_TEST(!health::on_failure(f.table, h, up, 100).changed);
    BOOST_TEST(health::on_failure(f.table, h, up, 200).changed);
    BOOST_TEST(f.table.down_until(h) == health::never);
    BOOST_TEST(f.table.consecutive_successes(h) == 0u);  // the monitor needs health_rise fresh ones
    BOOST_TEST(!health::available(f.table, h, 1'000'000'000));
    BOOST_TEST(!health::on_success(f.table, h, 1'000'000'000).changed);
    BOOST_TEST(!health::on_failure(f.table, h, up, 1'000'000'000).changed);
    BOOST_TEST(f.table.down_until(h) == health::never);
    BOOST_TEST((f.table.state(h) == backend_state::down));
}

BOOST_AUTO_TEST_CASE(max_fails_zero_and_draining_servers) {
    health_test::table_fixture f;
    auto h = f.add("app", "127.0.0.1:9001");
    auto off = make_upstream(0, 10s);
    for (int i = 0; i < 100; ++i) BOOST_TEST_REQUIRE(!health::on_failure(f.table, h, off, 1000 + i).changed);
    BOOST_TEST((f.table.state(h) == backend_state::up));

    auto d = f.add("app", "127.0.0.1:9002");
    f.table.exchange_state(d, backend_state::draining, 50);
    BOOST_TEST(!health::available(f.table, d, 100));
    auto o = health::on_failure(f.table, d, make_upstream(1, 10s), 100);
    BOOST_TEST(!o.changed);
    BOOST_TEST((o.state == backend_state::draining));
    BOOST_TEST(!health::on_success(f.table, d, 100).changed);
}

BOOST_AUTO_TEST_CASE(slow_start_ramps_linearly_from_a_tenth) {
    health_test::table_fixture f;
    auto h = f.add("app", "127.0.0.1:9001");
    // Up since the table was made: no ramp.
    BOOST_TEST(health::ramp(f.table, h, 30s, 5000) == 1.0);
    f.table.exchange_state(h, backend_state::down, 1000);
    BOOST_TEST(health::ramp(f.table, h, 30s, 5000) == 1.0);  // not up: availability decides
    f.table.exchange_state(h, backend_state::up, 10'000);
    BOOST_TEST(health::ramp(f.table, h, 0s, 10'000) == 1.0);
    BOOST_TEST(health::ramp(f.table, h, 30s, 10'000) == 0.1);
    BOOST_TEST(health::ramp(f.table, h, 30s, 9'000) == 0.1);  // clock read before the change
    BOOST_TEST(health::ramp(f.table, h, 30s, 11'000) == 0.1);  // 1/30 is below the minimum
    BOOST_TEST(health::ramp(f.table, h, 30s, 25'000) == 0.5, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(health::ramp(f.table, h, 30s, 34'000) == 0.8, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(health::ramp(f.table, h, 30s, 40'000) == 1.0);
    BOOST_TEST(health::ramp(f.table, h, 30s, 400'000) == 1.0);
}

BOOST_AUTO_TEST_CASE(two_processes_reaching_max_fails_log_one_change, *boost::unit_test::timeout(60)) {
    health_test::table_fixture f;
    auto h = f.add("app", "127.0.0.1:9001");
    auto up = make_upstream(50, 10s);
    shm_test::shared_counters seen;  // [0] changes seen, [1] failures recorded
    std::vector<pid_t> kids;
    for (int k = 0; k < 2; ++k)
        kids.push_back(shm_test::fork_child([&] {
            for (int i = 0; i < 5000; ++i) {
                if (health::on_failure(f.table, h, up, 1000).changed) seen.add(0, 1);
                seen.add(1, 1);
            }
            return 0;
        }));
    for (pid_t k : kids) BOOST_TEST(shm_test::wait_child(k) == 0);
    BOOST_TEST(seen.get(0) == 1u);
    BOOST_TEST(seen.get(1) == 10000u);
    BOOST_TEST((f.table.state(h) == backend_state::down));
    BOOST_TEST(f.table.down_until(h) == 11000u);
}

BOOST_AUTO_TEST_CASE(changes_alternate_and_each_is_seen_once, *boost::unit_test::timeout(60)) {
    health_test::table_fixture f;
    auto h = f.add("app", "127.0.0.1:9001");
    auto up = make_upstream(2, 1ms);  // down for 1 ms, then a trial
    shm_test::shared_counters seen;  // [0] downs seen, [1] ups seen
    std::vector<pid_t> kids;
    for (int k = 0; k < 2; ++k)
        kids.push_back(shm_test::fork_child([&, k] {
            auto end = shm_test::mono_ms() + 300;
            for (std::uint64_t i = 0; shm_test::mono_ms() < end; ++i) {
                std::uint64_t now = shm_test::mono_ms();
                if (!health::available(f.table, h, now)) continue;
                auto o = (i + static_cast<std::uint64_t>(k)) % 3 == 0 ? health::on_success(f.table, h, now)
                                                                       : health::on_failure(f.table, h, up, now);
                if (o.changed) seen.add(o.state == backend_state::down ? 0 : 1, 1);
            }
            return 0;
        }));
    for (pid_t k : kids) BOOST_TEST(shm_test::wait_child(k) == 0);
    std::uint64_t downs = seen.get(0), ups = seen.get(1);
    BOOST_TEST(downs > 0u);
    BOOST_TEST(ups > 0u);
    // Every change was reported to exactly one caller, so the counts match the final state.
    BOOST_TEST(downs - ups == (f.table.state(h) == backend_state::down ? 1u : 0u));
}

BOOST_AUTO_TEST_SUITE_END()
