// shared/chaos: a load generator runs while a random worker is SIGKILLed every 200 ms for 20 s. Requests
// on a killed worker's connections may fail, but none may hang, and afterwards the proxy serves
// normally, every worker is back, and the shared gauges have not drifted (ACTIVE 0 once idle, and
// max_conns_per_ip does not lock the client out).
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <atomic>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "shared/shared_fixture.hpp"

using namespace bulwark::test;
using namespace bulwark::test::shared;

BOOST_AUTO_TEST_SUITE(shared_chaos)

BOOST_AUTO_TEST_CASE(killing_random_workers_every_200ms_for_20s_hangs_nothing_and_leaves_no_drift) {
    origin a("a");
    origin b("b");
    bulwark_process bw;
    config_options opt = upstream_with(servers_of({&a, &b}), 4, "balance = least_conn\n",
                                       "[limit:perip]\nrate = 100000/s\nburst = 10000\nnodelay = on\n");
    opt.listener_extra = "limit = perip\nmax_conns_per_ip = 64\n";
    bw.start(opt);

    // A request is "hung" when the client gives up waiting: every client call is bounded by this.
    // It is above the master's longest respawn back-off (10 s), which may leave no worker for a while.
    constexpr auto client_timeout = 12s;
    constexpr int load_threads = 6;
    std::atomic<bool> stop{false};
    std::atomic<long> ok{0}, failed{0}, hung{0}, slow{0};
    std::atomic<long long> slowest{0};
    std::mutex mu;
    std::vector<std::string> failure_samples;
    const char* targets[] = {"/who", "/size/20000", "/slow/30", "/chunked/5000"};

    std::vector<std::thread> load;
    for (int t = 0; t < load_threads; ++t) {
        load.emplace_back([&, t] {
            const bool keep_alive = t % 2 == 0;  // half reuse a connection, half open one per request
            std::unique_ptr<http_client> c;
            for (long i = 0; !stop; ++i) {
                const auto t0 = steady::now();
                try {
                    if (!c || !keep_alive) c = std::make_unique<http_client>(bw.port(), client_timeout);
                    auto r = c->get(targets[(i + t) % 4]);
                    if (r.status == 200) ++ok;
                    else {
                        ++failed;
                        c.reset();
                        std::lock_guard lk(mu);
                        if (failure_samples.size() < 5) failure_samples.push_back("status " + std::to_string(r.status));
                    }
                } catch (const std::exception& e) {
                    c.reset();
                    const std::string what = e.what();
                    if (what.find("timed out") != std::string::npos) ++hung;
                    else ++failed;
                    std::lock_guard lk(mu);
                    if (failure_samples.size() < 5) failure_samples.push_back(what);
                }
                const long long took = ms_since(t0);
                if (took > 1000) ++slow;
                long long seen = slowest.load();
                while (took > seen && !slowest.compare_exchange_weak(seen, took)) {
                }
            }
        });
    }

    // The chaos loop: SIGKILL one random live worker every 200 ms for 20 s.
    std::mt19937 rng(12345);
    int kills = 0, ticks = 0, ticks_without_workers = 0;
    std::size_t fewest_workers = 4;
    const auto chaos_start = steady::now();
    while (ms_since(chaos_start) < 20000) {
        auto workers = bw.worker_pids();
        fewest_workers = std::min(fewest_workers, workers.size());
        ++ticks;
        ticks_without_workers += workers.empty();
        if (!workers.empty()) {
            pid_t victim = workers[std::uniform_int_distribution<std::size_t>(0, workers.size() - 1)(rng)];
            if (::kill(victim, SIGKILL) == 0) ++kills;
        }
        std::this_thread::sleep_for(200ms);
    }
    const long long chaos_ms = ms_since(chaos_start);
    // Let the load run on for a moment against the recovering proxy, then stop it.
    std::this_thread::sleep_for(500ms);
    stop = true;
    for (auto& t : load) t.join();

    BOOST_TEST_MESSAGE("chaos: " << kills << " workers killed in " << chaos_ms << " ms; requests: " << ok
                                 << " ok, " << failed << " failed, " << hung << " hung; " << slow
                                 << " took over 1 s, slowest " << slowest << " ms; fewest live workers "
                                 << fewest_workers << ", no live worker at " << ticks_without_workers << " of "
                                 << ticks << " kill ticks");
    for (const auto& s : failure_samples) BOOST_TEST_MESSAGE("  failure sample: " << s);
    // The master's respawn back-off (up to 10 s for a slot that keeps dying) leaves fewer workers to
    // kill than one per tick; the chaos still has to have happened.
    BOOST_TEST(kills >= 20);
    BOOST_TEST(hung == 0, hung << " requests got no answer within " << client_timeout.count() << " s");
    BOOST_TEST(ok > 0);
    BOOST_TEST(bw.running(), "the master died\n" << bw.diagnostics());

    // Recovery: every worker respawned (the back-off may hold one for up to 10 s), then normal service.
    BOOST_TEST(bw.wait_workers(4, 12s), "workers: " << bw.worker_pids().size() << "\n" << bw.diagnostics());
    int served = 0;
    {
        http_client keep(bw.port(), 5s);
        for (int i = 0; i < 50; ++i) served += keep.get("/who").status == 200;
    }
    for (int i = 0; i < 50; ++i) served += get_once(bw.port(), "/who").status == 200;
    BOOST_TEST(served == 100);

    // No gauge drifted: nothing in flight once idle, and the counters cover what the origins saw.
    status_table st;
    bool idle = wait_until(
        [&] {
            st = read_status(bw);
            return st.servers.size() == 2 && st.total_active() == 0;
        },
        3s, 100ms);
    BOOST_TEST(idle, "ACTIVE did not return to 0:\n" << st.text);
    BOOST_TEST(st.servers.size() == 2u, st.text);
    BOOST_TEST(st.total_requests() >= a.requests() + b.requests(),
               "status counts " << st.total_requests() << " requests, the origins saw " << a.requests() + b.requests()
                                << "\n" << st.text);
    BOOST_TEST(st.limited["perip"] == 0u, st.text);
    BOOST_TEST_MESSAGE("after chaos:\n" << st.text);
}

BOOST_AUTO_TEST_SUITE_END()
