// cache/store: objects round-trip byte-exact (inline, one chunk, many chunks, lz4 or raw, empty), stay
// invisible until commit, are replaced, re-headed and erased; the file is reused when it verifies and
// recreated with a note when it does not; another mapping of the same file sees the same objects.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "cache/store_layout.hpp"
#include "store_test_util.hpp"

using namespace store_test;
using cache::store;

namespace {

void write_at(const std::string& path, off_t off, const void* p, std::size_t n) {
    int fd = ::open(path.c_str(), O_WRONLY);
    BOOST_REQUIRE(fd >= 0);
    BOOST_REQUIRE(::pwrite(fd, p, n, off) == static_cast<ssize_t>(n));
    ::close(fd);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cache_store)

BOOST_FIXTURE_TEST_CASE(a_new_file_is_created_with_a_note, fixture) {
    BOOST_TEST(st.valid());
    BOOST_TEST(note == "created cache file " + path);
    BOOST_TEST(st.size() == 4 * mib);
    auto s = st.stats();
    BOOST_TEST(s.arena_bytes > 3 * mib);
    BOOST_TEST(s.index_slots >= 512u);
    BOOST_TEST(s.arena_used == 0u);
    BOOST_TEST(st.check().empty());
    BOOST_TEST(!st.find("nothing"));
    BOOST_CHECK_THROW(store::open_or_create(dir.file("tiny"), 512 * 1024, note), std::invalid_argument);
}

BOOST_FIXTURE_TEST_CASE(bodies_round_trip_byte_exact, fixture) {
    const std::vector<std::pair<std::string, std::string>> bodies = {
        {"empty", ""},
        {"small", "hello, world"},
        {"one chunk", text(store::max_chunk)},
        {"one chunk + 1", noise(store::max_chunk + 1, 3)},
        {"multi raw", noise(3 * store::max_chunk + 777, 4)},
        {"multi lz4", text(5 * store::max_chunk + 5, 5)},
    };
    for (bool compress : {false, true}) {
        for (const auto& [name, body] : bodies) {
            const std::string key = name + (compress ? "/z" : "/raw");
            BOOST_TEST_CONTEXT(key) {
                BOOST_TEST(put(st, key, "head of " + key, body, compress, 4093));
                std::string head;
                auto got = get(st, key, &head);
                BOOST_REQUIRE(got.has_value());
                BOOST_TEST(head == "head of " + key);
                BOOST_TEST((*got == body));
                BOOST_TEST(st.find(key).body_size == body.size());
            }
        }
    }
    BOOST_TEST(st.stats().stored == 12u);
    BOOST_TEST(st.stats().live_objects == 12u);
    BOOST_TEST(st.check().empty());
}

BOOST_FIXTURE_TEST_CASE(compression_is_used_only_when_it_shrinks, fixture) {
    const auto before = st.stats().bytes_stored;
    BOOST_TEST(put(st, "text", "", text(4 * store::max_chunk), true));
    const auto text_bytes = st.stats().bytes_stored - before;
    BOOST_TEST(text_bytes < store::max_chunk);  // 256 KiB of repetitive text shrinks a lot
    BOOST_TEST(put(st, "noise", "", noise(4 * store::max_chunk), true));
    const auto noise_bytes = st.stats().bytes_stored - before - text_bytes;
    BOOST_TEST(noise_bytes >= 4 * store::max_chunk);  // stored raw, not grown by lz4
    BOOST_TEST(noise_bytes < 4 * store::max_chunk + 1024);
    BOOST_TEST((get(st, "noise") == noise(4 * store::max_chunk)));
}

BOOST_FIXTURE_TEST_CASE(an_object_is_invisible_until_commit, fixture) {
    auto w = st.begin("k", "h", false, 0);
    BOOST_TEST(w.ok());
    std::string body = noise(3 * store::max_chunk);
    BOOST_TEST(w.append(body.data(), body.size()));
    BOOST_TEST(!st.find("k"));
    BOOST_TEST(w.commit());
    BOOST_TEST((get(st, "k") == body));
    BOOST_TEST(!w.commit());  // once
}

BOOST_FIXTURE_TEST_CASE(an_abandoned_writer_leaves_nothing, fixture) {
    {
        auto w = st.begin("gone", "h", true, 0);
        std::string body = text(2 * store::max_chunk + 9);
        BOOST_TEST(w.append(body.data(), body.size()));
    }
    BOOST_TEST(!st.find("gone"));
    BOOST_TEST(st.stats().stored == 0u);
    BOOST_TEST(st.check().empty());
    BOOST_TEST(put(st, "gone", "h2", "later"));
    BOOST_TEST((get(st, "gone") == std::string("later")));
}

BOOST_FIXTURE_TEST_CASE(storing_a_key_again_replaces_it, fixture) {
    BOOST_TEST(put(st, "k", "v1", text(100000, 1), true));
    BOOST_TEST(put(st, "k", "v2", "short"));
    std::string head;
    BOOST_TEST((get(st, "k", &head) == std::string("short")));
    BOOST_TEST(head == "v2");
    BOOST_TEST(st.stats().live_objects == 1u);
    BOOST_TEST(st.check().empty());
}

BOOST_FIXTURE_TEST_CASE(replace_head_keeps_the_body, fixture) {
    for (std::string body : {std::string("inline body"), text(200000, 7)}) {
        BOOST_TEST(put(st, "k", "old head", body, true));
        auto e = st.find("k");
        BOOST_TEST(st.replace_head("k", e, "new head, longer than the old one"));
        auto e2 = st.find("k");
        BOOST_TEST(e2.position != e.position);
        BOOST_TEST(e2.body_size == body.size());
        std::string head;
        BOOST_TEST((get(st, "k", &head) == body));
        BOOST_TEST(head == "new head, longer than the old one");
        BOOST_TEST(!st.read_head(e, head));             // the old entry is no longer indexed
        BOOST_TEST(!st.replace_head("k", e, "stale"));  // nor re-headable
        BOOST_TEST(!st.replace_head("other", e2, "wrong key"));
    }
    BOOST_TEST(st.check().empty());
}

BOOST_FIXTURE_TEST_CASE(erase_and_erase_prefix, fixture) {
    for (int i = 0; i < 20; ++i) BOOST_TEST(put(st, "GET http://a/" + std::to_string(i), "", "a"));
    for (int i = 0; i < 5; ++i) BOOST_TEST(put(st, "GET http://b/" + std::to_string(i), "", "b"));
    BOOST_TEST(st.erase("GET http://a/3"));
    BOOST_TEST(!st.erase("GET http://a/3"));
    BOOST_TEST(!st.find("GET http://a/3"));
    BOOST_TEST(st.erase_prefix("GET http://a/") == 19u);
    BOOST_TEST(!st.find("GET http://a/7"));
    BOOST_TEST(st.find("GET http://b/4"));
    BOOST_TEST(st.stats().live_objects == 5u);
    BOOST_TEST(st.stats().evicted == 20u);  // purged objects count as evicted
    BOOST_TEST(st.check().empty());
}

BOOST_FIXTURE_TEST_CASE(max_body_fails_the_writer, fixture) {
    std::string body = noise(200000);
    BOOST_TEST(!put(st, "big", "", body, false, 10000, 150000));
    BOOST_TEST(!st.find("big"));
    BOOST_TEST(put(st, "fits", "", body, false, 10000, 200000));
    auto w = st.begin("k", "", false, 10);
    BOOST_TEST(!w.append("01234567890", 11));
    BOOST_TEST(!w.ok());
    BOOST_TEST(!w.commit());
    // An object larger than half the arena cannot be kept: the writer fails rather than evict itself.
    std::string huge = noise(3 * mib);
    BOOST_TEST(!put(st, "huge", "", huge, false, 65536));
    BOOST_TEST((get(st, "fits") == body));
}

BOOST_FIXTURE_TEST_CASE(seek_skips_forward_without_reading_everything, fixture) {
    const std::string body = text(4 * store::max_chunk + 100, 9);
    BOOST_TEST(put(st, "k", "", body, true));
    auto e = st.find("k");
    std::vector<char> buf(store::max_chunk);
    for (std::uint64_t off : {std::uint64_t{0}, std::uint64_t{10}, std::uint64_t{store::max_chunk},
                              std::uint64_t{3 * store::max_chunk + 5}, std::uint64_t{body.size()}}) {
        auto r = st.open_body(e);
        BOOST_TEST(r.seek(off));
        BOOST_TEST(r.remaining() == body.size() - off);
        std::string out;
        std::size_t n = 0;
        while (r.next(buf.data(), buf.size(), n) && n > 0) out.append(buf.data(), n);
        BOOST_TEST(!r.evicted());
        BOOST_TEST((out == body.substr(off)));
        BOOST_TEST(!r.seek(0));  // backwards
    }
    auto r = st.open_body(e);
    BOOST_TEST(!r.seek(body.size() + 1));
}

BOOST_FIXTURE_TEST_CASE(another_mapping_sees_the_objects, fixture) {
    const std::string body = text(300000, 2);
    BOOST_TEST(put(st, "k", "h", body, true));
    store other = store::open_existing(path, false);
    BOOST_TEST((get(other, "k") == body));
    BOOST_TEST(put(other, "k2", "h2", "from the other mapping"));
    BOOST_TEST((get(st, "k2") == std::string("from the other mapping")));
    store ro = store::open_existing(path, true);
    BOOST_TEST((get(ro, "k") == body));
    BOOST_TEST(!ro.begin("x", "", false, 0).ok());
    BOOST_TEST(!ro.erase("k"));
    BOOST_TEST(ro.check().empty());
    BOOST_CHECK_THROW(store::open_existing(dir.file("missing"), true), std::system_error);
}

BOOST_FIXTURE_TEST_CASE(a_valid_file_is_reused_with_its_objects, fixture) {
    BOOST_TEST(put(st, "kept", "h", text(100000), true));
    st = store();
    std::string n2;
    store again = store::open_or_create(path, 4 * mib, n2);
    BOOST_TEST(n2.empty());
    BOOST_TEST((get(again, "kept") == text(100000)));
    BOOST_TEST(again.stats().stored == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_bad_file_is_recreated_with_a_note, fixture) {
    namespace layout = bulwark::cache::layout;
    BOOST_TEST(put(st, "k", "h", "body"));
    st = store();
    auto reopen = [&](std::uint64_t size) {
        std::string why;
        store s = store::open_or_create(path, size, why);
        BOOST_TEST(s.valid());
        BOOST_TEST(!s.find("k"));
        BOOST_TEST(s.check().empty());
        BOOST_TEST(put(s, "k", "h", "body"));  // ready for the next case
        return why;
    };
    BOOST_TEST(reopen(8 * mib) == "recreated cache file " + path + ": file of 4194304 bytes, expected 8388608");

    std::uint32_t version = 0;
    write_at(path, offsetof(layout::file_header, layout_version), &version, sizeof version);
    BOOST_TEST(reopen(8 * mib) == "recreated cache file " + path + ": layout version 0, expected 1");

    std::uint64_t groups = 3;
    write_at(path, offsetof(layout::file_header, index_groups), &groups, sizeof groups);
    BOOST_TEST(reopen(8 * mib) == "recreated cache file " + path + ": header checksum mismatch");

    std::uint64_t head = 1;  // allocation state is not covered by the checksum but is checked
    write_at(path, offsetof(layout::file_header, write_head), &head, sizeof head);
    BOOST_TEST(reopen(8 * mib) == "recreated cache file " + path + ": allocation state out of range");

    const std::uint64_t end[2] = {layout::max_position, layout::max_position};  // write head, horizon
    write_at(path, offsetof(layout::file_header, write_head), end, sizeof end);
    BOOST_TEST(reopen(8 * mib) == "recreated cache file " + path + ": arena positions exhausted");

    const std::string junk = noise(8 * mib, 11);
    write_at(path, 0, junk.data(), junk.size());
    BOOST_TEST(reopen(8 * mib) == "recreated cache file " + path + ": not a cache file (bad magic)");
    BOOST_CHECK_THROW(store::open_existing(path + ".nope", false), std::system_error);
    write_at(path, 0, junk.data(), 64);
    BOOST_CHECK_THROW(store::open_existing(path, false), std::runtime_error);
}

BOOST_FIXTURE_TEST_CASE(a_damaged_record_is_never_served, fixture) {
    const std::string body = text(3 * store::max_chunk, 4);
    BOOST_TEST(put(st, "k", "h", body, true));
    BOOST_TEST(put(st, "j", "h", "inline"));
    auto e = st.find("k");
    namespace layout = bulwark::cache::layout;
    // Flip one byte of the first chunk's data: the first record of the arena (chunks precede their head).
    int fd = ::open(path.c_str(), O_RDWR);
    BOOST_REQUIRE(fd >= 0);
    layout::file_header h{};
    BOOST_REQUIRE(::pread(fd, &h, sizeof h, 0) == static_cast<ssize_t>(sizeof h));
    const off_t chunk_data = static_cast<off_t>(h.arena_offset + sizeof(layout::record_header) + 100);
    char c = 0;
    BOOST_REQUIRE(::pread(fd, &c, 1, chunk_data) == 1);
    c ^= 0x55;
    BOOST_REQUIRE(::pwrite(fd, &c, 1, chunk_data) == 1);
    ::close(fd);
    BOOST_TEST(st.find("k"));           // the head record is intact
    BOOST_TEST(!read_body(st, e));      // the first chunk is not
    BOOST_TEST((get(st, "j") == std::string("inline")));
    auto problems = st.check();
    BOOST_REQUIRE(problems.size() == 1u);
    BOOST_TEST(problems[0].find("chunk 0 checksum mismatch") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
