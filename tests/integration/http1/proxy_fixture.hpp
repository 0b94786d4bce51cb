// http1/proxy_fixture: one origin behind one bulwark (workers = 1), plus the checks every strictness
// case shares: the answer's status, the connection closed after it, the origin never reached, and an
// error-log line naming the client and the status.
#pragma once

#include <boost/test/unit_test.hpp>

#include <cctype>
#include <chrono>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "harness/bulwark_process.hpp"
#include "harness/http_client.hpp"
#include "harness/origin.hpp"

namespace bulwark::test {

inline std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

struct proxied {
    origin o{"a"};
    bulwark_process bw;

    explicit proxied(const std::string& global_extra = {}, const std::string& listener_extra = {}) {
        config_options opt = config_options::with_servers({o.address()});
        opt.global_extra = global_extra;
        opt.listener_extra = listener_extra;
        bw.start(opt);
    }
};

/// Lines of `text` after its first `skip` bytes.
inline std::vector<std::string> lines_after(const std::string& text, std::size_t skip) {
    std::vector<std::string> out;
    std::istringstream in(skip < text.size() ? text.substr(skip) : std::string());
    std::string line;
    while (std::getline(in, line)) out.push_back(line);
    return out;
}

/// Waits until a line written to the error log after `from` bytes contains every needle.
inline bool error_log_line_after(const bulwark_process& bw, std::size_t from, std::vector<std::string> needles,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(3)) {
    return wait_until(
        [&] {
            for (const auto& line : lines_after(bw.error_log(), from)) {
                bool all = true;
                for (const auto& n : needles) all = all && line.find(n) != std::string::npos;
                if (all) return true;
            }
            return false;
        },
        timeout, std::chrono::milliseconds(50));
}

/// Sends `raw` on a fresh connection and checks that the proxy answers `status`, closes the connection,
/// never passes anything to the origin, and logs a line naming the client and the status.
inline void expect_rejected(proxied& p, std::string_view raw, int status, std::string_view what = {}) {
    BOOST_TEST_CONTEXT("request: " << (what.empty() ? raw : what)) {
        const std::size_t log_from = p.bw.error_log().size();
        const std::size_t before = p.o.requests();
        http_client c(p.bw.port(), std::chrono::seconds(5));
        c.send(raw);
        http_response r;
        bool answered = false;
        try {
            r = c.read_response();
            answered = true;
        } catch (const client_error& e) {
            BOOST_ERROR("no complete response: " << e.what());
        }
        if (answered) {
            BOOST_TEST(r.status == status);
            BOOST_TEST(!r.body.empty(), "error response without a body");
            BOOST_TEST(lower(r.header("connection").value_or("<none>")).find("close") != std::string::npos,
                       "the connection is closed after the error, yet the response said Connection: "
                           << r.header("connection").value_or("<none>"));
            BOOST_TEST(c.peer_closed(std::chrono::seconds(2)), "the proxy kept the connection open after " << r.status);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        BOOST_TEST(p.o.requests() == before, "the origin received the request: " << p.o.last_request().method << " "
                                                                                  << p.o.last_request().target);
        BOOST_TEST(error_log_line_after(p.bw, log_from, {"127.0.0.1", std::to_string(status)}),
                   "no error-log line naming the client and " << status << "; error log:\n"
                                                              << p.bw.error_log().substr(log_from));
    }
}


}  // namespace bulwark::test
