// cache/shared_cache: one cache for every worker that survives reload, live upgrade and restart;
// coalesced misses; invalidation by unsafe methods; PURGE and `bulwark -s purge`; workers SIGKILLed
// while they write leave a store that `bulwark -s cache-check` finds intact.
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "cache/cache_fixture.hpp"

using namespace bulwark::test;
using namespace bulwark::test::cache;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(cache_shared)

BOOST_AUTO_TEST_CASE(any_worker_serves_a_hit_stored_by_another) {
    cached p("cache_valid = 200 1m\n", {}, 4);
    BOOST_TEST(status_of(p.get("/size/1234")) == "MISS");
    int hits = 0;
    for (int i = 0; i < 40; ++i) hits += status_of(p.get("/size/1234")) == "HIT";  // a new connection each
    BOOST_TEST(hits == 40);
    BOOST_TEST(p.o.requests_to("/size/1234") == 1u);
}

BOOST_AUTO_TEST_CASE(concurrent_misses_make_one_origin_request) {
    cached p("cache_valid = 200 1m\n", {}, 2);
    std::vector<std::thread> clients;
    std::atomic<int> ok{0};
    for (int i = 0; i < 12; ++i)
        clients.emplace_back([&] {
            try {
                auto r = http_client(p.bw.port()).get("/slow/400");
                ok += r.status == 200 && r.body == "slow 400";
            } catch (const std::exception&) {
            }
        });
    for (auto& t : clients) t.join();
    BOOST_TEST(ok == 12);
    BOOST_TEST(p.o.requests_to("/slow/400") == 1u);
}

BOOST_AUTO_TEST_CASE(an_unsafe_method_invalidates_the_target_and_its_location) {
    cached p("cache_valid = 200 1m\n");
    p.get("/doc");
    p.get("/other");
    BOOST_TEST(status_of(p.get("/doc")) == "HIT");
    p.o.set_raw("post", raw_script::of("HTTP/1.1 201 Created\r\nLocation: /other\r\nContent-Length: 0\r\n\r\n"));
    auto posted = http_client(p.bw.port()).request("POST", "/raw/post", {}, "x");
    BOOST_TEST(posted.status == 201);
    auto put = http_client(p.bw.port()).request("PUT", "/doc", {}, "new");
    BOOST_TEST(put.status == 200);
    BOOST_TEST(status_of(p.get("/doc")) == "MISS");
    BOOST_TEST(status_of(p.get("/other")) == "MISS");
    BOOST_TEST(p.o.requests_to("/doc") == 3u);  // GET, PUT, GET
}

BOOST_AUTO_TEST_CASE(purge_by_method_and_by_command) {
    cached p("cache_valid = 200 1m\n");
    p.get("/p/one");
    p.get("/p/two");
    p.get("/q/three");
    auto refused = http_client(p.bw.port(), "127.0.0.2").request("PURGE", "/p/one");
    BOOST_TEST(refused.status == 403);
    auto purged = http_client(p.bw.port()).request("PURGE", "/p/one");
    BOOST_TEST(purged.status == 200);
    auto again = http_client(p.bw.port()).request("PURGE", "/p/one");
    BOOST_TEST(again.status == 404);
    BOOST_TEST(status_of(p.get("/p/one")) == "MISS");
    // The client sends Host: localhost; the key keeps no port, and -s purge drops one from the URL.
    const std::string base = "http://localhost:" + std::to_string(p.bw.port());
    auto one = p.bw.run({"-c", p.bw.config_path(), "-s", "purge", base + "/q/three"});
    BOOST_TEST(one.exit_code == 0, one.out << one.err);
    auto prefix = p.bw.run({"-c", p.bw.config_path(), "-s", "purge", base + "/p/*"});
    BOOST_TEST(prefix.exit_code == 0, prefix.out << prefix.err);
    BOOST_TEST(prefix.out.find("purged 2") != std::string::npos, prefix.out);
    BOOST_TEST(status_of(p.get("/p/two")) == "MISS");
    BOOST_TEST(status_of(p.get("/q/three")) == "MISS");
}

BOOST_AUTO_TEST_CASE(a_stored_object_survives_reload_upgrade_and_restart) {
    child_subreaper reaper;
    temp_dir keep;  // the cache file outlives the first process
    const std::string path = keep.file("cache.bin");
    {
        cached p("cache_valid = 200 1m\n", {}, 2, path);
        BOOST_TEST(status_of(p.get("/size/5000")) == "MISS");
        auto rl = p.bw.run({"-c", p.bw.config_path(), "-s", "reload"});
        BOOST_TEST(rl.exit_code == 0, rl.out << rl.err);
        BOOST_TEST(status_of(p.get("/size/5000")) == "HIT");
        auto up = p.bw.run({"-c", p.bw.config_path(), "-s", "upgrade"}, 60s);
        BOOST_TEST_REQUIRE(up.exit_code == 0, up.out << up.err << p.bw.diagnostics());
        auto fresh = read_pid_file(p.bw.pid_file_path());
        BOOST_TEST_REQUIRE(fresh.has_value());
        p.bw.follow_master(*fresh);
        BOOST_TEST(status_of(p.get("/size/5000")) == "HIT");
        BOOST_TEST(p.o.requests_to("/size/5000") == 1u);
        auto st = p.bw.run({"-c", p.bw.config_path(), "-s", "quit"});
        BOOST_TEST(st.exit_code == 0, st.out << st.err);
    }
    cached again("cache_valid = 200 1m\n", {}, 1, path);
    auto r = again.get("/size/5000");
    BOOST_TEST(status_of(r) == "HIT");
    BOOST_TEST(r.body_size == 5000u);
    BOOST_TEST(again.o.requests() == 0u);
    auto status = again.bw.run({"-c", again.bw.config_path(), "-s", "status"});
    BOOST_TEST(status.out.find("CACHE") != std::string::npos, status.out);
}

BOOST_AUTO_TEST_CASE(changing_the_cache_size_by_reload_is_refused) {
    cached p("cache_valid = 200 1m\n");
    p.get("/size/100");
    std::string text = read_text(p.bw.config_path());
    text.replace(text.find("size = 16m"), 10, "size = 32m");
    p.bw.write_config(text);
    auto rl = p.bw.run({"-c", p.bw.config_path(), "-s", "reload"});
    BOOST_TEST(rl.exit_code != 0);
    BOOST_TEST((rl.out + rl.err).find("cannot change on reload") != std::string::npos, rl.out << rl.err);
    BOOST_TEST(status_of(p.get("/size/100")) == "HIT");  // the old configuration keeps serving
}

BOOST_AUTO_TEST_CASE(workers_killed_while_writing_leave_the_cache_consistent) {
    cached p("cache_valid = 200 1m\n", {}, 3);
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int t = 0; t < 4; ++t)
        clients.emplace_back([&, t] {
            std::mt19937 rng(static_cast<unsigned>(t));
            while (!stop) {
                try {
                    const int n = 1000 + static_cast<int>(rng() % 200) * 1000;  // up to 200 KB, 200 keys
                    http_client c(p.bw.port(), 2s);
                    c.get("/size/" + std::to_string(n) + "?t=" + std::to_string(rng() % 4));
                } catch (const std::exception&) {
                    // a worker killed mid-response: expected here
                }
            }
        });
    std::mt19937 rng(7);
    const auto until = std::chrono::steady_clock::now() + 4s;
    int kills = 0;
    while (std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 150));
        auto workers = p.bw.worker_pids();
        if (workers.empty()) continue;
        ::kill(workers[rng() % workers.size()], SIGKILL);
        ++kills;
    }
    stop = true;
    for (auto& t : clients) t.join();
    BOOST_TEST_MESSAGE("SIGKILLed " << kills << " workers");
    BOOST_TEST(p.bw.wait_workers(3, 10s));
    auto check = p.bw.run({"-c", p.bw.config_path(), "-s", "cache-check"});
    BOOST_TEST(check.exit_code == 0, check.out << check.err);
    // Hits continue, and nothing is left locked: a new key is stored and hit.
    p.get("/size/777");
    BOOST_TEST(status_of(p.get("/size/777")) == "HIT");
}

BOOST_AUTO_TEST_SUITE_END()
