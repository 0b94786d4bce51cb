// main: the command line. Validates the config (-t), talks to a running master (-s), or starts one:
// load config → resolve the worker identity → open logs → bind listeners → daemonize → run the master.
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <cstring>
#include <string>
#include <fcntl.h>
#include <unistd.h>

#include "config/loader.hpp"
#include "config/schema.hpp"
#include "core/log.hpp"
#include "process/cache_admin.hpp"
#include "process/cache_file.hpp"
#include "process/control.hpp"
#include "process/listeners.hpp"
#include "process/master.hpp"
#include "process/pidfile.hpp"
#include "process/privileges.hpp"
#include "process/status.hpp"
#include "shm/shared_state.hpp"
#include "tls/material.hpp"
#include "tls/resumption.hpp"

#ifndef BULWARK_SYSCONFDIR
#define BULWARK_SYSCONFDIR "/etc"
#endif
#ifndef BULWARK_VERSION
#define BULWARK_VERSION "0.0.0"
#endif

namespace {

using namespace bulwark;

struct options {
    std::string config = BULWARK_SYSCONFDIR "/bulwark/bulwark.ini";
    bool test = false;
    bool version = false;
    bool foreground = false;
    bool list_keys = false;
    std::string signal;
    std::string purge_url;
};

void usage(FILE* out) {
    std::fprintf(out,
                 "usage: bulwark [-c FILE] [-t] [-s reload|upgrade|reopen|quit|stop|status|cache-check] [-s purge URL] [-V]\n"
                 "               [--foreground] [--list-keys]\n"
                 "  -c FILE        configuration file (default %s/bulwark/bulwark.ini)\n"
                 "  -t             check the configuration and exit\n"
                 "  -s SIGNAL      reload or upgrade (both wait for the outcome), reopen, quit or stop the master;\n"
                 "                 status prints the shared state; purge URL (or PREFIX*) removes cached objects;\n"
                 "                 cache-check verifies the cache file\n"
                 "  -V             print the version and exit\n"
                 "  --foreground   do not detach from the terminal\n"
                 "  --list-keys    print every configuration key with its type and default\n",
                 BULWARK_SYSCONFDIR);
}

bool parse_args(int argc, char** argv, options& o) {
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "-c" && i + 1 < argc) o.config = argv[++i];
        else if (a == "-s" && i + 1 < argc) {
            o.signal = argv[++i];
            if (o.signal == "purge") {
                if (i + 1 >= argc) {
                    std::fprintf(stderr, "bulwark: -s purge needs a URL (or a prefix ending in *)\n");
                    return false;
                }
                o.purge_url = argv[++i];
            }
        }
        else if (a == "-t") o.test = true;
        else if (a == "-V" || a == "--version") o.version = true;
        else if (a == "--foreground" || a == "-f") o.foreground = true;
        else if (a == "--list-keys") o.list_keys = true;
        else if (a == "-h" || a == "--help") {
            usage(stdout);
            std::exit(0);
        } else {
            std::fprintf(stderr, "bulwark: unknown or incomplete option \"%s\"\n", a.c_str());
            usage(stderr);
            return false;
        }
    }
    return true;
}

void list_keys() {
    for (const auto& k : config::keys()) {
        std::printf("%.*s %.*s %.*s %.*s %.*s -- %.*s\n", static_cast<int>(k.section.size()), k.section.data(),
                    static_cast<int>(k.name.size()), k.name.data(), static_cast<int>(config::type_name(k.type).size()),
                    config::type_name(k.type).data(),
                    static_cast<int>(k.default_value.empty() ? 1 : k.default_value.size()),
                    k.default_value.empty() ? "-" : k.default_value.data(),
                    static_cast<int>(k.allowed.empty() ? 1 : k.allowed.size()), k.allowed.empty() ? "-" : k.allowed.data(),
                    static_cast<int>(k.doc.size()), k.doc.data());
    }
}

// The file we were started from, resolved now: a package upgrade replaces that file, and a live upgrade
// executes whatever is there then.
std::string executable_path() {
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return {};
    std::string path(buf, static_cast<std::size_t>(n));
    if (path.ends_with(" (deleted)")) path.resize(path.size() - 10);
    return path;
}

int start(const config::snapshot& cfg, const options& o) {
    process::block_master_signals();
    std::string error;
    process::identity id;
    if (!process::resolve_identity(cfg->global, id, error)) {
        std::fprintf(stderr, "bulwark: %s\n", error.c_str());
        return 1;
    }
    if (!log::open(cfg->global.error_log, error)) {
        std::fprintf(stderr, "bulwark: %s\n", error.c_str());
        return 1;
    }
    log::set_level(cfg->global.log_level);
    int access_fd = -1;
    if (!process::open_access_log(*cfg, access_fd, error)) {
        std::fprintf(stderr, "bulwark: %s\n", error.c_str());
        return 1;
    }
    std::vector<process::listening_socket> listeners;
    // A live upgrade hands us the old master's listening sockets: adopt them, never bind twice.
    std::vector<process::listening_socket> inherited = process::decode_inherited(std::getenv(process::env_inherited_fds));
    const bool upgrading = std::getenv(process::env_upgrade_notify_fd) != nullptr;
    if (!process::open_listeners(*cfg, listeners, error, std::move(inherited))) {
        std::fprintf(stderr, "bulwark: %s\n", error.c_str());
        BW_LOG(crit, "%s", error.c_str());
        return 1;
    }
    // Shared memory is mapped before forking, so every child inherits the same mapping.
    std::string notes;
    std::optional<shm::shared_state> shared;
    try {
        shared = shm::shared_state::open_or_create(cfg->global.state_dir, cfg->global.shm_size, notes);
        tls::open_shared_table(*cfg, notes);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bulwark: shared memory in %s: %s\n", cfg->global.state_dir.c_str(), e.what());
        BW_LOG(crit, "shared memory in %s: %s", cfg->global.state_dir.c_str(), e.what());
        return 1;
    }
    shm::backend_handles handles = shm::register_backends(shared->backends(), *cfg, notes);
    shm::register_counters(shared->counters(), *cfg, notes);
    std::unique_ptr<cache::store> cache;
    try {
        cache = process::open_cache(*cfg, id, notes);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bulwark: cache %s: %s\n", cfg->cache.path.c_str(), e.what());
        BW_LOG(crit, "cache %s: %s", cfg->cache.path.c_str(), e.what());
        return 1;
    }
    process::master_options mo{o.config, -1};
    mo.exe_path = executable_path();
    if (upgrading) {
        // Readiness goes to the old master, which drains its workers only then; our workers use the
        // other half of the shared gauge rows while the old ones finish.
        mo.ready_fd = std::atoi(std::getenv(process::env_upgrade_notify_fd));
        ::fcntl(mo.ready_fd, F_SETFD, FD_CLOEXEC);
        if (const char* base = std::getenv(process::env_slot_base)) mo.slot_base = static_cast<unsigned>(std::atoi(base));
        for (const char* name : {process::env_inherited_fds, process::env_upgrade_notify_fd, process::env_slot_base})
            ::unsetenv(name);
    } else if (!o.foreground) {
        mo.ready_fd = process::daemonize();
        if (mo.ready_fd < 0) {
            std::fprintf(stderr, "bulwark: cannot daemonize: %s\n", std::strerror(errno));
            return 1;
        }
    }
    if (!process::write_pid_file(cfg->global.pid_file, ::getpid(), error)) {
        BW_LOG(crit, "%s", error.c_str());
        if (o.foreground) std::fprintf(stderr, "bulwark: %s\n", error.c_str());
        if (mo.ready_fd >= 0) {
            error += "\n";
            [[maybe_unused]] auto n = ::write(mo.ready_fd, error.data(), error.size());
        }
        return 1;
    }
    BW_LOG(notice, "bulwark %s starting, configuration %s", BULWARK_VERSION, o.config.c_str());
    for (std::size_t at = 0, nl; (nl = notes.find('\n', at)) != std::string::npos; at = nl + 1)
        BW_LOG(notice, "%s", notes.substr(at, nl - at).c_str());
    process::master_startup startup{cfg, std::move(listeners), id, access_fd, &*shared, std::move(handles),
                                    std::move(cache)};
    return process::run_master(std::move(startup), mo);
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    if (!parse_args(argc, argv, o)) return 2;
    if (o.version) {
        std::printf("bulwark version %s\n", BULWARK_VERSION);
        return 0;
    }
    if (o.list_keys) {
        list_keys();
        return 0;
    }
    // Absolute, so the daemon (whose working directory is /) can read it again on reload.
    if (char* real = ::realpath(o.config.c_str(), nullptr)) {
        o.config = real;
        std::free(real);
    }
    config::load_result r = config::load_file(o.config);
    // Only the commands that start or check a configuration read its TLS files (as root, here).
    if (o.test || o.signal.empty()) r = tls::with_tls_files(std::move(r));
    if (!r.errors.empty()) {
        for (const auto& d : r.errors) std::fprintf(stderr, "%s\n", d.text().c_str());
        if (o.test) std::fprintf(stderr, "configuration %s has %zu error(s)\n", o.config.c_str(), r.errors.size());
        return 1;
    }
    if (o.test) {
        std::string error;
        process::identity id;
        if (!process::resolve_identity(r.cfg->global, id, error)) {
            std::fprintf(stderr, "%s: %s\n", o.config.c_str(), error.c_str());
            return 1;
        }
        std::printf("configuration OK\n");
        return 0;
    }
    if (o.signal == "status") return process::print_status(*r.cfg);
    if (o.signal == "purge") return process::purge_cache(*r.cfg, o.purge_url);
    if (o.signal == "cache-check") return process::check_cache(*r.cfg);
    if (!o.signal.empty()) return process::send_control(*r.cfg, o.signal);
    return start(r.cfg, o);
}
