// process/reload: HUP and `bulwark -s reload`. The new configuration is validated by the same code as
// `bulwark -t`; when valid it is applied inside the running workers (each builds a new snapshot and
// in-flight requests finish on theirs). Only a change of user or group replaces the workers. Listening
// sockets that stay are never closed; new ones are bound here and passed to the workers.
#include <algorithm>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "config/loader.hpp"
#include "core/log.hpp"
#include "process/channel.hpp"
#include "process/config_message.hpp"
#include "process/pidfile.hpp"
#include "process/sd_notify.hpp"
#include "process/cache_file.hpp"
#include "process/supervisor.hpp"
#include "tls/material.hpp"
#include "tls/resumption.hpp"

namespace bulwark::process {
namespace {

constexpr milliseconds worker_answer_timeout{10'000};

std::string join(const std::vector<config::diagnostic>& errors) {
    std::string out;
    for (const auto& d : errors) out += d.text() + "\n";
    return out;
}

// Reuses the sockets of addresses that stay; binds the others. Empty `error` on success.
std::vector<listening_socket> plan_listeners(const config::config& next, std::vector<listening_socket>& current,
                                             std::string& error) {
    std::vector<listening_socket> out;
    for (std::size_t i = 0; i < next.listeners.size(); ++i) {
        for (const auto& ep : next.listeners[i].binds) {
            const std::string addr = ep.text();
            auto it = std::find_if(current.begin(), current.end(), [&](const auto& l) { return l.address == addr; });
            if (it != current.end()) {
                out.push_back({it->fd, static_cast<int>(i), addr});
                it->fd = -1;  // moved
                continue;
            }
            int fd = open_listener(ep, error);
            if (fd < 0) {
                // Undo: give moved sockets back, close the ones bound for this attempt.
                for (auto& l : out) {
                    auto back = std::find_if(current.begin(), current.end(), [&](const auto& c) { return c.address == l.address; });
                    if (back != current.end()) back->fd = l.fd;
                    else ::close(l.fd);
                }
                return {};
            }
            out.push_back({fd, static_cast<int>(i), addr});
        }
    }
    return out;
}

}  // namespace

std::string supervisor::reload() {
    if (state_ != master_state::running && state_ != master_state::starting) return "bulwark is stopping\n";
    if (reload_pending_) return "a reload is already in progress\n";
    BW_LOG(notice, "reloading %s", opts_.config_path.c_str());
    std::ifstream in(opts_.config_path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    // Certificates and keys are read here, as root, and travel to the workers in the message.
    config::load_result loaded = tls::with_tls_files(in ? config::load_text(text.str(), opts_.config_path)
                                                        : config::load_file(opts_.config_path));
    std::string errors = join(loaded.errors);
    const config::snapshot next = loaded.cfg;
    identity next_id;
    std::string why;
    if (errors.empty() && !resolve_identity(next->global, next_id, why)) errors = opts_.config_path + ": " + why + "\n";
    if (errors.empty() && (next->global.state_dir != cfg_->global.state_dir ||
                           next->global.shm_size != cfg_->global.shm_size))
        errors = opts_.config_path + ": state_dir and shm_size cannot change on reload (restart or upgrade)\n";
    if (errors.empty()) {
        std::size_t bytes = text.str().size();
        for (const auto& [path, content] : next->tls_files) bytes += path.size() + content.size() + 8;
        if (bytes + 4096 > max_config_message)
            errors = opts_.config_path + ": configuration and TLS files total " + std::to_string(bytes) +
                     " bytes, more than a reload message carries (" + std::to_string(max_config_message) + ")\n";
    }
    if (errors.empty()) {
        if (auto conflict = cache_reload_conflict(cache_.get(), *next); !conflict.empty())
            errors = opts_.config_path + ": " + conflict + "\n";
    }
    if (errors.empty() && !cache_ && next->cache.used) {
        // The first route to cache arrived by reload: the workers map the new file by path.
        try {
            std::string cache_notes;
            cache_ = open_cache(*next, next_id, cache_notes);
            if (!cache_notes.empty()) BW_LOG(notice, "%s", cache_notes.c_str());
        } catch (const std::exception& e) {
            errors = opts_.config_path + ": cache " + next->cache.path + ": " + e.what() + "\n";
        }
    }
    std::vector<listening_socket> next_listeners;
    if (errors.empty()) {
        next_listeners = plan_listeners(*next, listeners_, why);
        if (!why.empty()) errors = opts_.config_path + ": " + why + "\n";
    }
    if (!errors.empty()) {
        for (std::size_t at = 0, nl; (nl = errors.find('\n', at)) != std::string::npos; at = nl + 1)
            BW_LOG(error, "%s", errors.substr(at, nl - at).c_str());
        return errors;
    }

    notify_systemd("RELOADING=1\n");
    // Valid: commit. Sockets not carried over are closed here (workers close their copies when they
    // apply the new configuration).
    close_listeners(listeners_);
    listeners_ = std::move(next_listeners);
    tune_listeners(*next, listeners_);  // defer_accept may have changed on a kept socket
    std::string notes;
    handles_ = shm::register_backends(shared_->backends(), *next, notes);
    shm::register_counters(shared_->counters(), *next, notes);
    if (!notes.empty()) BW_LOG(warn, "%s", notes.c_str());
    if (!next->tls.empty() && !tls::shared_table())
        BW_LOG(warn, "TLS was added by this reload: sessions resume only on the worker that made them until a "
                     "restart or live upgrade maps %s/tls.shm", next->global.state_dir.c_str());
    const bool logs_moved = next->global.error_log != cfg_->global.error_log || next->log.access_log != cfg_->log.access_log;
    if (next->global.pid_file != cfg_->global.pid_file) {
        std::string perr;
        if (write_pid_file(next->global.pid_file, ::getpid(), perr)) remove_pid_file(cfg_->global.pid_file, ::getpid());
        else BW_LOG(error, "%s", perr.c_str());
    }
    const bool replace = next_id.drop != id_.drop || next_id.uid != id_.uid || next_id.gid != id_.gid;
    cfg_ = next;
    id_ = next_id;
    log::set_level(cfg_->global.log_level);
    if (logs_moved) reopen_logs();

    if (replace) {
        BW_LOG(notice, "user or group changed: replacing the workers");
        for (auto& c : workers_)
            if (!c.retiring) retire(c);
        for (unsigned i = 0; i < cfg_->global.workers; ++i) spawn(add_worker());
        start_monitor_if_needed();
        notify_systemd("READY=1\n");
        return {};
    }
    config_update update{opts_.config_path, text.str(), handles_, {}, cfg_->tls_files};
    std::vector<int> fds;
    for (const auto& l : listeners_) {
        update.listeners.emplace_back(l.listener_index, l.address);
        fds.push_back(l.fd);
    }
    const std::string payload = encode(update);
    // The monitor is restarted on the new configuration (its probes are cheap to begin again; the
    // streaks it keeps are in shared memory).
    for (auto& c : workers_)
        if (c.monitor && !c.retiring) retire(c);
    start_monitor_if_needed();
    unsigned running = 0;
    for (auto& c : workers_) {
        if (c.retiring || c.monitor || c.pid <= 0 || c.channel < 0) continue;
        if (++running > cfg_->global.workers) {
            retire(c);  // fewer workers wanted
            continue;
        }
        if (send_message(c.channel, {message_type::config, payload, fds})) c.awaiting_config = true;
    }
    while (running++ < cfg_->global.workers) spawn(add_worker());
    reload_errors_.clear();
    reload_pending_ = true;
    reload_deadline_ = clock::now() + worker_answer_timeout;
    finish_reload_if_done(false);
    return {};
}

void supervisor::config_applied(child& c, const std::string& error) {
    if (!c.awaiting_config) return;
    c.awaiting_config = false;
    if (!error.empty()) reload_errors_ += "worker " + std::to_string(c.slot) + ": " + error + "\n";
    finish_reload_if_done(false);
}

void supervisor::finish_reload_if_done(bool timed_out) {
    if (!reload_pending_) return;
    for (auto& c : workers_) {
        if (!c.awaiting_config) continue;
        if (!timed_out) return;
        c.awaiting_config = false;
        reload_errors_ += "worker " + std::to_string(c.slot) + ": did not confirm the new configuration\n";
    }
    reload_pending_ = false;
    reload_deadline_ = clock::time_point::max();
    notify_systemd("READY=1\n");
    if (reload_errors_.empty()) BW_LOG(notice, "configuration reloaded");
    else BW_LOG(error, "reload incomplete: %s", reload_errors_.c_str());
    answer_control(reload_errors_.empty() ? "ok\n" : "error\n" + reload_errors_);
}

}  // namespace bulwark::process
