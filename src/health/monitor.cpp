// health/monitor: one probe loop per checked server on a single io_context; a probe is cancelled at
// health_timeout by closing its socket (Boost 1.74 has no cancellation slots). Loops hold their
// target by shared_ptr, so update() and stop() only flag and cancel; the coroutines end on their own.
#include "health/monitor.hpp"

#include <csignal>
#include <ctime>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "core/asio.hpp"
#include "core/log.hpp"
#include "health/passive.hpp"
#include "process/channel.hpp"
#include "process/child_init.hpp"

namespace bulwark::health {
namespace {

using shm::backend_state;

// The clock of every shm timestamp (CLOCK_MONOTONIC, ms).
std::uint64_t mono_ms() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000 + static_cast<std::uint64_t>(ts.tv_nsec) / 1'000'000;
}

constexpr std::chrono::milliseconds min_interval{10};
constexpr std::size_t max_status_line = 1024;

struct probe_result {
    bool ok = false;
    std::string reason;  // why it failed, for the log: "connection refused", "status 500", "timed out"
};

std::string error_text(const error_code& ec) {
    if (ec == asio::error::connection_refused) return "connection refused";
    if (ec == asio::error::connection_reset) return "connection reset";
    if (ec == asio::error::eof) return "connection closed";
    std::string s = ec.message();
    if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
    return s;
}

/// The status of "HTTP/1.x SSS reason", or -1.
int parse_status_line(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || !std::isdigit(static_cast<unsigned char>(line[7])) ||
        line[8] != ' ')
        return -1;
    int status = 0;
    for (std::size_t i = 9; i < 12; ++i) {
        if (!std::isdigit(static_cast<unsigned char>(line[i]))) return -1;
        status = status * 10 + (line[i] - '0');
    }
    if (line.size() > 12 && line[12] != ' ') return -1;
    return status;
}

// One checked server: its probe loop, socket and timers.
class target : public std::enable_shared_from_this<target> {
public:
    target(executor ex, shm::backend_table& table, shm::backend_handle h, const config::upstream& up,
           const config::server& s, tcp::endpoint ep)
        : table_(table), handle_(h), upstream_(up.name), address_(s.address.text()), check_(up.health), endpoint_(ep),
          socket_(ex), deadline_(ex), interval_(ex) {
        check_.interval = std::max(check_.interval, min_interval);
        if (check_.timeout.count() <= 0) check_.timeout = check_.interval;
        check_.rise = std::max(check_.rise, 1u);
        check_.fall = std::max(check_.fall, 1u);
        request_ = check_.method + " " + check_.path + " HTTP/1.1\r\nHost: " + address_ +
                   "\r\nUser-Agent: bulwark-health\r\nConnection: close\r\n\r\n";
    }

    void start() { asio::co_spawn(socket_.get_executor(), run(shared_from_this()), asio::detached); }

    void stop() noexcept {
        stopped_ = true;
        ++seq_;
        error_code ignored;
        socket_.close(ignored);
        deadline_.cancel();
        interval_.cancel();
    }

private:
    static task<void> run(std::shared_ptr<target> self) {
        try {
            while (!self->stopped_) {
                auto started = std::chrono::steady_clock::now();
                probe_result r = co_await self->probe();
                if (self->stopped_) break;
                self->apply(r);
                self->interval_.expires_at(started + self->check_.interval);
                error_code ec;
                co_await self->interval_.async_wait(asio::redirect_error(use_task, ec));
            }
        } catch (const std::exception& e) {
            BW_LOG(error, "health check of upstream \"%s\" server %s stopped: %s", self->upstream_.c_str(),
                   self->address_.c_str(), e.what());
        }
    }

    task<probe_result> probe() {
        std::uint64_t seq = ++seq_;
        timed_out_ = false;
        deadline_.expires_after(check_.timeout);
        deadline_.async_wait([self = shared_from_this(), seq](const error_code& ec) {
            if (ec || self->seq_ != seq) return;  // cancelled, or a later probe's socket
            self->timed_out_ = true;
            error_code ignored;
            self->socket_.close(ignored);
        });
        probe_result r = co_await exchange();
        ++seq_;
        deadline_.cancel();
        error_code ignored;
        socket_.close(ignored);
        if (timed_out_) r = {false, "timed out"};
        co_return r;
    }

    // Connect, send the request, read the status line; the deadline closes the socket under us.
    task<probe_result> exchange() {
        error_code ec;
        co_await socket_.async_connect(endpoint_, asio::redirect_error(use_task, ec));
        if (ec) co_return probe_result{false, error_text(ec)};
        co_await asio::async_write(socket_, asio::buffer(request_), asio::redirect_error(use_task, ec));
        if (ec) co_return probe_result{false, error_text(ec)};
        std::string head;
        char buf[512];
        for (;;) {
            std::size_t n = co_await socket_.async_read_some(asio::buffer(buf), asio::redirect_error(use_task, ec));
            head.append(buf, n);
            if (auto eol = head.find('\n'); eol != std::string::npos) {
                int status = parse_status_line(std::string_view(head).substr(0, eol));
                if (status < 0) co_return probe_result{false, "invalid status line"};
                if (status < check_.status_low || status > check_.status_high)
                    co_return probe_result{false, "status " + std::to_string(status)};
                co_return probe_result{true, {}};
            }
            if (ec) co_return probe_result{false, head.empty() ? error_text(ec) : "incomplete status line"};
            if (head.size() > max_status_line) co_return probe_result{false, "invalid status line"};
        }
    }

    // Streaks and state changes in the shared table; the CAS winner logs.
    void apply(const probe_result& r) {
        std::uint64_t now = mono_ms();
        if (r.ok) {
            std::uint32_t n = table_.record_success(handle_);
            if (table_.state(handle_) != backend_state::down || n < check_.rise) return;
            if (!table_.transition(handle_, backend_state::down, backend_state::up, now)) return;
            table_.reset_passive(handle_);
            BW_LOG(notice, "upstream \"%s\" server %s is up (health check passed %u times)", upstream_.c_str(),
                   address_.c_str(), n);
            return;
        }
        std::uint32_t n = table_.record_failure(handle_);
        backend_state st = table_.state(handle_);
        if (st != backend_state::up || n < check_.fall) {
            BW_LOG(debug, "upstream \"%s\" server %s failed a health check (%s, %u consecutive failures, %s)",
                   upstream_.c_str(), address_.c_str(), r.reason.c_str(), n, shm::backend_state_name(st).data());
            return;
        }
        // down_until first: nobody sees "down" with a deadline that lets passive checks retry it.
        table_.set_down_until(handle_, never);
        if (!table_.transition(handle_, backend_state::up, backend_state::down, now)) return;
        BW_LOG(warn, "upstream \"%s\" server %s is down (health check: %s, %u consecutive failures)",
               upstream_.c_str(), address_.c_str(), r.reason.c_str(), n);
    }

    shm::backend_table& table_;
    shm::backend_handle handle_;
    std::string upstream_;
    std::string address_;
    config::health_check check_;
    tcp::endpoint endpoint_;
    std::string request_;
    tcp_socket socket_;
    steady_timer deadline_;
    steady_timer interval_;
    std::uint64_t seq_ = 0;
    bool timed_out_ = false;
    bool stopped_ = false;
};

}  // namespace

struct monitor::impl {
    asio::io_context& io;
    shm::backend_table& table;
    config::snapshot cfg;
    std::vector<std::shared_ptr<target>> targets;

    void start() {
        if (!cfg) return;
        std::uint64_t now = mono_ms();
        for (const auto& up : cfg->upstreams) {
            for (const auto& s : up.servers) {
                std::string address = s.address.text();
                auto h = table.find(up.name, address);
                if (!h) {
                    BW_LOG(error, "upstream \"%s\" server %s is not in the shared backend table; not checked",
                           up.name.c_str(), address.c_str());
                    continue;
                }
                if (!up.health.enabled) {
                    // Held down by an active check this configuration no longer has: passive checks
                    // take over, and they retry a down server once down_until has passed.
                    if (table.state(*h) == backend_state::down && table.down_until(*h) == never) {
                        table.set_down_until(*h, now);
                        BW_LOG(notice, "upstream \"%s\" server %s: no health check any more, retrying it",
                               up.name.c_str(), address.c_str());
                    }
                    continue;
                }
                error_code ec;
                auto ip = asio::ip::make_address(s.address.host, ec);
                if (ec) {
                    BW_LOG(error, "upstream \"%s\" server %s: bad address, not checked", up.name.c_str(),
                           address.c_str());
                    continue;
                }
                auto t = std::make_shared<target>(io.get_executor(), table, *h, up, s, tcp::endpoint(ip, s.address.port));
                targets.push_back(t);
                t->start();
            }
        }
    }

    void stop() {
        for (auto& t : targets) t->stop();
        targets.clear();
    }
};

monitor::monitor(asio::io_context& io, shm::backend_table& table, config::snapshot cfg)
    : impl_(std::make_unique<impl>(impl{io, table, std::move(cfg), {}})) {}

monitor::~monitor() {
    if (impl_) impl_->stop();
}

void monitor::start() { impl_->start(); }

void monitor::update(config::snapshot cfg) {
    impl_->stop();
    impl_->cfg = std::move(cfg);
    impl_->start();
}

void monitor::stop() { impl_->stop(); }

std::size_t monitor::probed_servers() const noexcept { return impl_->targets.size(); }

namespace {

// The process around the monitor: signals and the master's channel.
class monitor_process {
public:
    monitor_process(const monitor_args& a)
        : args_(a), monitor_(io_, *a.table, a.cfg), signals_(io_, SIGTERM, SIGINT, SIGQUIT), channel_(io_) {}

    int run() {
        wait_signals();
        if (args_.channel_fd >= 0) {
            channel_.assign(args_.channel_fd);
            wait_channel();
        }
        monitor_.start();
        BW_LOG(info, "monitor started: %zu servers with health checks", monitor_.probed_servers());
        if (args_.channel_fd >= 0) process::send_message(args_.channel_fd, {process::message_type::ready, {}, {}});
        io_.run();
        return 0;
    }

private:
    void wait_signals() {
        signals_.async_wait([this](const error_code& ec, int sig) {
            if (ec) return;
            stop(sig == SIGQUIT ? "SIGQUIT" : sig == SIGINT ? "SIGINT" : "SIGTERM");
        });
    }

    void wait_channel() {
        channel_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const error_code& ec) {
            if (ec) return;
            process::message m;
            int r = process::receive_message(args_.channel_fd, m);
            if (r == 0) {
                BW_LOG(warn, "master exited, monitor stopping");
                stop(nullptr);
                return;
            }
            if (r > 0) handle(m);
            if (!stopping_) wait_channel();
        });
    }

    void handle(process::message& m) {
        switch (m.type) {
        case process::message_type::stop:
            stop("master request");
            break;
        case process::message_type::reopen_logs:
            if (!m.fds.empty()) log::adopt_fd(m.fds[0]);
            for (std::size_t i = 1; i < m.fds.size(); ++i) ::close(m.fds[i]);
            BW_LOG(notice, "logs reopened");
            break;
        default:
            for (int fd : m.fds) ::close(fd);
            break;
        }
    }

    // Nothing to drain: probes are simply abandoned.
    void stop(const char* why) {
        if (stopping_) return;
        stopping_ = true;
        if (why) BW_LOG(info, "monitor stopping (%s)", why);
        monitor_.stop();
        error_code ignored;
        signals_.cancel(ignored);
        channel_.cancel(ignored);
        io_.stop();
    }

    const monitor_args& args_;
    asio::io_context io_{1};
    monitor monitor_;
    asio::basic_signal_set<executor> signals_;
    asio::posix::basic_stream_descriptor<executor> channel_;
    bool stopping_ = false;
};

}  // namespace

int run_monitor(const monitor_args& args) {
    if (!process::init_child("monitor", "bulwark-monitor", args.master_pid)) return 0;
    if (args.table == nullptr || !args.cfg) {
        BW_LOG(crit, "monitor started without a configuration or backend table");
        return 2;
    }
    try {
        monitor_process p(args);
        return p.run();
    } catch (const std::exception& e) {
        BW_LOG(crit, "monitor failed: %s", e.what());
        return 1;
    }
}

}  // namespace bulwark::health
