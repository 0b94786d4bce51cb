// lifecycle/upgrade: `bulwark -s upgrade` under continuous load (issue 5). The master execs the file it
// was started from (re-read at upgrade time, so replacing the file upgrades to the new build), hands over
// the listening sockets, and drains once the new master is ready; no request fails. A new binary that
// exits at start or never becomes ready within upgrade_timeout is killed and the old master keeps
// serving with its pid file restored (rollback); the command exits 1 with the reason.
//
// The binary under test is copied into a temporary directory and started from there, so each test can
// replace "the installed binary" without touching build/bulwark. The test process is a child subreaper
// while these tests run, so the new master (orphaned when the old one exits) is reaped by us.
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "harness/process_text.hpp"
#include "harness/bulwark_process.hpp"
#include "harness/http_client.hpp"
#include "harness/load_generator.hpp"
#include "harness/origin.hpp"

using namespace bulwark::test;
using namespace std::chrono_literals;
using std::chrono::steady_clock;
namespace utf = boost::unit_test;

namespace {

std::string current_test() { return utf::framework::current_test_case().p_name; }

void report(const load_counts& c) {
    std::cout << "[lifecycle_upgrade/" << current_test() << "] load: " << c.summary() << std::endl;
}

void expect_clean(const load_counts& c) {
    BOOST_TEST(c.sent > 0u);
    BOOST_TEST(c.failed == 0u, "failed requests: " << c.summary());
    BOOST_TEST(c.resets == 0u, "reset connections: " << c.summary());
    BOOST_TEST(c.succeeded == c.sent, "sent " << c.sent << " but " << c.succeeded << " succeeded");
}

std::string who(std::uint16_t port) {
    try {
        http_client c(port, 5s);
        auto r = c.get("/who");
        if (r.status != 200) return "status " + std::to_string(r.status);
        return r.body;
    } catch (const client_error& e) {
        return std::string("error: ") + e.what();
    }
}

ino_t inode_of(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

std::string exe_link(pid_t pid) {
    std::error_code ec;
    auto p = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec);
    return ec ? std::string("?") : p.string();
}

// One origin behind a bulwark started from a private copy of the binary under test.
struct upgrade_setup {
    child_subreaper reaper;  // first member: outlives the process objects below
    temp_dir bin_dir;
    const std::string exe = bin_dir.file("bulwark");
    origin a{"a"};
    bulwark_process bw;
    config_options opt;

    explicit upgrade_setup(const std::string& global_extra = {}) {
        BOOST_TEST_REQUIRE(reaper.active(), "cannot become a child subreaper");
        install(bulwark_bin());
        bw.set_binary(exe);
        opt = config_options::with_servers({a.address()});
        opt.workers = 2;
        opt.global_extra = "shutdown_timeout = 10s\n" + global_extra;
        bw.start(opt);
    }

    // Replaces the installed file the way a package manager does (new file, then rename over it):
    // the running master keeps its (now deleted) executable.
    void install(const std::string& source, std::size_t extra_bytes = 0) {
        const std::string tmp = exe + ".new";
        std::filesystem::copy_file(source, tmp, std::filesystem::copy_options::overwrite_existing);
        if (extra_bytes) {
            // Another "build": the same program with trailing bytes, so its content and inode differ.
            FILE* f = std::fopen(tmp.c_str(), "ab");
            BOOST_TEST_REQUIRE(f != nullptr);
            std::string pad(extra_bytes, '\0');
            for (std::size_t i = 0; i < pad.size(); ++i) pad[i] = static_cast<char>(i * 31 + 7);
            std::fwrite(pad.data(), 1, pad.size(), f);
            std::fclose(f);
        }
        ::chmod(tmp.c_str(), 0755);
        BOOST_TEST_REQUIRE(std::rename(tmp.c_str(), exe.c_str()) == 0);
    }

    void install_script(const std::string& text) {
        const std::string tmp = exe + ".new";
        write_text(tmp, text);
        ::chmod(tmp.c_str(), 0755);
        BOOST_TEST_REQUIRE(std::rename(tmp.c_str(), exe.c_str()) == 0);
    }

    std::string oldbin() const { return bw.pid_file_path() + ".oldbin"; }

    command_result upgrade() {
        auto t0 = steady_clock::now();
        // The client is always the real binary (bw.run), whatever the installed file now is.
        auto r = bw.run({"-c", bw.config_path(), "-s", "upgrade"}, 90s);
        std::cout << "[lifecycle_upgrade/" << current_test() << "] bulwark -s upgrade: exit " << r.exit_code
                  << (r.timed_out ? " (timed out)" : "") << " after " << ms_since(t0) << " ms; stdout: " << r.out
                  << (r.out.ends_with('\n') ? "" : "\n") << "  stderr: " << r.err
                  << (r.err.ends_with('\n') ? "" : "\n") << std::flush;
        return r;
    }

    load_options load_opts() const {
        load_options lo;
        lo.port = bw.port();
        lo.bodies = {"a"};
        return lo;
    }

    // The whole successful hand-over, checked step by step; returns the new master's pid (or -1).
    pid_t expect_successful_upgrade() {
        const pid_t old_master = bw.master_pid();
        const auto old_workers = sorted(bw.worker_pids());
        auto r = upgrade();
        BOOST_TEST(!r.timed_out);
        BOOST_TEST(r.exit_code == 0, "bulwark -s upgrade exited " << r.exit_code << ": " << r.err << "\n"
                                                                 << bw.diagnostics());
        BOOST_TEST(r.out.find("upgrade complete") != std::string::npos, "stdout: " << r.out);
        if (r.exit_code != 0) return -1;

        // The pid file names the new master, which has its own workers.
        auto named = read_pid_file(bw.pid_file_path());
        BOOST_TEST_REQUIRE(named.has_value(), "no pid file after the upgrade\n" << bw.diagnostics());
        const pid_t fresh = *named;
        BOOST_TEST(fresh != old_master, "the pid file still names the old master");
        BOOST_TEST_REQUIRE(process_alive(fresh), "the new master " << fresh << " is not running\n" << bw.diagnostics());
        BOOST_TEST(proc_comm(fresh) == "bulwark");
        BOOST_TEST(wait_until([&] { return child_pids(fresh, "bulwark-worker").size() == 2u; }, 5s),
                   "new master's workers: " << pids_text(child_pids(fresh, "bulwark-worker")));
        for (pid_t w : child_pids(fresh, "bulwark-worker"))
            BOOST_TEST((std::find(old_workers.begin(), old_workers.end(), w) == old_workers.end()));

        // The old master drains its workers and exits cleanly; its .oldbin pid file goes with it.
        auto st = bw.wait_exit(15s);
        BOOST_TEST(st.has_value(), "the old master " << old_master << " is still running 15 s after the upgrade\n"
                                                    << bw.diagnostics());
        BOOST_TEST((st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0), "old master: " << describe_status(st));
        BOOST_TEST(wait_until(
                       [&] {
                           for (pid_t w : old_workers)
                               if (process_alive(w)) return false;
                           return true;
                       },
                       5s),
                   "old workers still alive");
        BOOST_TEST(!file_exists(oldbin()), oldbin() << " left behind");
        BOOST_TEST(read_pid_file(bw.pid_file_path()).value_or(-1) == fresh, "the old master's exit changed the pid file");
        BOOST_TEST(process_alive(fresh), "the new master died with the old one\n" << bw.diagnostics());
        bw.follow_master(fresh);
        return fresh;
    }

    // After a successful upgrade: the new master can be reloaded and stopped through the usual commands.
    void expect_new_master_is_operable(pid_t fresh) {
        auto rl = bw.run({"-c", bw.config_path(), "-s", "reload"}, 30s);
        BOOST_TEST(rl.exit_code == 0, "bulwark -s reload on the new master exited " << rl.exit_code << ": " << rl.err);
        auto procs = processes_with_argument(bw.config_path());
        BOOST_TEST(procs.size() == 3u, "processes running with this configuration: " << pids_text(procs)
                                                                                    << " (want the new master and 2 workers)");
        auto q = bw.run({"-c", bw.config_path(), "-s", "quit"}, 30s);
        BOOST_TEST(q.exit_code == 0, "bulwark -s quit on the new master exited " << q.exit_code << ": " << q.err);
        auto st = bw.wait_exit(5s);
        BOOST_TEST(st.has_value(), "the new master " << fresh << " did not stop");
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(lifecycle_upgrade)

BOOST_AUTO_TEST_CASE(upgrade_to_the_same_binary_under_load) {
    upgrade_setup u;
    load_generator load(u.load_opts());
    BOOST_TEST_REQUIRE(load.wait_flowing(8s), load.counts().summary() << "\n" << u.bw.diagnostics());
    const pid_t old_master = u.bw.master_pid();

    pid_t fresh = u.expect_successful_upgrade();
    BOOST_TEST(who(u.bw.port()) == "a");
    BOOST_TEST(load.wait_succeeded(200, 5s), load.counts().summary());
    std::this_thread::sleep_for(2500ms);  // slow requests started on the new workers complete too
    auto c = load.stop();
    report(c);
    expect_clean(c);
    BOOST_TEST(!process_alive(old_master));
    if (fresh > 0) u.expect_new_master_is_operable(fresh);
}

BOOST_AUTO_TEST_CASE(upgrade_to_a_second_build_under_load) {
    upgrade_setup u;
    const pid_t old_master = u.bw.master_pid();
    u.install(bulwark_bin(), 4096);  // the "new package"
    const ino_t new_inode = inode_of(u.exe);
    BOOST_TEST_REQUIRE(new_inode != 0u);
    BOOST_TEST(exe_link(old_master).find("(deleted)") != std::string::npos,
               "the old master's executable: " << exe_link(old_master));

    load_generator load(u.load_opts());
    BOOST_TEST_REQUIRE(load.wait_flowing(8s), load.counts().summary() << "\n" << u.bw.diagnostics());
    pid_t fresh = u.expect_successful_upgrade();
    if (fresh > 0) {
        BOOST_TEST(inode_of("/proc/" + std::to_string(fresh) + "/exe") == new_inode,
                   "the new master does not run the replaced file: " << exe_link(fresh));
        BOOST_TEST(exe_link(fresh) == u.exe);
    }
    BOOST_TEST(who(u.bw.port()) == "a");
    BOOST_TEST(load.wait_succeeded(200, 5s), load.counts().summary());
    std::this_thread::sleep_for(2500ms);
    auto c = load.stop();
    report(c);
    expect_clean(c);
    BOOST_TEST(!process_alive(old_master));
    if (fresh > 0) u.expect_new_master_is_operable(fresh);
}

BOOST_AUTO_TEST_CASE(upgrade_to_a_binary_that_exits_at_start_rolls_back) {
    upgrade_setup u;
    const pid_t old_master = u.bw.master_pid();
    const auto old_workers = sorted(u.bw.worker_pids());
    u.install_script("#!/bin/sh\nexit 1\n");

    load_generator load(u.load_opts());
    BOOST_TEST_REQUIRE(load.wait_flowing(8s), load.counts().summary() << "\n" << u.bw.diagnostics());
    auto t0 = steady_clock::now();
    auto r = u.upgrade();
    auto took = ms_since(t0);
    BOOST_TEST(!r.timed_out);
    BOOST_TEST(r.exit_code == 1, "bulwark -s upgrade to a failing binary exited " << r.exit_code);
    BOOST_TEST(!r.err.empty(), "no reason printed");
    BOOST_TEST(r.out.find("upgrade complete") == std::string::npos);
    BOOST_TEST(took < 15000, "the failure took " << took << " ms to report");

    // Rollback: same master, same workers, pid file back, no .oldbin, still serving.
    BOOST_TEST(u.bw.running(), "the old master exited\n" << u.bw.diagnostics());
    BOOST_TEST(u.bw.master_pid() == old_master);
    BOOST_TEST(read_pid_file(u.bw.pid_file_path()).value_or(-1) == old_master,
               "pid file: '" << read_text(u.bw.pid_file_path()) << "'");
    BOOST_TEST(!file_exists(u.oldbin()), u.oldbin() << " left behind");
    BOOST_TEST(pids_text(sorted(u.bw.worker_pids())) == pids_text(old_workers), "the workers changed");
    BOOST_TEST(who(u.bw.port()) == "a");
    BOOST_TEST(load.wait_succeeded(200, 5s), load.counts().summary());
    auto procs = processes_with_argument(u.bw.config_path());
    BOOST_TEST(procs.size() == 3u, "processes running with this configuration: " << pids_text(procs));

    // The master is not stuck in "upgrading": with a working binary installed, the next upgrade succeeds.
    u.install(bulwark_bin());
    pid_t fresh = u.expect_successful_upgrade();
    BOOST_TEST(who(u.bw.port()) == "a");
    std::this_thread::sleep_for(2500ms);
    auto c = load.stop();
    report(c);
    expect_clean(c);
    if (fresh > 0) u.expect_new_master_is_operable(fresh);
}

BOOST_AUTO_TEST_CASE(upgrade_to_a_binary_that_never_becomes_ready_times_out_and_rolls_back) {
    upgrade_setup u("upgrade_timeout = 2s\n");
    const pid_t old_master = u.bw.master_pid();
    const auto old_workers = sorted(u.bw.worker_pids());
    const std::string hung_pid_file = u.bin_dir.file("hung.pid");
    u.install_script("#!/bin/sh\necho $$ > " + hung_pid_file + "\nexec sleep 60\n");

    load_generator load(u.load_opts());
    BOOST_TEST_REQUIRE(load.wait_flowing(8s), load.counts().summary() << "\n" << u.bw.diagnostics());
    auto t0 = steady_clock::now();
    auto r = u.upgrade();
    auto took = ms_since(t0);
    BOOST_TEST(!r.timed_out);
    BOOST_TEST(r.exit_code == 1, "bulwark -s upgrade to a hanging binary exited " << r.exit_code);
    BOOST_TEST(!r.err.empty(), "no reason printed");
    BOOST_TEST(took >= 1500, "gave up after " << took << " ms, before upgrade_timeout (2 s)");
    BOOST_TEST(took < 10000, "gave up after " << took << " ms; upgrade_timeout is 2 s");

    auto hung = read_pid_file(hung_pid_file);
    BOOST_TEST(hung.has_value(), "the new binary never ran");
    if (hung)
        BOOST_TEST(wait_until([&] { return !process_alive(*hung); }, 3s),
                   "the new binary (pid " << *hung << ") was not killed");
    BOOST_TEST(u.bw.running(), "the old master exited\n" << u.bw.diagnostics());
    BOOST_TEST(read_pid_file(u.bw.pid_file_path()).value_or(-1) == old_master,
               "pid file: '" << read_text(u.bw.pid_file_path()) << "'");
    BOOST_TEST(!file_exists(u.oldbin()), u.oldbin() << " left behind");
    BOOST_TEST(pids_text(sorted(u.bw.worker_pids())) == pids_text(old_workers), "the workers changed");
    BOOST_TEST(who(u.bw.port()) == "a");
    BOOST_TEST(load.wait_succeeded(200, 5s), load.counts().summary());
    auto c = load.stop();
    report(c);
    expect_clean(c);
}

BOOST_AUTO_TEST_SUITE_END()
