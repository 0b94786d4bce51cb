// cache/store across processes: fill locks (refused while a live filler holds them, recovered from a
// dead or overstaying one), the arena lock taken over from a killed holder, and a crash test: forked
// workers storing and reading overlapping keys are SIGKILLed at random moments; no reader ever sees
// wrong bytes, and afterwards check() is clean, nothing is locked and the store still works.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <random>

#include "cache/store_layout.hpp"
#include "shm/robust_mutex.hpp"
#include "store_test_util.hpp"

using namespace store_test;
using cache::store;

namespace {

// Runs `body` in a child that signals readiness through a pipe, then waits to be killed.
template <class F>
pid_t child_holding(F&& body) {
    int fds[2];
    BOOST_REQUIRE(::pipe(fds) == 0);
    pid_t pid = shm_test::fork_child([&] {
        char c = body() ? 'y' : 'n';
        (void)!::write(fds[1], &c, 1);
        ::pause();
        return 0;
    });
    ::close(fds[1]);
    char c = 0;
    BOOST_REQUIRE(::read(fds[0], &c, 1) == 1);
    ::close(fds[0]);
    BOOST_REQUIRE(c == 'y');
    return pid;
}

void kill_and_reap(pid_t pid) {
    ::kill(pid, SIGKILL);
    BOOST_TEST(shm_test::wait_child(pid) == 128 + SIGKILL);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cache_store_procs)

BOOST_FIXTURE_TEST_CASE(a_fill_lock_admits_one_filler, fixture) {
    const std::uint64_t now = shm_test::mono_ms();
    BOOST_TEST(st.try_lock_fill("k", now, 5000));
    BOOST_TEST(!st.try_lock_fill("k", now, 5000));  // this process already fills it
    BOOST_TEST(st.try_lock_fill("other", now, 5000));
    pid_t child = shm_test::fork_child([&] { return st.try_lock_fill("k", shm_test::mono_ms(), 5000) ? 1 : 0; });
    BOOST_TEST(shm_test::wait_child(child) == 0);
    st.unlock_fill("k");
    child = shm_test::fork_child([&] { return st.try_lock_fill("k", shm_test::mono_ms(), 5000) ? 0 : 1; });
    BOOST_TEST(shm_test::wait_child(child) == 0);  // it exited holding it...
    BOOST_TEST(st.try_lock_fill("k", shm_test::mono_ms(), 5000));  // ...and a dead filler's lock is recovered
    st.unlock_fill("k");
    st.unlock_fill("other");
    BOOST_TEST(st.check().empty());
}

BOOST_FIXTURE_TEST_CASE(a_killed_filler_is_reported_then_recovered, fixture) {
    pid_t child = child_holding([&] { return st.try_lock_fill("k", shm_test::mono_ms(), 60000); });
    BOOST_TEST(!st.try_lock_fill("k", shm_test::mono_ms(), 60000));
    BOOST_TEST(st.check().empty());  // held by a live process: fine
    kill_and_reap(child);
    auto problems = st.check();
    BOOST_REQUIRE(problems.size() == 1u);
    BOOST_TEST(problems[0].find("held by dead pid " + std::to_string(child)) != std::string::npos);
    BOOST_TEST(st.try_lock_fill("k", shm_test::mono_ms(), 60000));
    st.unlock_fill("k");
    BOOST_TEST(st.check().empty());
}

BOOST_FIXTURE_TEST_CASE(an_overstaying_filler_times_out, fixture) {
    const std::uint64_t t0 = shm_test::mono_ms();
    pid_t child = child_holding([&] { return st.try_lock_fill("k", t0, 1000); });
    BOOST_TEST(!st.try_lock_fill("k", t0 + 999, 1000));
    BOOST_TEST(st.try_lock_fill("k", t0 + 1000, 1000));  // alive, but held it max_hold_ms
    pid_t other = shm_test::fork_child([&] { return st.try_lock_fill("k", t0 + 1001, 1000) ? 1 : 0; });
    BOOST_TEST(shm_test::wait_child(other) == 0);  // now ours, and fresh
    st.unlock_fill("k");
    kill_and_reap(child);
    st.unlock_fill("k");  // not held: harmless
}

BOOST_FIXTURE_TEST_CASE(a_writer_killed_before_commit_leaves_nothing, fixture) {
    BOOST_TEST(put(st, "k", "old", "old body"));
    pid_t child = child_holding([&] {
        auto w = st.begin("k", "new", true, 0);
        const std::string body = text(3 * store::max_chunk + 10);
        return w.append(body.data(), body.size());  // two chunks written, the rest buffered
    });
    kill_and_reap(child);
    std::string head;
    BOOST_TEST((get(st, "k", &head) == std::string("old body")));
    BOOST_TEST(head == "old");
    BOOST_TEST(st.check().empty());
    BOOST_TEST(put(st, "k", "newer", "newer body"));
    BOOST_TEST((get(st, "k") == std::string("newer body")));
}

BOOST_FIXTURE_TEST_CASE(a_writer_killed_holding_the_arena_lock_is_recovered, fixture) {
    namespace layout = bulwark::cache::layout;
    BOOST_TEST(put(st, "before", "h", "x"));
    pid_t child = child_holding([&] {
        int fd = ::open(path.c_str(), O_RDWR);
        void* p = ::mmap(nullptr, 4 * mib, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) return false;
        bulwark::shm::robust_mutex(static_cast<layout::file_header*>(p)->lock).lock();
        return true;  // and never unlocks
    });
    kill_and_reap(child);
    auto problems = st.check();
    BOOST_REQUIRE(problems.size() == 1u);
    BOOST_TEST(problems[0].find("arena lock: held by dead pid") != std::string::npos);
    BOOST_TEST(put(st, "after", "h", text(200000), true));  // takes the lock over
    BOOST_TEST((get(st, "after") == text(200000)));
    BOOST_TEST((get(st, "before") == std::string("x")));
    BOOST_TEST(st.check().empty());
}

BOOST_AUTO_TEST_CASE(readers_racing_the_ring_never_get_wrong_bytes, *boost::unit_test::timeout(60)) {
    temp_dir dir;
    std::string note;
    store st = store::open_or_create(dir.file("cache"), 1 * mib, note);  // wraps every few objects
    shm_test::shared_counters results;  // 0: verified bodies, 1: wrong bytes, 2: reads cut by eviction
    const std::uint64_t end = shm_test::mono_ms() + 1500;
    auto writer = [&](unsigned seed) {
        std::mt19937_64 rng(seed);
        while (shm_test::mono_ms() < end) {
            const std::uint64_t version = rng();
            const std::size_t size = 1000 + rng() % 200000;
            put(st, "k" + std::to_string(rng() % 8), std::to_string(version) + " " + std::to_string(size),
                noise(size, version), false, 3000);
        }
        return 0;
    };
    auto reader = [&] {
        std::vector<char> buf(store::max_chunk);
        for (unsigned i = 0; shm_test::mono_ms() < end; ++i) {
            auto e = st.find("k" + std::to_string(i % 8));
            std::string head;
            if (!e || !st.read_head(e, head)) continue;
            const std::uint64_t version = std::stoull(head.substr(0, head.find(' ')));
            const std::string want = noise(std::stoull(head.substr(head.find(' ') + 1)), version);
            auto r = st.open_body(e);
            std::string got;
            std::size_t n = 0;
            while (r.next(buf.data(), buf.size(), n) && n > 0) {
                got.append(buf.data(), n);
                ::sched_yield();  // let the writers overtake
            }
            if (r.evicted()) {
                results.add(2, 1);
                if (want.compare(0, got.size(), got) != 0) results.add(1, 1);  // what came was still right
            } else {
                results.add(got == want ? 0 : 1, 1);
            }
        }
        return 0;
    };
    std::vector<pid_t> kids = {shm_test::fork_child([&] { return writer(1); }),
                               shm_test::fork_child([&] { return writer(2); }), shm_test::fork_child(reader),
                               shm_test::fork_child(reader)};
    for (pid_t p : kids) BOOST_TEST(shm_test::wait_child(p) == 0);
    BOOST_TEST_MESSAGE("ring race: " << results.get(0) << " bodies verified, " << results.get(2)
                                     << " reads cut by eviction");
    BOOST_TEST(results.get(1) == 0u);
    BOOST_TEST(results.get(0) > 10u);
    auto problems = st.check();
    for (const auto& p : problems) BOOST_TEST_MESSAGE("check: " << p);
    BOOST_TEST(problems.empty());
}

BOOST_AUTO_TEST_CASE(workers_killed_at_random_leave_a_consistent_store, *boost::unit_test::timeout(60)) {
    fixture f;
    store& st = f.st;
    shm_test::shared_counters results;  // 0: verified reads, 1: wrong bytes, 2: commits
    auto worker = [&](unsigned seed) {
        std::mt19937_64 rng(seed);
        for (;;) {
            const int key = static_cast<int>(rng() % 48);
            const std::string k = "GET http://crash.test/" + std::to_string(key);
            const unsigned op = static_cast<unsigned>(rng() % 10);
            if (op < 4) {
                const std::uint64_t version = rng();
                const std::size_t size = rng() % 3 == 0 ? rng() % 300000 : rng() % 5000;
                const bool z = version & 1;
                const std::string body = z ? text(size, version) : noise(size, version);
                if (!st.try_lock_fill(k, shm_test::mono_ms(), 200)) continue;  // another worker fills it
                if (put(st, k, std::to_string(version) + " " + std::to_string(size), body, z, 1 + rng() % 20000))
                    results.add(2, 1);
                st.unlock_fill(k);
            } else if (op < 9) {
                std::string head;
                auto body = get(st, k, &head);
                if (!body) continue;
                const std::uint64_t version = std::stoull(head.substr(0, head.find(' ')));
                const std::size_t size = std::stoull(head.substr(head.find(' ') + 1));
                const std::string want = version & 1 ? text(size, version) : noise(size, version);
                results.add(*body == want ? 0 : 1, 1);
                st.touch(st.find(k));
            } else if (rng() % 4 == 0) {
                st.erase(k);
            } else if (auto e = st.find(k)) {
                std::string head;
                if (st.read_head(e, head)) st.replace_head(k, e, head);  // same head, new record
            }
        }
        return 0;
    };
    std::mt19937_64 rng(42);
    std::vector<pid_t> kids;
    unsigned seeds = 1;
    for (int i = 0; i < 4; ++i) kids.push_back(shm_test::fork_child([&, s = seeds++] { return worker(s); }, 30));
    const std::uint64_t end = shm_test::mono_ms() + 3000;
    int kills = 0;
    while (shm_test::mono_ms() < end) {
        ::usleep(static_cast<useconds_t>(5000 + rng() % 60000));
        const std::size_t victim = rng() % kids.size();
        ::kill(kids[victim], SIGKILL);
        BOOST_TEST(shm_test::wait_child(kids[victim]) == 128 + SIGKILL);
        ++kills;
        kids[victim] = shm_test::fork_child([&, s = seeds++] { return worker(s); }, 30);
    }
    for (pid_t p : kids) kill_and_reap(p);
    BOOST_TEST_MESSAGE("crash test: " << kills << " kills, " << results.get(2) << " commits, " << results.get(0)
                                      << " verified reads, " << st.stats().evicted << " evicted");
    BOOST_TEST(results.get(1) == 0u);
    BOOST_TEST(results.get(0) > 100u);
    BOOST_TEST(results.get(2) > 100u);
    // Only locks left by the killed workers may be reported, and every record verifies.
    BOOST_TEST_MESSAGE("crash test: check() before recovery: " << st.check().size() << " lines");
    for (const auto& p : st.check()) {
        BOOST_TEST_MESSAGE("check: " << p);
        BOOST_TEST((p.find("held by dead pid") != std::string::npos));
    }
    BOOST_TEST(put(st, "fresh", "h", text(100000), true));  // takes over the arena lock if a victim held it
    BOOST_TEST((get(st, "fresh") == text(100000)));
    for (int key = 0; key < 48; ++key) {  // every fill lock is free or recovered; every key writable
        const std::string k = "GET http://crash.test/" + std::to_string(key);
        BOOST_TEST(st.try_lock_fill(k, shm_test::mono_ms(), 200));
        BOOST_TEST(put(st, k, "0 5", noise(5, 0)));
        BOOST_TEST((get(st, k) == noise(5, 0)));
        st.unlock_fill(k);
    }
    auto problems = st.check();
    for (const auto& p : problems) BOOST_TEST_MESSAGE("check after recovery: " << p);
    BOOST_TEST(problems.empty());
}

BOOST_AUTO_TEST_SUITE_END()
