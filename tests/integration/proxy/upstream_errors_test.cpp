// proxy/upstream_errors: a refused backend connection gives 502 and a silent backend gives 504 after
// upstream_timeout; both answer with a short text body and log the server's address.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>

#include "harness/bulwark_process.hpp"
#include "harness/http_client.hpp"
#include "harness/origin.hpp"
#include "harness/ports.hpp"

using namespace bulwark::test;
using std::chrono::steady_clock;

BOOST_AUTO_TEST_SUITE(proxy_upstream_errors)

BOOST_AUTO_TEST_CASE(closed_server_port_gives_502_and_error_log_names_the_server) {
    std::string server = "127.0.0.1:" + std::to_string(free_port());  // nobody listens there
    bulwark_process bw;
    bw.start(config_options::with_servers({server}));

    http_client c(bw.port());
    auto r = c.get("/anything");
    BOOST_TEST(r.status == 502);
    BOOST_TEST(!r.body.empty(), "502 without a body");
    BOOST_TEST(bw.wait_for_text(bw.error_log_path(), server), "error log does not name " << server << "\n"
                                                                                         << bw.diagnostics());
}

BOOST_AUTO_TEST_CASE(hanging_server_gives_504_after_upstream_timeout) {
    origin o("a");
    bulwark_process bw;
    config_options opt = config_options::with_servers({o.address()});
    opt.global_extra = "upstream_timeout = 1s\n";
    bw.start(opt);

    http_client c(bw.port(), std::chrono::seconds(10));
    auto t0 = steady_clock::now();
    auto r = c.get("/hang");
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - t0).count();
    BOOST_TEST(r.status == 504);
    BOOST_TEST(!r.body.empty(), "504 without a body");
    BOOST_TEST(ms >= 900, "504 came after " << ms << " ms, before upstream_timeout");
    BOOST_TEST(ms < 5000, "504 came after " << ms << " ms");
    BOOST_TEST(o.last_request().target == "/hang");
    BOOST_TEST(bw.wait_for_text(bw.error_log_path(), o.address()), "error log does not name " << o.address() << "\n"
                                                                                             << bw.diagnostics());
}

BOOST_AUTO_TEST_SUITE_END()
