// process/config_message: what the master sends a worker on reload: the configuration text (workers
// cannot read the file after dropping privileges), the shared-state handles it registered, and the
// list of listening sockets (their fds travel alongside, in the same order, via SCM_RIGHTS).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "shm/shared_state.hpp"

namespace bulwark::process {

struct config_update {
    std::string file;  // where the text came from, for messages and relative paths
    std::string text;
    shm::backend_handles handles;
    std::vector<std::pair<int, std::string>> listeners;  // (listener index, address), one per fd
    std::map<std::string, std::string> tls_files;  // certificate/key/CA/OCSP bytes by path (tls/material)
};

/// Largest message the channel carries in one SOCK_SEQPACKET datagram (the default socket buffer).
inline constexpr std::size_t max_config_message = 192 * 1024;

std::string encode(const config_update& u);
std::optional<config_update> decode_config_update(std::string_view payload);

}  // namespace bulwark::process
