// process/channel: master ↔ child messages over a SOCK_SEQPACKET socketpair: one datagram per message
// (no framing to get wrong), file descriptors attached with SCM_RIGHTS (reopened logs, later listeners).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bulwark::process {

enum class message_type : std::uint32_t {
    ready = 1,        // child → master: serving
    stop = 2,         // master → child: graceful stop (drain, then exit)
    reopen_logs = 3,  // master → child: fds[0] error log, fds[1] access log (or none)
    config = 4,       // master → worker: a config_update (process/config_message.hpp), listener fds
    config_done = 5,  // worker → master: empty payload when applied, else the reason it was not
};

struct message {
    message_type type{};
    std::string payload;
    std::vector<int> fds;
};

/// Creates a connected pair (close-on-exec); [0] stays with the master, [1] goes to the child.
bool make_channel(int fds[2]);

/// Sends one message; false on error (errno set).
bool send_message(int fd, const message& m);
/// Receives one message; returns 1 on success, 0 on EOF (peer gone), -1 on error or EAGAIN.
int receive_message(int fd, message& m);

}  // namespace bulwark::process
