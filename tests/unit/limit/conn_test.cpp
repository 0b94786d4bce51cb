// limit/conn: conn_slot counts one client's open connections across processes and releases them on
// destruction, move and release; a dead worker's slots are forgotten by the master.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <utility>
#include <vector>

#include "limit/conn.hpp"
#include "limit_test_util.hpp"

namespace lim = bulwark::limit;
using namespace limit_test;

namespace {
constexpr std::uint64_t t0 = 1'000'000;
}

BOOST_AUTO_TEST_SUITE(limit_conn)

BOOST_AUTO_TEST_CASE(raii_move_and_release) {
    table_fixture f;
    auto client = ip("192.0.2.1");
    const auto entry = lim::conn_slot::entry_of(f.table, client);
    {
        lim::conn_slot a, b, c, d;
        BOOST_TEST(a.acquire(f.table, client, 3, t0));
        BOOST_TEST(b.acquire(f.table, client, 3, t0));
        BOOST_TEST(c.acquire(f.table, client, 3, t0));
        BOOST_TEST(!d.acquire(f.table, client, 3, t0));
        BOOST_TEST(!d.held());
        BOOST_TEST(f.table.conns(entry) == 3u);

        lim::conn_slot moved(std::move(a));
        BOOST_TEST(!a.held());
        BOOST_TEST(moved.held());
        BOOST_TEST(f.table.conns(entry) == 3u);
        std::vector<lim::conn_slot> kept;
        kept.push_back(std::move(b));
        kept.emplace_back();
        kept.back() = std::move(c);  // move assignment
        BOOST_TEST(f.table.conns(entry) == 3u);

        moved.release();
        moved.release();  // idempotent
        BOOST_TEST(f.table.conns(entry) == 2u);
        BOOST_TEST(d.acquire(f.table, client, 3, t0));
        kept[0] = std::move(d);  // the overwritten slot is released
        BOOST_TEST(f.table.conns(entry) == 2u);
    }
    BOOST_TEST(f.table.conns(entry) == 0u);  // destructors gave everything back
}

BOOST_AUTO_TEST_CASE(addresses_scopes_and_no_limit) {
    table_fixture f;
    lim::conn_slot v4, mapped, v6, scoped, unlimited;
    BOOST_TEST(v4.acquire(f.table, ip("198.51.100.1"), 1, t0));
    BOOST_TEST(!mapped.acquire(f.table, ip("::ffff:198.51.100.1"), 1, t0));  // the same client
    BOOST_TEST(v6.acquire(f.table, ip("2001:db8::1"), 1, t0));
    BOOST_TEST(scoped.acquire(f.table, ip("198.51.100.1"), 1, t0, 7));  // another listener's count
    for (int i = 0; i < 100; ++i) {
        lim::conn_slot s;
        BOOST_TEST(s.acquire(f.table, ip("198.51.100.2"), 0, t0));  // 0: no limit, nothing counted
        BOOST_TEST(!s.held());
    }
    BOOST_TEST(f.table.conns(lim::conn_slot::entry_of(f.table, ip("198.51.100.2"))) == 0u);
    // Re-acquiring with a held slot releases the old one first.
    BOOST_TEST(v4.acquire(f.table, ip("198.51.100.1"), 1, t0));
    BOOST_TEST(f.table.conns(lim::conn_slot::entry_of(f.table, ip("198.51.100.1"))) == 1u);
}

BOOST_AUTO_TEST_CASE(the_count_is_shared_by_processes, *boost::unit_test::timeout(60)) {
    table_fixture f;
    auto client = ip("203.0.113.9");
    const auto entry = lim::conn_slot::entry_of(f.table, client);
    int to_child[2], from_child[2];
    BOOST_REQUIRE(::pipe(to_child) == 0);
    BOOST_REQUIRE(::pipe(from_child) == 0);
    // A child "worker" holds two of the client's three allowed connections until told to close them.
    pid_t child = shm_test::fork_child([&] {
        lim::conn_slot a, b;
        char ok = a.acquire(f.table, client, 3, shm_test::mono_ms()) && b.acquire(f.table, client, 3, shm_test::mono_ms())
                      ? 'y'
                      : 'n';
        if (::write(from_child[1], &ok, 1) != 1) return 2;
        char go = 0;
        if (::read(to_child[0], &go, 1) != 1) return 3;
        return 0;  // a and b released here
    });
    char ok = 0;
    BOOST_REQUIRE(::read(from_child[0], &ok, 1) == 1);
    BOOST_TEST(ok == 'y');
    lim::conn_slot mine, extra;
    BOOST_TEST(mine.acquire(f.table, client, 3, shm_test::mono_ms()));
    BOOST_TEST(!extra.acquire(f.table, client, 3, shm_test::mono_ms()));
    BOOST_TEST(f.table.conns(entry) == 3u);
    char go = 'g';
    BOOST_REQUIRE(::write(to_child[1], &go, 1) == 1);
    BOOST_TEST(shm_test::wait_child(child) == 0);
    BOOST_TEST(f.table.conns(entry) == 1u);
    BOOST_TEST(extra.acquire(f.table, client, 3, shm_test::mono_ms()));
    for (int fd : {to_child[0], to_child[1], from_child[0], from_child[1]}) ::close(fd);

    // Three processes churning never exceed the maximum together, and everything is returned.
    mine.release();
    extra.release();
    shm_test::shared_counters out;  // [0] admitted, [1] refused, [2] over the limit seen
    auto churn = [&] {
        for (int i = 0; i < 20'000; ++i) {
            lim::conn_slot s;
            if (!s.acquire(f.table, client, 2, shm_test::mono_ms())) {
                out.add(1, 1);
                continue;
            }
            out.add(0, 1);
            if (f.table.conns(entry) > 2) out.add(2, 1);
        }
        return 0;
    };
    std::vector<pid_t> kids;
    for (int i = 0; i < 3; ++i) kids.push_back(shm_test::fork_child(churn));
    for (pid_t p : kids) BOOST_TEST(shm_test::wait_child(p) == 0);
    BOOST_TEST(out.get(0) + out.get(1) == 60'000u);
    BOOST_TEST(out.get(2) == 0u);
    BOOST_TEST(f.table.conns(entry) == 0u);
}

BOOST_AUTO_TEST_CASE(a_dead_workers_slots_are_forgotten) {
    table_fixture f;
    auto client = ip("203.0.113.10");
    pid_t child = shm_test::fork_child([&] {
        auto* held = new lim::conn_slot;  // never destroyed: the worker "dies" holding it
        if (!held->acquire(f.table, client, 1, t0)) return 1;
        ::_exit(0);
    });
    BOOST_TEST(shm_test::wait_child(child) == 0);
    lim::conn_slot s;
    BOOST_TEST(!s.acquire(f.table, client, 1, t0));  // still counted
    f.table.forget_connections();                    // the master reaps a dead worker
    BOOST_TEST(s.acquire(f.table, client, 1, t0));
    lim::conn_slot again;
    BOOST_TEST(!again.acquire(f.table, client, 1, t0));
}

BOOST_AUTO_TEST_SUITE_END()
