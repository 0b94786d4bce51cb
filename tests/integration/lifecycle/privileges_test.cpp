// lifecycle/privileges: started as root with `user = nobody`, workers run as nobody with no
// supplementary groups while the master stays root.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "harness/bulwark_process.hpp"
#include "harness/http_client.hpp"
#include "harness/origin.hpp"

using namespace bulwark::test;
namespace utf = boost::unit_test;

namespace {

std::vector<std::string> fields(const std::string& s) {
    std::istringstream in(s);
    std::vector<std::string> out;
    for (std::string f; in >> f;) out.push_back(f);
    return out;
}

boost::test_tools::assertion_result running_as_root(utf::test_unit_id) {
    bool root = ::geteuid() == 0;
    boost::test_tools::assertion_result r(root);
    r.message() << "skipped: the privilege drop can only be checked when the tests run as root";
    // Boost reports skipped cases only at higher log levels; say it on stderr too.
    if (!root)
        std::clog << "NOTE: lifecycle_privileges/workers_drop_to_nobody_with_no_groups_while_master_stays_root "
                     "SKIPPED (not running as root)\n";
    return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(lifecycle_privileges)

BOOST_AUTO_TEST_CASE(workers_drop_to_nobody_with_no_groups_while_master_stays_root,
                     *utf::precondition(running_as_root)) {
    origin o("a");
    bulwark_process bw;
    config_options opt = config_options::with_servers({o.address()});
    opt.global_extra = "user = nobody\n";
    bw.start(opt);

    auto workers = bw.worker_pids();
    BOOST_TEST_REQUIRE(!workers.empty());
    for (pid_t w : workers) {
        auto uid = fields(proc_status_field(w, "Uid").value_or(""));
        auto gid = fields(proc_status_field(w, "Gid").value_or(""));
        auto groups = proc_status_field(w, "Groups");
        BOOST_TEST_REQUIRE(uid.size() == 4u);
        BOOST_TEST_REQUIRE(gid.size() == 4u);
        for (const auto& f : uid) BOOST_TEST(f == "65534", "worker " << w << " Uid: " << *proc_status_field(w, "Uid"));
        for (const auto& f : gid) BOOST_TEST(f == "65534", "worker " << w << " Gid: " << *proc_status_field(w, "Gid"));
        BOOST_TEST(groups.has_value());
        BOOST_TEST(groups.value_or("x").empty(), "worker " << w << " Groups: " << groups.value_or("?"));
    }
    auto master_uid = fields(proc_status_field(bw.master_pid(), "Uid").value_or(""));
    BOOST_TEST_REQUIRE(master_uid.size() == 4u);
    for (const auto& f : master_uid) BOOST_TEST(f == "0", "master Uid changed");

    // And the unprivileged worker still proxies.
    http_client c(bw.port());
    auto r = c.get("/who");
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body == "a");
}

BOOST_AUTO_TEST_SUITE_END()
