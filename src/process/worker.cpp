// process/worker: one io_context, no threads. Stop is two-step: the channel's `stop` closes the
// acceptors and idle connections, in-flight exchanges finish, then the loop ends; shutdown_timeout
// bounds it (and the master's SIGKILL bounds that).
#include "process/worker.hpp"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "core/asio.hpp"
#include "core/asio_accept.hpp"
#include "core/log.hpp"
#include "config/loader.hpp"
#include "process/channel.hpp"
#include "process/child_init.hpp"
#include "process/config_message.hpp"
#include "proxy/client_session.hpp"
#include "proxy/runtime.hpp"
#include "tls/material.hpp"


namespace bulwark::process {
namespace {

constexpr std::chrono::milliseconds sweep_interval{100};

class worker {
public:
    worker(const worker_args& a) : args_(a), rt_(io_, proxy::runtime_setup{a.cfg, a.access_log_fd, static_cast<unsigned>(a.index), a.shared, a.handles, a.cache}), channel_(io_, a.channel_fd),
                                   sweep_(io_.get_executor()), signals_(io_, SIGQUIT, SIGTERM, SIGINT) {}

    int run() {
        // The fds inherited from the master become the acceptors' own: no other copy may stay open
        // here, or a listener removed by reload would keep accepting.
        for (const auto& l : *args_.listeners)
            if (!add_listening(l.fd, l.listener_index, l.address)) return 1;
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

    // One listening socket: its address identifies it across reloads, its listener index may change.
    struct listening {
        listening(asio::io_context& io, int index, std::string addr)
            : acceptor(io.get_executor()), listener_index(index), address(std::move(addr)) {}
        tcp_acceptor acceptor;
        int listener_index;
        std::string address;
        bool removed = false;
    };

    /// Takes ownership of `fd` and starts accepting on it.
    bool add_listening(int fd, int listener_index, const std::string& address) {
        auto l = std::make_unique<listening>(io_, listener_index, address);
        error_code ec;
        l->acceptor.assign(address.starts_with("[") ? tcp::v6() : tcp::v4(), fd, ec);
        if (ec) {
            BW_LOG(crit, "cannot use listening socket %s: %s", address.c_str(), ec.message().c_str());
            ::close(fd);
            return false;
        }
        asio::co_spawn(io_, accept_loop(*l), asio::detached);
        acceptors_.push_back(std::move(l));
        return true;
    }

    // accept4() while connections are queued, then a wait for the next: two syscalls fewer per
    // connection than Asio's async_accept (core/asio_accept.hpp). A burst yields every accept_batch
    // connections so that the sessions already open keep being served.
    task<void> accept_loop(listening& l) {
        constexpr int accept_batch = 32;
        const tcp protocol = l.address.starts_with("[") ? tcp::v6() : tcp::v4();
        for (int batch = 0;; ++batch) {
            co_await wait_for_capacity();
            if (stopping_ || l.removed) co_return;
            if (batch == accept_batch) {
                batch = 0;
                co_await asio::post(io_, use_task);
                continue;
            }
            sockaddr_storage addr;
            socklen_t len = sizeof addr;
            int fd = ::accept4(l.acceptor.native_handle(), reinterpret_cast<sockaddr*>(&addr), &len,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                if (!co_await handle_accept_error(l, errno)) co_return;
                batch = 0;
                continue;
            }
            tcp::endpoint peer;  // from accept4() itself: no getpeername() per connection
            std::memcpy(peer.data(), &addr, len);
            peer.resize(len);
            tcp_socket socket(io_.get_executor());
            error_code ec;
            adopt_accepted(socket, protocol, fd, ec);
            if (ec) {
                BW_LOG(error, "cannot register an accepted connection: %s", ec.message().c_str());
                ::close(fd);
                continue;
            }
            rt_.connection_opened();
            asio::co_spawn(io_, proxy::client_session::serve(rt_, std::move(socket), peer, l.listener_index),
                           asio::detached);
        }
    }

    // False when the listener is gone (stopping, or removed by a reload).
    task<bool> handle_accept_error(listening& l, int err) {
        error_code ec;
        if (err == EAGAIN || err == EWOULDBLOCK) {
            co_await l.acceptor.async_wait(tcp_acceptor::wait_read, asio::redirect_error(use_task, ec));
            co_return !(stopping_ || l.removed || ec == asio::error::operation_aborted);
        }
        if (stopping_ || l.removed) co_return false;
        // That client is already gone (or a signal interrupted us): the next one may be waiting.
        if (err == EINTR || err == ECONNABORTED || err == EPROTO) co_return true;
        // Out of descriptors or memory: log and pause rather than spin on the error.
        BW_LOG(error, "accept() failed: %s", std::strerror(err));
        steady_timer pause(io_.get_executor(), std::chrono::milliseconds(100));
        co_await pause.async_wait(asio::redirect_error(use_task, ec));
        co_return true;
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
        case message_type::config:
            apply_config(m);
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

    // Reload in place: the new snapshot serves new requests (in-flight ones finish on theirs), and the
    // listening sockets are brought in line with the new listeners.
    void apply_config(message& m) {
        std::string error;
        auto update = decode_config_update(m.payload);
        if (!update) {
            error = "malformed configuration message";
        } else if (auto loaded = config::load_text(update->text, update->file); !loaded.errors.empty()) {
            error = loaded.errors.front().text();
        } else {
            log::set_level(loaded.cfg->global.log_level);
            rt_.apply(tls::attach_files(loaded.cfg, std::move(update->tls_files)), update->handles);
            sync_listening(update->listeners, m.fds);
            m.fds.clear();
        }
        for (int fd : m.fds) ::close(fd);
        if (!error.empty()) BW_LOG(error, "reload refused: %s", error.c_str());
        send_message(args_.channel_fd, {message_type::config_done, error, {}});
    }

    void sync_listening(const std::vector<std::pair<int, std::string>>& wanted, const std::vector<int>& fds) {
        for (auto& l : acceptors_) l->removed = true;
        for (std::size_t i = 0; i < wanted.size(); ++i) {
            int fd = i < fds.size() ? fds[i] : -1;
            listening* existing = nullptr;
            for (auto& l : acceptors_)
                if (l->address == wanted[i].second && l->acceptor.is_open()) existing = l.get();
            if (existing) {
                existing->removed = false;
                existing->listener_index = wanted[i].first;
                if (fd >= 0) ::close(fd);
            } else if (fd >= 0 && !stopping_) {
                add_listening(fd, wanted[i].first, wanted[i].second);
                BW_LOG(info, "listening on %s", wanted[i].second.c_str());
            }
        }
        // Closed ones stay in the list until the worker exits: their accept loop may still hold them.
        for (auto& l : acceptors_) {
            if (!l->removed || !l->acceptor.is_open()) continue;
            BW_LOG(info, "no longer listening on %s", l->address.c_str());
            error_code ec;
            l->acceptor.close(ec);  // its accept loop sees `removed` and ends
        }
    }

    void start_stop(const char* why) {
        if (stopping_) return;
        stopping_ = true;
        stop_deadline_ = rt_.now() + rt_.settings().shutdown_timeout;
        BW_LOG(info, "graceful stop (%s): %zu connections to finish", why, rt_.session_count());
        for (auto& l : acceptors_) {
            error_code ec;
            l->acceptor.close(ec);
        }
        rt_.start_drain();
    }

    const worker_args& args_;
    asio::io_context io_{1};
    proxy::runtime rt_;
    asio::posix::basic_stream_descriptor<executor> channel_;
    steady_timer sweep_;
    asio::basic_signal_set<executor> signals_;
    std::vector<std::unique_ptr<listening>> acceptors_;
    bool stopping_ = false;
    proxy::time_point stop_deadline_{};
};

}  // namespace

int run_worker(const worker_args& args) {
    char role[32];
    std::snprintf(role, sizeof role, "worker %d", args.index);
    if (!init_child(role, "bulwark-worker", args.master_pid)) return 0;
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
