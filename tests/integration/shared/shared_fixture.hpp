// shared/shared_fixture: what the shared-state tests (issue 4) have in common: `bulwark -s status`
// parsed into rows, error-log line counts, one request on a fresh connection with its outcome as a
// value, and threads released together. Worker threads never call BOOST_TEST (Boost.Test is not
// thread-safe): they record outcomes that the test thread checks.
#pragma once

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "harness/process_text.hpp"
#include "harness/bulwark_process.hpp"
#include "harness/http_client.hpp"
#include "harness/origin.hpp"

namespace bulwark::test::shared {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// ---- bulwark -s status ----

struct server_row {
    std::string upstream, server, state;
    std::uint64_t active = 0, requests = 0, failures = 0, bytes_in = 0, bytes_out = 0;
    std::uint64_t opened = 0, reused = 0, idle = 0, trimmed = 0;  // connection pools (issue 16)
};

struct counter_row {  // a row of the LISTENER/ROUTE table
    std::uint64_t requests = 0, bytes_out = 0;
    std::uint64_t status[5] = {};  // 1XX .. 5XX
};

struct status_table {
    int exit_code = -1;
    std::string text;  // stdout and stderr, for failure messages
    bool has_header = false;
    std::vector<server_row> servers;
    std::map<std::string, counter_row> counters;   // "listener:main", "route:NAME" -> counts
    std::map<std::string, std::uint64_t> limited;  // LIMIT -> LIMITED

    const server_row* find(std::string_view address) const {
        for (const auto& r : servers)
            if (r.server == address) return &r;
        return nullptr;
    }
    std::uint64_t total_active() const {
        std::uint64_t n = 0;
        for (const auto& r : servers) n += r.active;
        return n;
    }
    std::uint64_t total_requests() const {
        std::uint64_t n = 0;
        for (const auto& r : servers) n += r.requests;
        return n;
    }
};

/// Runs `bulwark -c CONFIG -s status` and parses its tables: UPSTREAM ... TRIMMED, LISTENER/ROUTE ...
/// BYTES_OUT and LIMIT LIMITED. A table it does not know is skipped.
inline status_table read_status(bulwark_process& bw) {
    status_table t;
    auto r = bw.run({"-c", bw.config_path(), "-s", "status"}, 10s);
    t.exit_code = r.exit_code;
    t.text = r.out + (r.err.empty() ? "" : "\n[stderr] " + r.err);
    std::istringstream in(r.out);
    std::string line;
    enum { none, servers, counters, limits } section = none;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::vector<std::string> w;
        for (std::string x; words >> x;) w.push_back(x);
        if (w.empty()) continue;
        if (w[0] == "UPSTREAM") {
            t.has_header = w.size() == 12 && w[1] == "SERVER" && w[2] == "STATE" && w[3] == "ACTIVE" &&
                           w[4] == "REQUESTS" && w[5] == "FAILURES" && w[6] == "BYTES_IN" && w[7] == "BYTES_OUT" &&
                           w[8] == "OPENED" && w[9] == "REUSED" && w[10] == "IDLE" && w[11] == "TRIMMED";
            section = servers;
            continue;
        }
        if (w[0] == "LISTENER/ROUTE") {
            section = counters;
            continue;
        }
        if (w[0] == "LIMIT" && w.size() == 2 && w[1] == "LIMITED") {
            section = limits;
            continue;
        }
        const auto header_word = [](char c) { return c == '_' || std::isupper(static_cast<unsigned char>(c)); };
        if (w.size() > 1 && std::all_of(w[1].begin(), w[1].end(), header_word)) {
            section = none;  // the header of a table this parser does not know (yet)
            continue;
        }
        try {
            if (section == servers && w.size() == 12) {
                server_row s{w[0], w[1], w[2]};
                s.active = std::stoull(w[3]);
                s.requests = std::stoull(w[4]);
                s.failures = std::stoull(w[5]);
                s.bytes_in = std::stoull(w[6]);
                s.bytes_out = std::stoull(w[7]);
                s.opened = std::stoull(w[8]);
                s.reused = std::stoull(w[9]);
                s.idle = std::stoull(w[10]);
                s.trimmed = std::stoull(w[11]);
                t.servers.push_back(s);
            } else if (section == counters && w.size() == 8) {
                counter_row c;
                c.requests = std::stoull(w[1]);
                for (int k = 0; k < 5; ++k) c.status[k] = std::stoull(w[2 + k]);
                c.bytes_out = std::stoull(w[7]);
                t.counters[w[0]] = c;
            } else if (section == limits && w.size() == 2) {
                t.limited[w[0]] = std::stoull(w[1]);
            }
        } catch (const std::exception&) {
            // A malformed row stays out of the table; tests compare row counts and print `text`.
        }
    }
    return t;
}

// ---- error log ----

/// Lines of `text`, from byte `from`, that contain every needle.
inline std::size_t count_lines(const std::string& text, std::initializer_list<std::string_view> needles,
                               std::size_t from = 0) {
    std::size_t n = 0;
    std::istringstream in(from < text.size() ? text.substr(from) : std::string());
    std::string line;
    while (std::getline(in, line)) {
        bool all = true;
        for (auto needle : needles) all = all && line.find(needle) != std::string::npos;
        n += all;
    }
    return n;
}

/// Waits until the error log holds a line with every needle.
inline bool wait_log_line(const bulwark_process& bw, std::initializer_list<std::string_view> needles,
                          std::chrono::milliseconds timeout, std::size_t from = 0) {
    return wait_until([&] { return count_lines(bw.error_log(), needles, from) > 0; }, timeout, 20ms);
}

// ---- requests ----

struct outcome {
    int status = -1;     // -1: no response (the error says why)
    std::string body;    // the origin's name for /who
    std::string error;
    std::optional<std::string> retry_after;
    long long took_ms = 0;
};

/// One GET on a fresh connection (from `source_ip` when not empty), never throwing.
inline outcome get_once(std::uint16_t port, const std::string& target, const std::string& source_ip = {},
                        std::chrono::milliseconds timeout = 5s) {
    outcome o;
    auto t0 = steady::now();
    try {
        auto c = source_ip.empty() ? std::make_unique<http_client>(port, timeout)
                                   : std::make_unique<http_client>(port, source_ip, timeout);
        auto r = c->get(target);
        o.status = r.status;
        o.body = r.body;
        o.retry_after = r.header("retry-after");
    } catch (const std::exception& e) {
        o.error = e.what();
    }
    o.took_ms = ms_since(t0);
    return o;
}

/// Runs fn(i) for i in [0, n) on n threads released at the same moment, and joins them.
inline void run_together(std::size_t n, const std::function<void(std::size_t)>& fn) {
    std::mutex mu;
    std::condition_variable cv;
    std::size_t ready = 0;
    bool go = false;
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < n; ++i) {
        threads.emplace_back([&, i] {
            {
                std::unique_lock lk(mu);
                ++ready;
                cv.notify_all();
                cv.wait(lk, [&] { return go; });
            }
            fn(i);
        });
    }
    {
        std::unique_lock lk(mu);
        cv.wait(lk, [&] { return ready == n; });
        go = true;
    }
    cv.notify_all();
    for (auto& t : threads) t.join();
}

/// `server = ` values for these origins.
inline std::vector<std::string> servers_of(std::initializer_list<const origin*> origins) {
    std::vector<std::string> s;
    for (const origin* o : origins) s.push_back(o->address());
    return s;
}

/// The upstream's extra lines go after its `server =` lines: config_options puts [upstream:backend]
/// last before `tail`, so a tail that does not start with a section header continues it.
inline config_options upstream_with(std::vector<std::string> servers, int workers, const std::string& upstream_extra,
                                    const std::string& more_sections = {}) {
    config_options o = config_options::with_servers(std::move(servers));
    o.workers = workers;
    o.tail = upstream_extra;
    if (!more_sections.empty()) {
        if (!o.tail.empty() && o.tail.back() != '\n') o.tail += "\n";
        o.tail += "\n" + more_sections;
    }
    return o;
}

}  // namespace bulwark::test::shared
