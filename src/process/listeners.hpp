// process/listeners: the master's listening sockets. Opened once, kept across the master's life (and,
// later, reloads and upgrades), inherited by every worker; the kernel queue is never reset.
#pragma once

#include <string>
#include <vector>

#include "config/model.hpp"

namespace bulwark::process {

struct listening_socket {
    int fd = -1;
    int listener_index = 0;  // into config::listeners
    std::string address;     // "127.0.0.1:8080"
};

/// Binds one address; returns the fd or -1 with `error` set.
int open_listener(const config::endpoint& ep, std::string& error);

/// Socket options that follow the configuration, set on new, kept (reload) and inherited (upgrade)
/// sockets alike once a configuration is committed: TCP_DEFER_ACCEPT per `defer_accept`, and TCP_INQ,
/// which accepted sockets inherit (core/asio_drained.hpp).
void tune_listeners(const config::config& cfg, const std::vector<listening_socket>& sockets);

/// Binds every `bind` of every listener; on failure closes what it opened and fills `error`.
/// Addresses found in `inherited` (a live upgrade's sockets, by address) are adopted, never re-bound;
/// inherited sockets the configuration no longer lists are closed.
bool open_listeners(const config::config& cfg, std::vector<listening_socket>& out, std::string& error,
                    std::vector<listening_socket> inherited = {});

/// BULWARK_INHERITED_FDS: "fd:address;fd:address" as set by the old master for the new binary.
std::string encode_inherited(const std::vector<listening_socket>& sockets);
std::vector<listening_socket> decode_inherited(const char* env);
void close_listeners(std::vector<listening_socket>& sockets);

}  // namespace bulwark::process
