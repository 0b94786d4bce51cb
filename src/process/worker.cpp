// process/worker: one io_context, no threads. Stop is two-step: the channel's `stop` closes the
// acceptors and idle connections, in-flight exchanges finish, then the loop ends; shutdown_timeout
// bounds it (and the master's SIGKILL bounds that).
#include "process/worker.hpp"

#include <csignal>
#include <sys/prctl.h>
#include <unistd.h>

#include "core/asio.hpp"
#include "core/log.hpp"
#include "process/channel.hpp"
#include "proxy/client_session.hpp"
#include "proxy/runtime.hpp"


namespace bulwark::process {
namespace {

constexpr std::chrono::milliseconds sweep_interval{100};

class worker {
public:
    worker(const worker_args& a) : args_(a), rt_(io_, proxy::runtime_setup{a.cfg, a.access_log_fd, static_cast<unsigned>(a.index), a.shared, a.handles}), channel_(io_, a.channel_fd),
                                   sweep_(io_.get_executor()), signals_(io_, SIGQUIT, SIGTERM, SIGINT) {}

    int run() {
        for (const auto& l : *args_.listeners) {
            auto& acc = acceptors_.emplace_back(std::make_unique<tcp_acceptor>(io_.get_executor()));
            error_code ec;
            int family = l.address.starts_with("[") ? AF_INET6 : AF_INET;
            acc->assign(family == AF_INET6 ? tcp::v6() : tcp::v4(), ::dup(l.fd), ec);
            if (ec) {
                BW_LOG(crit, "cannot use listening socket %s: %s", l.address.c_str(), ec.message().c_str());
                return 1;
            }
            asio::co_spawn(io_, accept_loop(*acc, l.listener_index), asio::detached);
        }
        schedule_sweep();
        wait_channel();
        wait_signals();
        send_message(args_.channel_fd, {message_type::ready, {}, {}});
        io_.run();
        rt_.access_log().flush();
        return 0;
    }

private:
    // QUIT: graceful stop. TERM/INT (also our PR_SET_PDEATHSIG): fast stop, but the buffered access
    // log lines are still written.
    void wait_signals() {
        signals_.async_wait([this](const error_code& ec, int sig) {
            if (ec) return;
            if (sig == SIGQUIT) {
                start_stop("SIGQUIT");
                wait_signals();
                return;
            }
            io_.stop();
        });
    }

    task<void> accept_loop(tcp_acceptor& acc, int listener_index) {
        for (;;) {
            error_code ec;
            co_await wait_for_capacity();
            if (stopping_) co_return;
            tcp_socket socket(io_.get_executor());
            co_await acc.async_accept(socket, asio::redirect_error(use_task, ec));
            if (ec) {
                if (stopping_ || ec == asio::error::operation_aborted) co_return;
                // Out of descriptors or memory: log and pause rather than spin on the error.
                BW_LOG(error, "accept() failed: %s", ec.message().c_str());
                steady_timer pause(io_.get_executor(), std::chrono::milliseconds(100));
                co_await pause.async_wait(asio::redirect_error(use_task, ec));
                continue;
            }
            rt_.connection_opened();
            asio::co_spawn(io_, proxy::client_session::serve(rt_, std::move(socket), listener_index), asio::detached);
        }
    }

    // At max_connections the worker stops accepting: new connections wait in the kernel's queue (or go
    // to another worker) instead of being accepted and starved.
    task<void> wait_for_capacity() {
        if (rt_.session_count() < rt_.settings().max_connections) co_return;
        BW_LOG(warn, "max_connections (%zu) reached; not accepting until a connection closes",
               rt_.settings().max_connections);
        steady_timer pause(io_.get_executor());
        while (!stopping_ && rt_.session_count() >= rt_.settings().max_connections) {
            pause.expires_after(std::chrono::milliseconds(20));
            error_code ec;
            co_await pause.async_wait(asio::redirect_error(use_task, ec));
        }
    }

    void schedule_sweep() {
        sweep_.expires_after(sweep_interval);
        sweep_.async_wait([this](const error_code& ec) {
            if (ec) return;
            rt_.tick();
            if (stopping_ && (rt_.session_count() == 0 || rt_.now() >= stop_deadline_)) {
                if (rt_.session_count())
                    BW_LOG(warn, "shutdown_timeout reached, closing %zu connections", rt_.session_count());
                io_.stop();
                return;
            }
            schedule_sweep();
        });
    }

    void wait_channel() {
        channel_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const error_code& ec) {
            if (ec) return;
            message m;
            int r = receive_message(args_.channel_fd, m);
            if (r == 0) {
                // The master is gone (PR_SET_PDEATHSIG usually got here first): nothing supervises us.
                BW_LOG(warn, "master exited, worker stopping");
                io_.stop();
                return;
            }
            if (r > 0) handle(m);
            wait_channel();
        });
    }

    void handle(message& m) {
        switch (m.type) {
        case message_type::stop:
            start_stop("master request");
            break;
        case message_type::reopen_logs:
            if (!m.fds.empty()) log::adopt_fd(m.fds[0]);
            if (m.fds.size() > 1) rt_.access_log().replace_fd(m.fds[1]);
            BW_LOG(notice, "logs reopened");
            break;
        default:
            for (int fd : m.fds) ::close(fd);
            break;
        }
    }

    void start_stop(const char* why) {
        if (stopping_) return;
        stopping_ = true;
        stop_deadline_ = rt_.now() + rt_.settings().shutdown_timeout;
        BW_LOG(info, "graceful stop (%s): %zu connections to finish", why, rt_.session_count());
        for (auto& acc : acceptors_) {
            error_code ec;
            acc->close(ec);
        }
        rt_.start_drain();
    }

    const worker_args& args_;
    asio::io_context io_{1};
    proxy::runtime rt_;
    asio::posix::basic_stream_descriptor<executor> channel_;
    steady_timer sweep_;
    asio::basic_signal_set<executor> signals_;
    std::vector<std::unique_ptr<tcp_acceptor>> acceptors_;
    bool stopping_ = false;
    proxy::time_point stop_deadline_{};
};

void reset_signals() {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGHUP, SIGUSR1, SIGUSR2, SIGWINCH, SIGPIPE}) ::signal(sig, SIG_IGN);
    ::signal(SIGCHLD, SIG_DFL);
}

}  // namespace

int run_worker(const worker_args& args) {
    char role[32];
    std::snprintf(role, sizeof role, "worker %d", args.index);
    log::set_role(role);
    ::prctl(PR_SET_NAME, "bulwark-worker");
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != args.master_pid) return 0;  // the master died before prctl took effect
    reset_signals();
    std::string error;
    if (!drop_privileges(args.id, error)) {
        BW_LOG(crit, "%s", error.c_str());
        return 2;
    }
    try {
        worker w(args);
        return w.run();
    } catch (const std::exception& e) {
        BW_LOG(crit, "worker failed: %s", e.what());
        return 1;
    }
}

}  // namespace bulwark::process
