// cache/full_disk: a cache file that does not fit on its disk is a clear start-up error, not a SIGBUS
// in a worker later (the file's blocks are reserved when it is created). The disk is a 4 MiB tmpfs
// mounted by the test (root only; skipped otherwise).
#include <boost/test/unit_test.hpp>

#include <sys/mount.h>
#include <unistd.h>

#include "cache/cache_fixture.hpp"

using namespace bulwark::test;
using namespace bulwark::test::cache;

BOOST_AUTO_TEST_SUITE(cache_full_disk)

BOOST_AUTO_TEST_CASE(a_cache_larger_than_its_disk_is_refused_at_start) {
    temp_dir disk;
    if (::geteuid() != 0 || ::mount("tmpfs", disk.path().c_str(), "tmpfs", 0, "size=4m") != 0) {
        BOOST_TEST_MESSAGE("cannot mount a tmpfs (needs root): skipped");
        return;
    }
    struct unmount {
        std::string path;
        ~unmount() { ::umount2(path.c_str(), MNT_DETACH); }
    } guard{disk.path()};
    origin o("a");
    bulwark_process bw;
    config_options opt = config_options::with_servers({o.address()});
    opt.tail = cache_sections(disk.file("cache.bin"));  // 16m on a 4m disk
    bw.write_config(bw.config(opt));
    auto r = run_command({bw.binary(), "--foreground", "-c", bw.config_path()}, std::chrono::seconds(20));
    BOOST_TEST(r.exit_code == 1, "exit " << r.exit_code << "\n" << r.err);
    BOOST_TEST(r.err.find("cache") != std::string::npos, r.err);
    BOOST_TEST(r.err.find("No space left on device") != std::string::npos, r.err);
    BOOST_TEST(!port_accepts(bw.port()));
}

BOOST_AUTO_TEST_SUITE_END()
