// health/monitor: run_monitor in a forked child probing tiny origins on 127.0.0.1 every 100 ms: down
// after health_fall failures (refused, closed, timed out, bad status), up after health_rise passes,
// each change logged once, one probe per interval; stops on EOF of its channel and on SIGTERM.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "core/asio.hpp"
#include "core/log.hpp"
#include "health/monitor.hpp"
#include "health/passive.hpp"
#include "health_test_util.hpp"
#include "process/channel.hpp"

namespace health = bulwark::health;
namespace shm = bulwark::shm;
namespace config = bulwark::config;
using shm::backend_state;
using health_test::origin;
using health_test::wait_until;
using namespace std::chrono_literals;

namespace {

config::server server_at(std::uint16_t port) {
    config::server s;
    s.address.host = "127.0.0.1";
    s.address.port = port;
    return s;
}

config::upstream checked_upstream(const std::string& name, std::vector<std::uint16_t> ports) {
    config::upstream up;
    up.name = name;
    for (auto p : ports) up.servers.push_back(server_at(p));
    up.health.enabled = true;
    up.health.method = "GET";
    up.health.path = "/healthz";
    up.health.interval = 100ms;
    up.health.timeout = 80ms;
    up.health.rise = 2;
    up.health.fall = 3;
    return up;
}

bool is(const shm::backend_table& t, shm::backend_handle h, backend_state s) { return t.state(h) == s; }

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
    return n;
}

// Waits for the child to exit within `limit`; SIGKILLs it otherwise. Returns the wait_child code.
int reap_within(pid_t pid, std::chrono::milliseconds limit) {
    int status = 0;
    bool gone = wait_until([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, limit);
    if (!gone) {
        ::kill(pid, SIGKILL);
        shm_test::wait_child(pid);
        return -1;
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

// Runs run_monitor() in a child logging to `log_path`; `channel` gets the master's end.
pid_t fork_monitor(health_test::table_fixture& f, config::snapshot cfg, const std::string& log_path, int& channel) {
    int fds[2];
    BOOST_REQUIRE(bulwark::process::make_channel(fds));
    pid_t master = ::getpid();
    pid_t pid = shm_test::fork_child(
        [&, fds] {
            ::close(fds[0]);
            std::string error;
            if (!bulwark::log::open(log_path, error)) return 90;
            health::monitor_args args;
            args.cfg = cfg;
            args.table = &f.table;
            args.master_pid = master;
            args.channel_fd = fds[1];
            return health::run_monitor(args);
        },
        30);
    ::close(fds[1]);
    channel = fds[0];
    return pid;
}

bool wait_ready(int channel) {
    pollfd p{channel, POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) return false;
    bulwark::process::message m;
    return bulwark::process::receive_message(channel, m) == 1 && m.type == bulwark::process::message_type::ready;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(health_monitor)

BOOST_AUTO_TEST_CASE(fall_failures_take_a_server_down_and_rise_passes_bring_it_up, *boost::unit_test::timeout(60)) {
    health_test::table_fixture f;
    origin a, closing, silent, unchecked;
    std::uint16_t refused_port = 0;
    int refused_fd = health_test::bind_loopback(false, refused_port);
    closing.set(origin::mode::close);
    silent.set(origin::mode::silent);

    auto cfg = std::make_shared<config::config>();
    cfg->upstreams.push_back(checked_upstream("app", {a.port(), refused_port, closing.port(), silent.port()}));
    config::upstream plain;  // no health_check: never probed
    plain.name = "api";
    plain.servers.push_back(server_at(unchecked.port()));
    cfg->upstreams.push_back(plain);

    auto ha = f.add("app", a.address());
    auto hr = f.add("app", "127.0.0.1:" + std::to_string(refused_port));
    auto hc = f.add("app", closing.address());
    auto hs = f.add("app", silent.address());
    f.add("api", unchecked.address());

    std::string log_path = f.dir.file("error.log");
    int channel = -1;
    pid_t pid = fork_monitor(f, cfg, log_path, channel);
    for (auto* o : {&a, &closing, &silent, &unchecked}) o->start();
    BOOST_TEST_REQUIRE(wait_ready(channel));

    // Three failed probes, about 200 ms after the start.
    BOOST_TEST(wait_until([&] { return is(f.table, hr, backend_state::down); }, 3s));
    BOOST_TEST(wait_until([&] { return is(f.table, hc, backend_state::down); }, 3s));
    BOOST_TEST(wait_until([&] { return is(f.table, hs, backend_state::down); }, 3s));
    BOOST_TEST(f.table.down_until(hr) == health::never);
    BOOST_TEST(!health::available(f.table, hr, shm_test::mono_ms() + 3'600'000));
    BOOST_TEST(f.table.consecutive_failures(hr) >= 3u);
    BOOST_TEST(is(f.table, ha, backend_state::up));
    BOOST_TEST(f.table.consecutive_successes(ha) >= 1u);
    BOOST_TEST(a.last_request() == "GET /healthz HTTP/1.1\r\nHost: " + a.address() +
                                       "\r\nUser-Agent: bulwark-health\r\nConnection: close\r\n\r\n");

    // One probe per interval: about 10 in a second.
    unsigned before = a.accepts();
    std::this_thread::sleep_for(1s);
    unsigned probes = a.accepts() - before;
    BOOST_TEST(probes >= 7u);
    BOOST_TEST(probes <= 13u);
    BOOST_TEST(unchecked.accepts() == 0u);

    // A bad status counts as a failure; then two passes bring it back.
    a.set(origin::mode::error);
    BOOST_TEST(wait_until([&] { return is(f.table, ha, backend_state::down); }, 3s));
    std::uint64_t went_down = f.table.state_since_ms(ha);
    a.set(origin::mode::ok);
    BOOST_TEST(wait_until([&] { return is(f.table, ha, backend_state::up); }, 3s));
    BOOST_TEST(f.table.state_since_ms(ha) >= went_down + 150);  // two probes 100 ms apart
    BOOST_TEST(f.table.consecutive_successes(ha) >= 2u);
    BOOST_TEST(is(f.table, hr, backend_state::down));

    // The master's end closes: the monitor stops by itself.
    ::close(channel);
    BOOST_TEST(reap_within(pid, 3s) == 0);
    for (auto* o : {&a, &closing, &silent, &unchecked}) o->stop();
    ::close(refused_fd);

    std::string log = read_file(log_path);
    BOOST_TEST_MESSAGE(log);
    std::string app = "upstream \"app\" server ";
    BOOST_TEST(count(log, app + "127.0.0.1:" + std::to_string(refused_port) +
                              " is down (health check: connection refused, 3 consecutive failures)") == 1u);
    BOOST_TEST(count(log, app + closing.address() + " is down (health check: connection closed, 3 consecutive failures)") == 1u);
    BOOST_TEST(count(log, app + silent.address() + " is down (health check: timed out, 3 consecutive failures)") == 1u);
    BOOST_TEST(count(log, app + a.address() + " is down (health check: status 500, 3 consecutive failures)") == 1u);
    BOOST_TEST(count(log, app + a.address() + " is up (health check passed 2 times)") == 1u);
    BOOST_TEST(count(log, " is up ") == 1u);
    BOOST_TEST(count(log, " is down ") == 4u);
    BOOST_TEST(count(log, "monitor: ") >= 5u);  // the process tags its lines
}

BOOST_AUTO_TEST_CASE(a_passively_downed_server_comes_back_through_the_monitor, *boost::unit_test::timeout(60)) {
    health_test::table_fixture f;
    origin a;
    auto cfg = std::make_shared<config::config>();
    cfg->upstreams.push_back(checked_upstream("app", {a.port()}));
    auto ha = f.add("app", a.address());
    cfg->upstreams[0].max_fails = 1;
    BOOST_TEST(health::on_failure(f.table, ha, cfg->upstreams[0], shm_test::mono_ms()).changed);
    BOOST_TEST(f.table.down_until(ha) == health::never);

    std::string log_path = f.dir.file("error.log");
    int channel = -1;
    pid_t pid = fork_monitor(f, cfg, log_path, channel);
    a.start();
    BOOST_TEST_REQUIRE(wait_ready(channel));
    BOOST_TEST(wait_until([&] { return is(f.table, ha, backend_state::up); }, 3s));
    BOOST_TEST(::kill(pid, SIGTERM) == 0);
    BOOST_TEST(reap_within(pid, 3s) == 0);
    ::close(channel);
    a.stop();
    std::string log = read_file(log_path);
    BOOST_TEST(count(log, "upstream \"app\" server " + a.address() + " is up (health check passed 2 times)") == 1u);
    BOOST_TEST(count(log, "monitor stopping (SIGTERM)") == 1u);
}

BOOST_AUTO_TEST_CASE(update_replaces_the_checks_and_stop_ends_the_loop, *boost::unit_test::timeout(60)) {
    health_test::table_fixture f;
    origin a;
    a.start();
    auto ha = f.add("app", a.address());

    // Held down by an active check the configuration no longer has: passive checks take over.
    f.table.set_down_until(ha, health::never);
    f.table.exchange_state(ha, backend_state::down, shm_test::mono_ms());
    auto plain = std::make_shared<config::config>();
    plain->upstreams.push_back(checked_upstream("app", {a.port()}));
    plain->upstreams[0].health.enabled = false;

    bulwark::asio::io_context io{1};
    health::monitor m(io, f.table, plain);
    m.start();
    BOOST_TEST(m.probed_servers() == 0u);
    BOOST_TEST(health::available(f.table, ha, shm_test::mono_ms()));
    io.run_for(250ms);
    BOOST_TEST(a.accepts() == 0u);

    auto checked = std::make_shared<config::config>(*plain);
    checked->upstreams[0].health.enabled = true;
    m.update(checked);
    BOOST_TEST(m.probed_servers() == 1u);
    io.restart();
    io.run_for(350ms);  // probes at 0, 100, 200, 300 ms: up after the second
    BOOST_TEST(a.accepts() >= 2u);
    BOOST_TEST(a.accepts() <= 5u);
    BOOST_TEST(is(f.table, ha, backend_state::up));

    // stop() leaves no work behind: run() returns at once.
    m.stop();
    BOOST_TEST(m.probed_servers() == 0u);
    io.restart();
    auto t0 = std::chrono::steady_clock::now();
    io.run_for(2s);
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    BOOST_TEST(took.count() < 500);
    unsigned after = a.accepts();
    a.stop();
    BOOST_TEST(a.accepts() == after);
}

BOOST_AUTO_TEST_SUITE_END()
