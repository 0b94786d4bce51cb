// proxy/pool_window: the peak of connections in use over the last seconds and how many idle ones
// housekeeping closes: nothing while traffic needs them, then half of the surplus each second.
#include <boost/test/unit_test.hpp>

#include <cstddef>

#include "proxy/pool_window.hpp"

namespace proxy = bulwark::proxy;

BOOST_AUTO_TEST_SUITE(pool_window)

BOOST_AUTO_TEST_CASE(peak_is_the_most_in_use_within_the_window) {
    proxy::peak_window w;
    BOOST_TEST(w.peak() == 0u);
    w.note(3);
    w.note(7);
    w.note(2);  // a lower value later in the same second does not lower the peak
    BOOST_TEST(w.peak() == 7u);
    w.rotate(1);
    w.note(4);
    BOOST_TEST(w.peak() == 7u);  // the second with 7 is still in the window
}

BOOST_AUTO_TEST_CASE(a_peak_leaves_the_window_after_buckets_seconds) {
    proxy::peak_window w;
    w.note(64);
    for (std::size_t s = 1; s < proxy::peak_window::buckets; ++s) {
        w.rotate(0);
        BOOST_TEST(w.peak() == 64u, "second " << s);
    }
    w.rotate(0);
    BOOST_TEST(w.peak() == 0u);
}

BOOST_AUTO_TEST_CASE(a_new_bucket_starts_at_what_is_in_use_now) {
    proxy::peak_window w;
    w.note(10);
    for (std::size_t s = 0; s < proxy::peak_window::buckets; ++s) w.rotate(5);  // 5 requests still running
    BOOST_TEST(w.peak() == 5u);
}

BOOST_AUTO_TEST_CASE(trim_closes_nothing_the_peak_needs) {
    BOOST_TEST(proxy::trim_count(0, 0, 0) == 0u);
    BOOST_TEST(proxy::trim_count(4, 60, 64) == 0u);  // steady traffic: busy + idle == peak
    BOOST_TEST(proxy::trim_count(10, 0, 64) == 0u);
    BOOST_TEST(proxy::trim_count(64, 0, 64) == 0u);
    BOOST_TEST(proxy::trim_count(3, 70, 64) == 2u);  // more in use than the window saw (not noted yet)
}

BOOST_AUTO_TEST_CASE(trim_halves_the_surplus_rounding_up) {
    BOOST_TEST(proxy::trim_count(64, 0, 0) == 32u);
    BOOST_TEST(proxy::trim_count(1, 0, 0) == 1u);  // the last one goes too
    BOOST_TEST(proxy::trim_count(20, 2, 12) == 5u);  // wanted 10 idle, 10 surplus
    BOOST_TEST(proxy::trim_count(11, 2, 12) == 1u);
}

// The sequence housekeeping runs once a second after a burst of 64 concurrent requests ends.
BOOST_AUTO_TEST_CASE(after_a_burst_the_idle_connections_drain_gradually) {
    proxy::peak_window w;
    w.note(64);
    std::size_t idle = 64, seconds = 0, largest_step = 0;
    while (idle > 0 && seconds < 60) {
        std::size_t n = proxy::trim_count(idle, 0, w.peak());
        if (seconds < proxy::peak_window::buckets) BOOST_TEST(n == 0u, "closed " << n << " in second " << seconds);
        largest_step = std::max(largest_step, n);
        idle -= n;
        w.rotate(0);
        ++seconds;
    }
    BOOST_TEST(idle == 0u);
    BOOST_TEST(largest_step == 32u);  // never all at once
    BOOST_TEST(seconds <= proxy::peak_window::buckets + 8);
}

// A steady load with a few clients between two requests at every tick never loses a connection.
BOOST_AUTO_TEST_CASE(steady_load_keeps_every_connection) {
    proxy::peak_window w;
    std::size_t idle = 0;
    for (int s = 0; s < 30; ++s) {
        for (unsigned in_use = 56; in_use <= 64; ++in_use) w.note(in_use);
        const unsigned busy_at_tick = 58;
        idle = 64 - busy_at_tick;
        BOOST_TEST(proxy::trim_count(idle, busy_at_tick, w.peak()) == 0u, "second " << s);
        w.rotate(busy_at_tick);
    }
}

BOOST_AUTO_TEST_SUITE_END()
