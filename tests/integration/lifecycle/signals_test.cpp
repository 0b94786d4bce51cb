// lifecycle/signals: QUIT drains in-flight requests then exits, TERM stops at once, a killed worker is
// replaced, USR1 reopens the logs, the pid file names the master and `-s quit` stops it.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "harness/process_text.hpp"
#include "harness/bulwark_process.hpp"
#include "harness/http_client.hpp"
#include "harness/origin.hpp"

using namespace bulwark::test;
using std::chrono::steady_clock;

namespace {

bool all_gone(const std::vector<pid_t>& pids) {
    for (pid_t p : pids)
        if (process_alive(p) && proc_comm(p) == "bulwark-worker") return false;
    return true;
}

bool exited_zero(std::optional<int> st) { return st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0; }




}  // namespace

BOOST_AUTO_TEST_SUITE(lifecycle_signals)

BOOST_AUTO_TEST_CASE(graceful_quit_completes_in_flight_request_then_master_exits) {
    origin o("a");
    bulwark_process bw;
    config_options opt = config_options::with_servers({o.address()});
    opt.global_extra = "shutdown_timeout = 20s\n";
    bw.start(opt);
    auto workers = bw.worker_pids();

    http_client c(bw.port(), std::chrono::seconds(10));
    c.send(request_head("GET", "/slow/2000", {}));
    BOOST_TEST_REQUIRE(wait_until([&] { return o.requests() == 1; }, std::chrono::seconds(3)),
                       "the request did not reach the origin");
    auto t0 = steady_clock::now();
    bw.signal(SIGQUIT);

    auto r = c.read_response();
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body == "slow 2000", "body: " << r.body);
    BOOST_TEST_MESSAGE("in-flight response completed " << ms_since(t0) << " ms after QUIT");

    // The idle client connection must not hold the stop until shutdown_timeout (20 s).
    auto st = bw.wait_exit(std::chrono::seconds(10));
    BOOST_TEST(st.has_value(), "master still running 10 s after the in-flight request completed\n"
                                   << bw.diagnostics());
    BOOST_TEST(exited_zero(st), "master: " << describe_status(st));
    BOOST_TEST(wait_until([&] { return all_gone(workers); }, std::chrono::seconds(3)), "workers outlived the master");
}

BOOST_AUTO_TEST_CASE(killed_worker_is_replaced_within_3s_and_proxy_keeps_answering) {
    origin o("a");
    bulwark_process bw;
    bw.start(config_options::with_servers({o.address()}));
    auto before = bw.worker_pids();
    BOOST_TEST_REQUIRE(before.size() == 1u);
    {
        http_client c(bw.port());
        BOOST_TEST(c.get("/who").status == 200);
    }

    ::kill(before[0], SIGKILL);
    pid_t replacement = -1;
    bool respawned = wait_until(
        [&] {
            for (pid_t w : bw.worker_pids())
                if (w != before[0]) {
                    replacement = w;
                    return true;
                }
            return false;
        },
        std::chrono::seconds(3));
    BOOST_TEST_REQUIRE(respawned, "no new worker within 3 s\n" << bw.diagnostics());
    BOOST_TEST(bw.running());
    BOOST_TEST(bw.wait_workers(1, std::chrono::seconds(2)));

    // Proxy keeps answering (the new worker may need a moment to start accepting).
    int ok = 0;
    for (int i = 0; i < 5; ++i) {
        http_client c(bw.port(), std::chrono::seconds(5));
        auto r = c.get("/who");
        if (r.status == 200 && r.body == "a") ++ok;
    }
    BOOST_TEST(ok == 5);
    BOOST_TEST(process_alive(replacement));
}

BOOST_AUTO_TEST_CASE(term_stops_master_and_workers_fast_despite_in_flight_request) {
    origin o("a");
    bulwark_process bw;
    config_options opt = config_options::with_servers({o.address()});
    opt.global_extra = "shutdown_timeout = 30s\n";
    bw.start(opt);
    auto workers = bw.worker_pids();

    http_client c(bw.port(), std::chrono::seconds(5));
    c.send(request_head("GET", "/hang", {}));
    BOOST_TEST_REQUIRE(wait_until([&] { return o.requests() == 1; }, std::chrono::seconds(3)));

    auto t0 = steady_clock::now();
    bw.signal(SIGTERM);
    auto st = bw.wait_exit(std::chrono::seconds(3));
    auto ms = ms_since(t0);
    BOOST_TEST(st.has_value(), "master still running 3 s after TERM\n" << bw.diagnostics());
    BOOST_TEST_MESSAGE("master exited " << ms << " ms after TERM (" << describe_status(st) << ")");
    BOOST_TEST(wait_until([&] { return all_gone(workers); }, std::chrono::seconds(1)), "workers outlived the master");
    BOOST_TEST(c.peer_closed(std::chrono::seconds(2)), "the client connection was left open");
}

BOOST_AUTO_TEST_CASE(pid_file_contains_the_master_pid) {
    origin o("a");
    bulwark_process bw;
    bw.start(config_options::with_servers({o.address()}));
    std::string want = std::to_string(bw.master_pid());
    bool ok = wait_until(
        [&] {
            std::string s = read_text(bw.pid_file_path());
            while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
            return s == want;
        },
        std::chrono::seconds(2));
    BOOST_TEST(ok, "pid file holds '" << read_text(bw.pid_file_path()) << "', master is " << want);
}

BOOST_AUTO_TEST_CASE(signal_quit_command_stops_the_master) {
    origin o("a");
    bulwark_process bw;
    bw.start(config_options::with_servers({o.address()}));
    auto workers = bw.worker_pids();
    BOOST_TEST_REQUIRE(wait_until([&] { return file_exists(bw.pid_file_path()); }, std::chrono::seconds(2)));

    auto r = bw.run({"-c", bw.config_path(), "-s", "quit"}, std::chrono::seconds(20));
    BOOST_TEST(!r.timed_out);
    BOOST_TEST(r.exit_code == 0, "bulwark -s quit: " << r.err);
    // -s quit waits until the master is gone.
    auto st = bw.wait_exit(std::chrono::seconds(2));
    BOOST_TEST(st.has_value(), "master still running after `-s quit` returned\n" << bw.diagnostics());
    BOOST_TEST(exited_zero(st), "master: " << describe_status(st));
    BOOST_TEST(wait_until([&] { return all_gone(workers); }, std::chrono::seconds(3)));
}

BOOST_AUTO_TEST_CASE(usr1_reopens_access_and_error_logs) {
    origin o("a");
    bulwark_process bw;
    bw.start(config_options::with_servers({o.address()}));
    {
        http_client c(bw.port());
        BOOST_TEST_REQUIRE(c.get("/before-reopen").status == 200);
    }
    BOOST_TEST_REQUIRE(bw.wait_for_text(bw.access_log_path(), "/before-reopen"), "first line never logged");
    BOOST_TEST_REQUIRE(file_exists(bw.error_log_path()));

    std::string old_access = bw.access_log_path() + ".1";
    std::string old_error = bw.error_log_path() + ".1";
    BOOST_TEST_REQUIRE(std::rename(bw.access_log_path().c_str(), old_access.c_str()) == 0);
    BOOST_TEST_REQUIRE(std::rename(bw.error_log_path().c_str(), old_error.c_str()) == 0);
    bw.signal(SIGUSR1);

    BOOST_TEST(wait_until([&] { return file_exists(bw.error_log_path()); }, std::chrono::seconds(3)),
               "error.log was not re-created after USR1");
    BOOST_TEST(wait_until([&] { return file_exists(bw.access_log_path()); }, std::chrono::seconds(3)),
               "access.log was not re-created after USR1");
    {
        http_client c(bw.port());
        BOOST_TEST_REQUIRE(c.get("/after-reopen").status == 200);
    }
    BOOST_TEST(bw.wait_for_text(bw.access_log_path(), "/after-reopen"),
               "new access.log lacks the request; new: " << bw.access_log() << "\nold: " << read_text(old_access));
    BOOST_TEST(read_text(old_access).find("/after-reopen") == std::string::npos,
               "the request went to the renamed file");
    BOOST_TEST(bw.running());
}

// A supervisor that reloads or stops the moment the port answers must find the master ready for it: a
// signal that arrives before its loop runs waits (blocked) instead of killing it with the default
// action (HUP's terminates).
BOOST_AUTO_TEST_CASE(hup_sent_the_moment_the_port_answers_reloads_instead_of_killing) {
    origin o("a");
    for (int round = 0; round < 5; ++round) {
        bulwark_process bw;
        bw.write_config(bw.config(config_options::with_servers({o.address()})));
        const std::string bin = bulwark_bin(), cfg = bw.config_path(), out = bw.file("spawned.txt");
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
        const char* argv[] = {bin.c_str(), "--foreground", "-c", cfg.c_str(), nullptr};
        pid_t pid = -1;
        BOOST_TEST_REQUIRE(::posix_spawn(&pid, bin.c_str(), &fa, nullptr, const_cast<char**>(argv), ::environ) == 0);
        posix_spawn_file_actions_destroy(&fa);
        struct stop_on_exit {  // a failed check must not leave the master running
            pid_t pid;
            ~stop_on_exit() {
                int st = 0;
                if (::kill(pid, SIGTERM) == 0) ::waitpid(pid, &st, 0);
            }
        } stopper{pid};
        auto t0 = steady_clock::now();
        while (!port_accepts(bw.port()) && steady_clock::now() - t0 < std::chrono::seconds(10)) {}
        ::kill(pid, SIGHUP);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        BOOST_TEST_REQUIRE(process_alive(pid), "round " << round << ": the master died\n" << bw.diagnostics());
        http_client c(bw.port(), std::chrono::seconds(5));
        BOOST_TEST(c.get("/who").body == "a");
        BOOST_TEST(bw.wait_for_text(bw.error_log_path(), "reload"), bw.error_log());
    }
}

BOOST_AUTO_TEST_SUITE_END()
