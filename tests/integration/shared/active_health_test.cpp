// shared/active_health: the bulwark-monitor process probes `health_check = GET /healthz`; an origin
// whose /healthz fails goes down for every worker and comes back after health_rise passes; one probe
// per server per interval however many workers run; every state change is logged once.
#include <boost/test/unit_test.hpp>

#include <map>
#include <string>

#include "shared/shared_fixture.hpp"

using namespace bulwark::test;
using namespace bulwark::test::shared;

namespace {

const std::string fast_checks =
    "health_check = GET /healthz\nhealth_interval = 200ms\nhealth_timeout = 500ms\nhealth_fall = 2\n"
    "health_rise = 2\n";

// Requests other than probes that reached an origin.
std::size_t proxied(const origin& o) { return o.requests() - o.requests_to("/healthz"); }

}  // namespace

BOOST_AUTO_TEST_SUITE(shared_active_health)

BOOST_AUTO_TEST_CASE(a_failing_health_check_takes_a_server_down_and_rise_passes_bring_it_back) {
    origin a("a");
    origin b("b");
    bulwark_process bw;
    bw.start(upstream_with(servers_of({&a, &b}), 4, fast_checks));
    BOOST_TEST_REQUIRE(wait_until([&] { return a.requests_to("/healthz") >= 2 && b.requests_to("/healthz") >= 2; },
                                  3s),
                       "no probes\n" << bw.diagnostics());
    const std::string down_line = "server " + a.address() + " is down (health check";
    const std::string up_line = "server " + a.address() + " is up (health check";

    a.set_status("/healthz", 500);
    const auto failing_since = steady::now();
    BOOST_TEST_REQUIRE(wait_log_line(bw, {down_line}, 3s), bw.diagnostics());
    const long long took_down = ms_since(failing_since);
    BOOST_TEST(took_down < 1500, "down after " << took_down << " ms (2 failed probes at 200 ms)");

    const std::size_t a_before = proxied(a);
    for (int i = 0; i < 20; ++i) {
        auto o = get_once(bw.port(), "/who");
        BOOST_TEST_REQUIRE(o.status == 200, o.error);
        BOOST_TEST(o.body == "b");
    }
    BOOST_TEST(proxied(a) == a_before, "a got requests while down");
    auto st = read_status(bw);
    BOOST_TEST_REQUIRE(st.find(a.address()) != nullptr, st.text);
    BOOST_TEST(st.find(a.address())->state == "down", st.text);

    a.set_status("/healthz", 0);
    BOOST_TEST_REQUIRE(wait_log_line(bw, {up_line}, 3s), bw.diagnostics());
    std::map<std::string, int> served;
    for (int i = 0; i < 20; ++i) {
        auto o = get_once(bw.port(), "/who");
        BOOST_TEST_REQUIRE(o.status == 200, o.error);
        ++served[o.body];
    }
    BOOST_TEST(served["a"] >= 5, "a served " << served["a"] << " of 20 after coming back");
    // Logged by the monitor once, not once per worker.
    BOOST_TEST(count_lines(bw.error_log(), {down_line}) == 1u, bw.error_log());
    BOOST_TEST(count_lines(bw.error_log(), {up_line}) == 1u, bw.error_log());
    BOOST_TEST(count_lines(bw.error_log(), {"server " + b.address(), "is down"}) == 0u);
}

BOOST_AUTO_TEST_CASE(one_probe_per_server_per_interval_with_four_workers) {
    origin a("a");
    origin b("b");
    bulwark_process bw;
    bw.start(upstream_with(servers_of({&a, &b}), 4,
                           "health_check = GET /healthz\nhealth_interval = 250ms\nhealth_timeout = 200ms\n"));
    BOOST_TEST_REQUIRE(wait_until([&] { return a.requests_to("/healthz") >= 1 && b.requests_to("/healthz") >= 1; },
                                  3s),
                       "no probes\n" << bw.diagnostics());
    const std::size_t a0 = a.requests_to("/healthz"), b0 = b.requests_to("/healthz");
    std::this_thread::sleep_for(2s);
    const std::size_t a_probes = a.requests_to("/healthz") - a0, b_probes = b.requests_to("/healthz") - b0;
    // 2 s / 250 ms = 8 per server, one more or less at the edges of the window.
    BOOST_TEST(a_probes >= 7u);
    BOOST_TEST(a_probes <= 9u);
    BOOST_TEST(b_probes >= 7u);
    BOOST_TEST(b_probes <= 9u);
    // The probes come from the monitor, not from the workers.
    BOOST_TEST(bw.worker_pids().size() == 4u);
    BOOST_TEST(child_pids(bw.master_pid(), "bulwark-monitor").size() == 1u);
    BOOST_TEST(a.last_request().target == "/healthz");
}

BOOST_AUTO_TEST_CASE(every_server_failing_health_checks_gives_503_at_once_without_connecting) {
    origin a("a");
    origin b("b");
    a.set_status("/healthz", 503);
    b.set_status("/healthz", 503);
    bulwark_process bw;
    bw.start(upstream_with(servers_of({&a, &b}), 2, fast_checks));
    BOOST_TEST_REQUIRE(wait_until(
        [&] { return count_lines(bw.error_log(), {"is down (health check"}) == 2; }, 3s), bw.diagnostics());

    // The origins are listening, so any connection attempt would be counted: only probes may arrive.
    const std::size_t conns_before = a.connections() + b.connections();
    const std::size_t probes_before = a.requests_to("/healthz") + b.requests_to("/healthz");
    long long slowest = 0;
    int answered_503 = 0;
    std::unique_ptr<http_client> keep;  // keep-alive, reconnecting if the proxy closes after a 503
    for (int i = 0; i < 30; ++i) {
        const auto t0 = steady::now();
        if (!keep) keep = std::make_unique<http_client>(bw.port(), 5s);
        auto r = keep->get("/who");
        slowest = std::max(slowest, ms_since(t0));
        answered_503 += r.status == 503;
        if (r.header("connection").value_or("") == "close") keep.reset();
    }
    keep.reset();
    for (int i = 0; i < 30; ++i) {
        auto o = get_once(bw.port(), "/who");
        answered_503 += o.status == 503;
        slowest = std::max(slowest, o.took_ms);
    }
    BOOST_TEST(answered_503 == 60);
    BOOST_TEST(slowest < 100, "slowest 503 took " << slowest << " ms");
    const std::size_t new_conns = a.connections() + b.connections() - conns_before;
    const std::size_t new_probes = a.requests_to("/healthz") + b.requests_to("/healthz") - probes_before;
    BOOST_TEST(proxied(a) + proxied(b) == 0u);
    BOOST_TEST(new_conns <= new_probes + 2, new_conns << " connections for " << new_probes << " probes");
    BOOST_TEST(count_lines(bw.error_log(), {"no server available"}) >= 1u);
}

BOOST_AUTO_TEST_SUITE_END()
