// shm/robust_mutex: a process that dies (SIGKILL or _exit) holding the lock hands it to the next
// locker, who runs the repair callback; mutual exclusion holds across processes.
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>

#include "shm/atomic.hpp"
#include "shm/robust_mutex.hpp"
#include "shm/segment.hpp"
#include "shm_test_util.hpp"

namespace shm = bulwark::shm;
using shm_test::temp_dir;

namespace {

// What the tests put in the segment: the mutex and the data it guards.
struct guarded {
    shm::robust_mutex_data mutex;
    std::uint64_t value;      // updated non-atomically under the lock
    std::uint32_t dirty;      // set while an update is in progress
    std::uint32_t repairs;    // counted by the repair callbacks
};

struct fixture {
    temp_dir dir;
    shm::segment seg = shm::segment::open_or_create(dir.file("lock.shm"), 16 * 1024, 1).seg;
    guarded& g = *reinterpret_cast<guarded*>(seg.data());
    fixture() { shm::robust_mutex::init(g.mutex); }
};

// A child that takes the lock, marks the data dirty, tells the parent, and dies without unlocking.
pid_t child_dying_with_lock(guarded& g, bool by_signal) {
    int fds[2];
    BOOST_REQUIRE(::pipe(fds) == 0);
    pid_t pid = shm_test::fork_child([&] {
        shm::robust_mutex m(g.mutex);
        m.lock();
        g.dirty = 1;
        char c = 'x';
        (void)!::write(fds[1], &c, 1);
        if (by_signal) ::raise(SIGKILL);
        ::_exit(0);
        return 0;
    });
    ::close(fds[1]);
    char c = 0;
    BOOST_REQUIRE(::read(fds[0], &c, 1) == 1);  // the child holds the lock now
    ::close(fds[0]);
    return pid;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(shm_robust_mutex)

BOOST_AUTO_TEST_CASE(zeroed_memory_is_refused) {
    shm::robust_mutex_data data{};
    BOOST_CHECK_THROW(shm::robust_mutex{data}, std::logic_error);
}

BOOST_AUTO_TEST_CASE(lock_records_the_owner) {
    fixture f;
    shm::robust_mutex m(f.g.mutex);
    BOOST_TEST(m.owner_pid() == 0u);
    BOOST_TEST((m.lock() == shm::robust_mutex::outcome::acquired));
    BOOST_TEST(m.owner_pid() == static_cast<std::uint32_t>(::getpid()));
    m.unlock();
    BOOST_TEST(m.owner_pid() == 0u);
    {
        shm::robust_lock guard(m);
        BOOST_TEST(!guard.recovered());
    }
    BOOST_TEST(m.try_lock());
    m.unlock();
    BOOST_TEST(m.recoveries() == 0u);
}

BOOST_AUTO_TEST_CASE(owner_killed_by_sigkill_is_recovered_and_repaired, *boost::unit_test::timeout(30)) {
    fixture f;
    pid_t pid = child_dying_with_lock(f.g, true);
    BOOST_TEST(shm_test::wait_child(pid) == 128 + SIGKILL);
    shm::robust_mutex m(f.g.mutex);
    bool repaired = false;
    auto outcome = m.lock([&] {
        repaired = true;
        f.g.dirty = 0;
        ++f.g.repairs;
    });
    BOOST_TEST((outcome == shm::robust_mutex::outcome::recovered));
    BOOST_TEST(repaired);
    BOOST_TEST(f.g.dirty == 0u);
    BOOST_TEST(m.recoveries() == 1u);
    m.unlock();
    // Consistent again: the next lock is an ordinary one.
    BOOST_TEST((m.lock() == shm::robust_mutex::outcome::acquired));
    m.unlock();
}

BOOST_AUTO_TEST_CASE(owner_exiting_without_unlock_is_recovered, *boost::unit_test::timeout(30)) {
    fixture f;
    pid_t pid = child_dying_with_lock(f.g, false);
    BOOST_TEST(shm_test::wait_child(pid) == 0);
    shm::robust_mutex m(f.g.mutex);
    int calls = 0;
    shm::robust_lock guard(m, [](void* c) noexcept { ++*static_cast<int*>(c); }, &calls);
    BOOST_TEST(guard.recovered());
    BOOST_TEST(calls == 1);
}

BOOST_AUTO_TEST_CASE(a_repairer_that_dies_too_leaves_the_repair_to_the_next, *boost::unit_test::timeout(30)) {
    fixture f;
    BOOST_TEST(shm_test::wait_child(child_dying_with_lock(f.g, true)) == 128 + SIGKILL);
    pid_t second = shm_test::fork_child([&] {
        shm::robust_mutex m(f.g.mutex);
        m.lock([] { ::raise(SIGKILL); });  // dies inside the repair, before the mutex is consistent
        return 1;
    });
    BOOST_TEST(shm_test::wait_child(second) == 128 + SIGKILL);
    shm::robust_mutex m(f.g.mutex);
    bool repaired = false;
    BOOST_TEST((m.lock([&] { repaired = true; }) == shm::robust_mutex::outcome::recovered));
    BOOST_TEST(repaired);
    BOOST_TEST(m.recoveries() == 2u);
    m.unlock();
}

BOOST_AUTO_TEST_CASE(a_blocked_waiter_gets_the_lock_when_the_owner_is_killed, *boost::unit_test::timeout(30)) {
    fixture f;
    int hold[2];
    BOOST_REQUIRE(::pipe(hold) == 0);
    pid_t owner = shm_test::fork_child([&] {
        shm::robust_mutex m(f.g.mutex);
        m.lock();
        char c = 'x';
        (void)!::write(hold[1], &c, 1);
        ::pause();  // holds the lock until killed
        return 0;
    });
    char c = 0;
    BOOST_REQUIRE(::read(hold[0], &c, 1) == 1);
    pid_t waiter = shm_test::fork_child([&] {
        shm::robust_mutex m(f.g.mutex);
        return m.lock() == shm::robust_mutex::outcome::recovered ? 0 : 1;  // blocks until the kill
    });
    ::usleep(100 * 1000);
    BOOST_TEST(!shm::robust_mutex(f.g.mutex).try_lock());  // held by a live process
    ::kill(owner, SIGKILL);
    BOOST_TEST(shm_test::wait_child(owner) == 128 + SIGKILL);
    BOOST_TEST(shm_test::wait_child(waiter) == 0);
    ::close(hold[0]);
    ::close(hold[1]);
}

BOOST_AUTO_TEST_CASE(mutual_exclusion_holds_across_processes, *boost::unit_test::timeout(60)) {
    fixture f;
    constexpr int per_child = 20000;
    auto body = [&] {
        shm::robust_mutex m(f.g.mutex);
        for (int i = 0; i < per_child; ++i) {
            shm::robust_lock guard(m);
            // A deliberately racy read-modify-write: only the lock keeps it exact.
            std::uint64_t v = shm::load(f.g.value, std::memory_order_relaxed);
            if ((i & 255) == 0) ::sched_yield();
            shm::store(f.g.value, v + 1, std::memory_order_relaxed);
        }
        return 0;
    };
    pid_t a = shm_test::fork_child(body);
    pid_t b = shm_test::fork_child(body);
    BOOST_TEST(shm_test::wait_child(a) == 0);
    BOOST_TEST(shm_test::wait_child(b) == 0);
    BOOST_TEST(f.g.value == 2u * per_child);
}

BOOST_AUTO_TEST_SUITE_END()
