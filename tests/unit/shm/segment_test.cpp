// shm/segment: the file-backed mapping is created zeroed with a header, reused when magic, version and
// size match (generation +1), replaced with a reason when they do not, and seen alike by a process
// that maps it again by path.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include "shm/segment.hpp"
#include "shm_test_util.hpp"

namespace shm = bulwark::shm;
using shm_test::temp_dir;

namespace {

constexpr std::size_t seg_size = 64 * 1024;

bool all_zero(const std::byte* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
        if (p[i] != std::byte{0}) return false;
    return true;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(shm_segment)

BOOST_AUTO_TEST_CASE(creates_a_zeroed_file_with_a_header) {
    temp_dir dir;
    auto r = shm::segment::open_or_create(dir.file("state.shm"), seg_size, 7);
    BOOST_TEST(r.created);
    BOOST_TEST(r.reason == "no segment file");
    BOOST_TEST(r.seg.valid());
    BOOST_TEST(r.seg.size() == seg_size);
    BOOST_TEST(r.seg.data_size() == seg_size - shm::segment_header_bytes);
    const auto& h = r.seg.header();
    BOOST_TEST(h.magic == shm::segment_magic);
    BOOST_TEST(h.layout_version == 7u);
    BOOST_TEST(h.size == seg_size);
    BOOST_TEST(h.creator_pid == static_cast<std::uint32_t>(::getpid()));
    BOOST_TEST(r.seg.generation() == 1u);
    BOOST_TEST(all_zero(r.seg.data(), r.seg.data_size()));
    struct stat st {};
    BOOST_REQUIRE(::stat(dir.file("state.shm").c_str(), &st) == 0);
    BOOST_TEST(static_cast<std::size_t>(st.st_size) == seg_size);
    BOOST_TEST((st.st_mode & 0777) == 0600u);
}

BOOST_AUTO_TEST_CASE(reopening_keeps_contents_and_bumps_the_generation) {
    temp_dir dir;
    const auto path = dir.file("state.shm");
    {
        auto r = shm::segment::open_or_create(path, seg_size, 1);
        std::memcpy(r.seg.data(), "kept", 4);
    }
    auto r = shm::segment::open_or_create(path, seg_size, 1);
    BOOST_TEST(!r.created);
    BOOST_TEST(r.reason.empty());
    BOOST_TEST(std::memcmp(r.seg.data(), "kept", 4) == 0);
    BOOST_TEST(r.seg.generation() == 2u);
    auto again = shm::segment::open_or_create(path, seg_size, 1);
    BOOST_TEST(again.seg.generation() == 3u);
    BOOST_TEST(r.seg.generation() == 3u);  // same file, both mappings see it
}

BOOST_AUTO_TEST_CASE(another_layout_version_recreates_with_a_reason) {
    temp_dir dir;
    const auto path = dir.file("state.shm");
    std::memcpy(shm::segment::open_or_create(path, seg_size, 1).seg.data(), "old", 3);
    auto r = shm::segment::open_or_create(path, seg_size, 2);
    BOOST_TEST(r.created);
    BOOST_TEST(r.reason == "layout version 1, expected 2");
    BOOST_TEST(r.seg.header().layout_version == 2u);
    BOOST_TEST(r.seg.generation() == 1u);
    BOOST_TEST(all_zero(r.seg.data(), r.seg.data_size()));
}

BOOST_AUTO_TEST_CASE(another_size_recreates_with_a_reason) {
    temp_dir dir;
    const auto path = dir.file("state.shm");
    (void)shm::segment::open_or_create(path, seg_size, 1);
    auto r = shm::segment::open_or_create(path, 2 * seg_size, 1);
    BOOST_TEST(r.created);
    BOOST_TEST(r.reason == "size 65536, expected 131072");
    BOOST_TEST(r.seg.size() == 2 * seg_size);
}

BOOST_AUTO_TEST_CASE(a_foreign_or_truncated_file_is_replaced) {
    temp_dir dir;
    const auto path = dir.file("state.shm");
    std::ofstream(path) << std::string(4096, 'x');
    auto r = shm::segment::open_or_create(path, seg_size, 1);
    BOOST_TEST(r.created);
    BOOST_TEST(r.reason == "not a bulwark segment (bad magic)");

    std::ofstream(path, std::ios::trunc) << "short";
    auto r2 = shm::segment::open_or_create(path, seg_size, 1);
    BOOST_TEST(r2.created);
    BOOST_TEST(r2.reason == "file too small (5 bytes)");

    BOOST_REQUIRE(::truncate(path.c_str(), seg_size / 2) == 0);  // header intact, body cut off
    auto r3 = shm::segment::open_or_create(path, seg_size, 1);
    BOOST_TEST(r3.created);
    BOOST_TEST(r3.reason == "header says 65536 bytes, file has 32768");
}

BOOST_AUTO_TEST_CASE(a_mapping_made_before_replacement_keeps_its_own_file) {
    temp_dir dir;
    const auto path = dir.file("state.shm");
    auto old_seg = shm::segment::open_or_create(path, seg_size, 1).seg;
    std::memcpy(old_seg.data(), "old", 3);
    auto fresh = shm::segment::open_or_create(path, seg_size, 2);
    BOOST_TEST(fresh.created);
    BOOST_TEST(std::memcmp(old_seg.data(), "old", 3) == 0);
    BOOST_TEST(all_zero(fresh.seg.data(), 16));
    std::memcpy(fresh.seg.data(), "new", 3);
    BOOST_TEST(std::memcmp(old_seg.data(), "old", 3) == 0);
}

BOOST_AUTO_TEST_CASE(open_existing_never_recreates) {
    temp_dir dir;
    const auto path = dir.file("state.shm");
    BOOST_CHECK_THROW(shm::segment::open_existing(path, 1), std::system_error);
    (void)shm::segment::open_or_create(path, seg_size, 1);
    BOOST_CHECK_THROW(shm::segment::open_existing(path, 2), std::runtime_error);
    auto seg = shm::segment::open_existing(path, 1);
    BOOST_TEST(seg.size() == seg_size);
    BOOST_TEST(seg.generation() == 1u);  // only open_or_create counts generations
    auto ro = shm::segment::open_existing(path, 1, shm::segment_access::read_only);
    BOOST_TEST(ro.read_only());
    std::memcpy(seg.data(), "seen", 4);
    BOOST_TEST(std::memcmp(ro.data(), "seen", 4) == 0);
}

BOOST_AUTO_TEST_CASE(a_process_mapping_the_file_again_shares_the_bytes, *boost::unit_test::timeout(30)) {
    temp_dir dir;
    const auto path = dir.file("state.shm");
    auto r = shm::segment::open_or_create(path, seg_size, 3);
    std::memcpy(r.seg.data() + 100, "from parent", 11);
    // The child maps the file anew by path, at another address, like a process after exec.
    pid_t pid = shm_test::fork_child([&] {
        auto seg = shm::segment::open_existing(path, 3);
        if (std::memcmp(seg.data() + 100, "from parent", 11) != 0) return 1;
        std::memcpy(seg.data() + 200, "from child", 10);
        return 0;
    });
    BOOST_TEST(shm_test::wait_child(pid) == 0);
    BOOST_TEST(std::memcmp(r.seg.data() + 200, "from child", 10) == 0);
}

BOOST_AUTO_TEST_CASE(bad_arguments_and_paths_throw) {
    temp_dir dir;
    BOOST_CHECK_THROW(shm::segment::open_or_create(dir.file("tiny.shm"), shm::segment_header_bytes, 1),
                      std::invalid_argument);
    BOOST_CHECK_THROW(shm::segment::open_or_create(dir.file("missing/dir/state.shm"), seg_size, 1),
                      std::system_error);
    auto seg = shm::segment::open_or_create(dir.file("state.shm"), seg_size, 1).seg;
    BOOST_TEST(seg.area(0, 128).size() == 128u);
    BOOST_TEST(seg.area(64, seg.data_size() - 64).size() == seg.data_size() - 64);
    BOOST_CHECK_THROW(seg.area(0, seg.data_size() + 1), std::out_of_range);
    BOOST_CHECK_THROW(seg.area(32, 64), std::out_of_range);
}

BOOST_AUTO_TEST_CASE(options_set_the_file_mode) {
    temp_dir dir;
    shm::segment_options opts;
    opts.mode = 0640;
    opts.owner = ::getuid();
    opts.group = ::getgid();
    (void)shm::segment::open_or_create(dir.file("state.shm"), seg_size, 1, opts);
    struct stat st {};
    BOOST_REQUIRE(::stat(dir.file("state.shm").c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0640u);
    BOOST_TEST(st.st_uid == ::getuid());
}

BOOST_AUTO_TEST_SUITE_END()
