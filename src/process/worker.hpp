// process/worker: the entry point of a forked worker: drop privileges, build the io_context and the
// runtime, accept on the inherited listeners, obey the master's channel, drain on stop.
#pragma once

#include <sys/types.h>
#include <vector>

#include "cache/store.hpp"
#include "config/model.hpp"
#include "process/listeners.hpp"
#include "process/privileges.hpp"
#include "shm/shared_state.hpp"

namespace bulwark::process {

struct worker_args {
    int index = 0;
    pid_t master_pid = 0;
    config::snapshot cfg;
    const std::vector<listening_socket>* listeners = nullptr;
    int channel_fd = -1;
    int access_log_fd = -1;
    identity id;
    shm::shared_state* shared = nullptr;          // mapping inherited from the master
    const shm::backend_handles* handles = nullptr;
    cache::store* cache = nullptr;                // mapping inherited from the master (or null)
};

/// Runs in the child after fork(); returns the process exit status.
int run_worker(const worker_args& args);

}  // namespace bulwark::process
