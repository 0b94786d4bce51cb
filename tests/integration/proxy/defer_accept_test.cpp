// proxy/defer_accept: with defer_accept (the default) the kernel queues a connection for accept() only
// once the client has sent something; off, at once. Seen from the listening socket's accept queue in
// /proc/net/tcp while the only worker is stopped, so nothing is accepted meanwhile.
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "harness/bulwark_process.hpp"
#include "harness/http_client.hpp"
#include "harness/origin.hpp"

using namespace bulwark::test;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t not_listening = static_cast<std::size_t>(-1);

// For a socket in LISTEN state, /proc/net/tcp's rx_queue is the number of connections waiting for
// accept().
std::size_t accept_queue(std::uint16_t port) {
    char want[32];
    std::snprintf(want, sizeof want, "0100007F:%04X", port);
    std::ifstream in("/proc/net/tcp");
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string slot, local, remote, state, queues;
        f >> slot >> local >> remote >> state >> queues;
        if (local == want && state == "0A") return std::stoul(queues.substr(queues.find(':') + 1), nullptr, 16);
    }
    return not_listening;
}

// With the worker stopped: one client connects and says nothing, another sends a request. Returns the
// accept queue then; both clients are answered once the worker runs again.
std::size_t queued_with_a_silent_and_a_talking_client(bulwark_process& bw) {
    auto workers = bw.worker_pids();
    BOOST_TEST_REQUIRE(workers.size() == 1u);
    // The harness's readiness probe connected and closed: its FIN makes it acceptable even with
    // defer_accept, so it is queued until the worker takes it. Stop the worker only once it has.
    BOOST_TEST_REQUIRE(wait_until([&] { return accept_queue(bw.port()) == 0; }, 3s));
    ::kill(workers[0], SIGSTOP);
    http_client silent(bw.port(), 5s);
    http_client talker(bw.port(), 5s);
    talker.send(request_head("GET", "/who", {}));
    std::this_thread::sleep_for(200ms);
    std::size_t queued = accept_queue(bw.port());
    ::kill(workers[0], SIGCONT);
    BOOST_TEST(talker.read_response().body == "a");
    BOOST_TEST(silent.get("/who").body == "a");
    return queued;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(proxy_defer_accept)

BOOST_AUTO_TEST_CASE(by_default_only_a_client_that_has_sent_something_is_queued_for_accept) {
    origin o("a");
    bulwark_process bw;
    bw.start(config_options::with_servers({o.address()}));
    BOOST_TEST(queued_with_a_silent_and_a_talking_client(bw) == 1u);
}

BOOST_AUTO_TEST_CASE(defer_accept_off_queues_every_connection_at_once) {
    origin o("a");
    bulwark_process bw;
    config_options opt = config_options::with_servers({o.address()});
    opt.listener_extra = "defer_accept = off\n";
    bw.start(opt);
    BOOST_TEST(queued_with_a_silent_and_a_talking_client(bw) == 2u);
}

// A silent client is not lost: the kernel hands it over when it repeats its SYN-ACK, about a second
// later, and client_header_timeout then applies as usual.
BOOST_AUTO_TEST_CASE(a_silent_client_still_reaches_a_worker_after_about_a_second) {
    origin o("a");
    bulwark_process bw;
    config_options opt = config_options::with_servers({o.address()});
    opt.global_extra = "client_header_timeout = 1s\n";
    bw.start(opt);
    http_client silent(bw.port(), 10s);
    auto start = std::chrono::steady_clock::now();
    BOOST_TEST(silent.peer_closed(6s), "the silent connection was never accepted and timed out");
    BOOST_TEST((std::chrono::steady_clock::now() - start >= 1s));
}

BOOST_AUTO_TEST_CASE(reload_applies_a_changed_defer_accept_to_the_open_socket) {
    origin o("a");
    bulwark_process bw;
    config_options opt = config_options::with_servers({o.address()});
    bw.start(opt);
    BOOST_TEST_REQUIRE(queued_with_a_silent_and_a_talking_client(bw) == 1u);
    opt.listener_extra = "defer_accept = off\n";
    bw.write_config(bw.config(opt));
    auto r = bw.run({"-c", bw.config_path(), "-s", "reload"}, 30s);
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
    BOOST_TEST(queued_with_a_silent_and_a_talking_client(bw) == 2u);
}

// The reload fails on its second listener (the address is taken), after the first one was matched to
// the socket already open: that socket must keep serving exactly as before.
BOOST_AUTO_TEST_CASE(a_failed_reload_leaves_defer_accept_of_the_open_socket_alone) {
    origin o("a");
    bulwark_process bw;
    config_options opt = config_options::with_servers({o.address()});
    bw.start(opt);
    int taken = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    BOOST_TEST_REQUIRE(::bind(taken, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    BOOST_TEST_REQUIRE(::listen(taken, 1) == 0);
    socklen_t len = sizeof a;
    ::getsockname(taken, reinterpret_cast<sockaddr*>(&a), &len);
    opt.listener_extra = "defer_accept = off\n";
    opt.tail = "[listener:extra]\nbind = 127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "\nupstream = backend\n";
    bw.write_config(bw.config(opt));
    auto r = bw.run({"-c", bw.config_path(), "-s", "reload"}, 30s);
    ::close(taken);
    BOOST_TEST_REQUIRE(r.exit_code != 0, "the reload should have failed: " << r.out);
    BOOST_TEST(queued_with_a_silent_and_a_talking_client(bw) == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
