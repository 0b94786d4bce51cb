// shm/counter_table: rows by key, counts by status class, survival of a re-open, and sharing across a
// fork (the master adds keys, a worker process counts).
#include <boost/test/unit_test.hpp>

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

#include "shm/counter_table.hpp"

using bulwark::shm::counter_table;

namespace {

struct shared_area {
    std::size_t size = counter_table::bytes_for();
    std::byte* mem = static_cast<std::byte*>(::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    ~shared_area() { ::munmap(mem, size); }
    std::span<std::byte> span() { return {mem, size}; }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(shm_counter_table)

BOOST_AUTO_TEST_CASE(rows_are_found_by_key_and_count_by_status_class) {
    shared_area area;
    std::string reason;
    auto t = counter_table::open_or_format(area.span(), reason);
    BOOST_TEST(reason == "no counter table");
    auto web = t.find_or_add("listener:web");
    auto api = t.find_or_add("route:api");
    BOOST_TEST(web != api);
    BOOST_TEST(t.find_or_add("listener:web") == web);
    BOOST_TEST(t.find("route:api") == api);
    BOOST_TEST(t.find("route:missing") == counter_table::npos);
    BOOST_TEST(t.find_or_add(std::string(200, 'x')) == counter_table::npos);
    t.count(web, 200, 10);
    t.count(web, 404, 5);
    t.count(web, 503, 0);
    t.count(counter_table::npos, 200, 1);  // ignored
    auto rows = t.rows();
    BOOST_TEST_REQUIRE(rows.size() == 2u);
    BOOST_TEST(rows[0].key == "listener:web");
    BOOST_TEST(rows[0].requests == 3u);
    BOOST_TEST(rows[0].status[1] == 1u);
    BOOST_TEST(rows[0].status[3] == 1u);
    BOOST_TEST(rows[0].status[4] == 1u);
    BOOST_TEST(rows[0].bytes_out == 15u);
    BOOST_TEST(rows[1].requests == 0u);

    std::string again;
    auto reopened = counter_table::open_or_format(area.span(), again);
    BOOST_TEST(again.empty());
    BOOST_TEST(reopened.rows()[0].requests == 3u);
}

BOOST_AUTO_TEST_CASE(counts_from_another_process_are_seen) {
    shared_area area;
    std::string reason;
    auto t = counter_table::open_or_format(area.span(), reason);
    auto row = t.find_or_add("listener:web");
    pid_t child = ::fork();
    if (child == 0) {
        auto mine = counter_table::attach(area.span());
        for (int i = 0; i < 1000; ++i) mine.count(mine.find("listener:web"), 200, 1);
        ::_exit(0);
    }
    for (int i = 0; i < 1000; ++i) t.count(row, 500, 1);
    int status = 0;
    ::waitpid(child, &status, 0);
    BOOST_TEST(WIFEXITED(status));
    auto r = t.rows().at(0);
    BOOST_TEST(r.requests == 2000u);
    BOOST_TEST(r.status[1] == 1000u);
    BOOST_TEST(r.status[4] == 1000u);
}

BOOST_AUTO_TEST_SUITE_END()
