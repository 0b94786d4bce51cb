// cache/store eviction: the ring's write head overwrites the oldest objects (counted), new objects stay
// intact, a referenced object gets one second chance, and a reader overtaken by the ring is told so
// instead of being handed another object's bytes.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdio>

#include "store_test_util.hpp"

using namespace store_test;
using cache::store;

namespace {

struct small_store {
    temp_dir dir;
    std::string note;
    store st = store::open_or_create(dir.file("cache"), 1 * mib, note);
    std::uint64_t arena = st.stats().arena_bytes;
};

std::string key_of(int i) { return "GET http://example.test/object/" + std::to_string(i); }

// Stores `count` raw objects of `bytes` bytes, keys first..first+count-1.
void fill(store& st, int first, int count, std::size_t bytes) {
    for (int i = first; i < first + count; ++i) BOOST_REQUIRE(put(st, key_of(i), "h", noise(bytes, i)));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cache_store_evict)

BOOST_FIXTURE_TEST_CASE(the_ring_overwrites_the_oldest_objects, small_store) {
    const std::size_t bytes = 30000;
    const int n = static_cast<int>(3 * arena / bytes);  // about three laps
    fill(st, 0, n, bytes);
    auto s = st.stats();
    BOOST_TEST(s.stored == static_cast<std::uint64_t>(n));
    BOOST_TEST(s.evicted > static_cast<std::uint64_t>(n / 2));
    BOOST_TEST(s.arena_used <= s.arena_bytes);
    BOOST_TEST(s.arena_used > s.arena_bytes / 2);
    BOOST_TEST(s.live_objects + s.evicted == s.stored);
    for (int i = 0; i < n / 2; ++i) BOOST_TEST(!st.find(key_of(i)));
    int alive = 0;
    for (int i = n - 10; i < n; ++i) {
        auto got = get(st, key_of(i));
        BOOST_TEST((got == noise(bytes, i)));
        alive += got.has_value();
    }
    BOOST_TEST(alive == 10);
    BOOST_TEST(st.check().empty());
}

BOOST_FIXTURE_TEST_CASE(multi_chunk_objects_wrap_cleanly, small_store) {
    for (int i = 0; i < 40; ++i) {
        const std::string body = i % 2 ? text(150000, i) : noise(150000, i);
        BOOST_REQUIRE(put(st, key_of(i), "h", body, true, 7000));
        BOOST_TEST((get(st, key_of(i)) == body));
    }
    BOOST_TEST(!st.find(key_of(0)));
    BOOST_TEST(st.stats().evicted > 10u);
    BOOST_TEST(st.check().empty());
}

BOOST_FIXTURE_TEST_CASE(a_touched_object_gets_a_second_chance, small_store) {
    const std::size_t bytes = 20000;
    BOOST_REQUIRE(put(st, "hot", "h", noise(bytes, 99)));
    BOOST_REQUIRE(put(st, "cold", "h", noise(bytes, 98)));
    st.touch(st.find("hot"));
    const int per_lap = static_cast<int>(arena / bytes);
    fill(st, 0, per_lap + per_lap / 2, bytes);  // the horizon passes both once
    BOOST_TEST(!st.find("cold"));
    BOOST_TEST((get(st, "hot") == noise(bytes, 99)));
    BOOST_TEST(st.stats().second_chances == 1u);
    // The bit was cleared when it was copied forward: untouched, it goes on the next pass.
    fill(st, 1000, 2 * per_lap, bytes);
    BOOST_TEST(!st.find("hot"));
    // Touched on every lookup, it survives many laps.
    BOOST_REQUIRE(put(st, "hot", "h", noise(bytes, 97)));
    for (int lap = 0; lap < 6; ++lap) {
        st.touch(st.find("hot"));
        fill(st, 2000 + lap * per_lap, per_lap / 2, bytes);
    }
    BOOST_TEST((get(st, "hot") == noise(bytes, 97)));
    BOOST_TEST(st.check().empty());
}

BOOST_AUTO_TEST_CASE(a_touched_chunked_object_is_copied_forward_whole) {
    temp_dir dir;
    std::string note;
    store st = store::open_or_create(dir.file("cache"), 4 * mib, note);
    const std::uint64_t arena = st.stats().arena_bytes;
    const std::string hot = noise(3 * store::max_chunk + 500, 7), warm = text(5 * store::max_chunk, 8);
    BOOST_REQUIRE(put(st, "hot", "h1", hot, false, 5000));
    BOOST_REQUIRE(put(st, "warm", "h2", warm, true, 5000));
    BOOST_REQUIRE(put(st, "cold", "h3", noise(3 * store::max_chunk, 9)));
    st.touch(st.find("hot"));
    st.touch(st.find("warm"));
    const std::size_t bytes = 40000;
    const int per_lap = static_cast<int>(arena / bytes);
    fill(st, 0, per_lap + per_lap / 3, bytes);
    BOOST_TEST(!st.find("cold"));
    std::string head;
    BOOST_TEST((get(st, "hot", &head) == hot));
    BOOST_TEST(head == "h1");
    BOOST_TEST((get(st, "warm", &head) == warm));
    BOOST_TEST(head == "h2");
    BOOST_TEST(st.check().empty());
    auto s = st.stats();
    BOOST_TEST(s.live_objects + s.evicted == s.stored);
    BOOST_TEST(s.second_chances == 2u);
}

BOOST_FIXTURE_TEST_CASE(a_reader_overtaken_by_the_ring_is_told, small_store) {
    const std::string body = noise(5 * store::max_chunk, 5);
    BOOST_REQUIRE(put(st, "victim", "h", body));
    auto e = st.find("victim");
    auto r = st.open_body(e);
    std::vector<char> buf(store::max_chunk);
    std::size_t n = 0;
    BOOST_TEST(r.next(buf.data(), buf.size(), n));
    BOOST_TEST(n == store::max_chunk);
    BOOST_TEST(std::string(buf.data(), n) == body.substr(0, n));
    fill(st, 0, static_cast<int>(arena / 30000) + 2, 30000);  // one full lap over it
    BOOST_TEST(!r.next(buf.data(), buf.size(), n));
    BOOST_TEST(r.evicted());
    BOOST_TEST(n == 0u);
    BOOST_TEST(!r.next(buf.data(), buf.size(), n));  // stays failed
    std::string head;
    BOOST_TEST(!st.read_head(e, head));
    BOOST_TEST(!st.find("victim"));
    BOOST_TEST(st.open_body(e).evicted());
}

BOOST_FIXTURE_TEST_CASE(an_object_whose_first_chunks_are_overwritten_is_gone, small_store) {
    const std::string body = noise(5 * store::max_chunk, 6);
    BOOST_REQUIRE(put(st, "victim", "h", body));
    const auto before = st.stats().evicted;
    // Just enough to pass the first chunk but not the head record, written after the last chunk.
    const std::uint64_t used = st.stats().arena_used;
    fill(st, 0, static_cast<int>((arena - used) / 10000) + 2, 10000 - 200);
    BOOST_TEST(!st.find("victim"));
    auto s = st.stats();
    BOOST_TEST(s.evicted >= before + 1);
    BOOST_TEST(s.live_objects + s.evicted == s.stored);  // counted once, not again when its head is passed
    BOOST_TEST(st.check().empty());
}

BOOST_FIXTURE_TEST_CASE(lookups_per_second, small_store) {
    fill(st, 0, 100, 2000);
    int present = 0;
    for (int i = 0; i < 100; ++i) present += static_cast<bool>(st.find(key_of(i)));
    BOOST_TEST(present == 100);  // 100 objects in 256 slots: two choices of 8-way groups keep them all
    const auto t0 = std::chrono::steady_clock::now();
    std::uint64_t found = 0;
    for (int i = 0; i < 200000; ++i) found += static_cast<bool>(st.find(key_of(i % 100)));
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    BOOST_TEST(found == 2000u * present);
    BOOST_TEST_MESSAGE("cache store: " << static_cast<std::uint64_t>(200000 / s) << " find()/s (one process), "
                                       << 8.0 * static_cast<double>(st.stats().index_slots) / st.stats().arena_bytes
                                       << " index bytes per arena byte");
}

BOOST_AUTO_TEST_SUITE_END()

// next_view: raw chunks are handed out in place; confirm() tells whether the ring passed them since.
BOOST_FIXTURE_TEST_CASE(raw_chunks_are_viewed_in_place_and_confirmed, small_store) {
    const std::string body = noise(3 * store::max_chunk + 123, 8);
    BOOST_REQUIRE(put(st, "raw", "h", body));
    auto r = st.open_body(st.find("raw"));
    std::string got;
    std::string_view part;
    while (r.next_view(part)) {
        BOOST_TEST(r.confirm());
        got.append(part);
    }
    BOOST_TEST(!r.evicted());
    BOOST_TEST(got == body);

    BOOST_REQUIRE(put(st, "packed", "h", noise(1000, 1) + std::string(50000, 'z'), true));
    auto packed = st.open_body(st.find("packed"));
    BOOST_TEST(!packed.next_view(part));  // compressed: the caller uses next()
    BOOST_TEST(!packed.evicted());

    auto seeked = st.open_body(st.find("raw"));
    BOOST_REQUIRE(seeked.seek(store::max_chunk + 10));
    BOOST_REQUIRE(seeked.next_view(part));
    BOOST_TEST(part == std::string_view(body).substr(store::max_chunk + 10, store::max_chunk - 10));

    auto victim = st.open_body(st.find("raw"));
    BOOST_REQUIRE(victim.next_view(part));
    fill(st, 0, static_cast<int>(arena / 30000) + 2, 30000);  // one full lap over it
    BOOST_TEST(!victim.confirm());
}
