// proxy/large_body: 200 MB bodies stream through the proxy in both directions intact while the worker's
// peak resident set stays under 64 MB, i.e. bodies are streamed, never buffered whole.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdio>
#include <string>

#include "harness/bulwark_process.hpp"
#include "harness/http_client.hpp"
#include "harness/origin.hpp"
#include "harness/pattern.hpp"

using namespace bulwark::test;

namespace {

constexpr std::uint64_t body_bytes = 200ull << 20;
constexpr long rss_limit_kb = 64 * 1024;

std::uint64_t expected_hash() {
    static const std::uint64_t h = pattern_hash(body_bytes);
    return h;
}

// Peak RSS (VmHWM) of each worker; reports every worker and checks the largest and the sum.
void check_worker_peak_rss(const bulwark_process& bw) {
    auto workers = bw.worker_pids();
    BOOST_TEST_REQUIRE(!workers.empty(), "no worker process found");
    long sum = 0, max = 0;
    for (pid_t w : workers) {
        long kb = proc_vmhwm_kb(w);
        BOOST_TEST_MESSAGE("worker " << w << " VmHWM " << kb << " kB");
        BOOST_TEST(kb > 0);
        sum += kb;
        max = std::max(max, kb);
    }
    BOOST_TEST(max < rss_limit_kb, "worker peak RSS " << max << " kB >= 64 MB");
    BOOST_TEST(sum < rss_limit_kb, "workers' summed peak RSS " << sum << " kB >= 64 MB");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(proxy_large_bodies)

BOOST_AUTO_TEST_CASE(upload_of_200mb_passes_intact_with_worker_rss_under_64mb) {
    origin o("a");
    bulwark_process bw;
    bw.start(config_options::with_servers({o.address()}));

    http_client c(bw.port(), std::chrono::seconds(20));
    auto t0 = std::chrono::steady_clock::now();
    c.send(request_head("POST", "/sink",
                        {{"Content-Type", "application/octet-stream"},
                         {"Content-Length", std::to_string(body_bytes)}}));
    c.send_pattern(body_bytes);
    auto r = c.read_response();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    BOOST_TEST_MESSAGE("200 MB upload took " << ms.count() << " ms");

    BOOST_TEST(r.status == 200);
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(expected_hash()));
    BOOST_TEST(r.body == std::to_string(body_bytes) + " " + hex, "origin received: " << r.body);
    auto last = o.last_request();
    BOOST_TEST(last.body_size == body_bytes);
    BOOST_TEST(last.body_hash == expected_hash());
    check_worker_peak_rss(bw);
}

BOOST_AUTO_TEST_CASE(download_of_200mb_passes_intact_with_worker_rss_under_64mb) {
    origin o("a");
    bulwark_process bw;
    bw.start(config_options::with_servers({o.address()}));

    http_client c(bw.port(), std::chrono::seconds(20));
    c.set_body_keep_limit(0);
    auto t0 = std::chrono::steady_clock::now();
    auto r = c.get("/size/" + std::to_string(body_bytes));
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    BOOST_TEST_MESSAGE("200 MB download took " << ms.count() << " ms");

    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body_size == body_bytes);
    BOOST_TEST(r.body_hash == expected_hash(), "the downloaded bytes differ from the origin's");
    check_worker_peak_rss(bw);
}

BOOST_AUTO_TEST_SUITE_END()
