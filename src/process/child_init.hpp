// process/child_init: what every child of the master does first: name itself (logs, ps), die with the
// master (PR_SET_PDEATHSIG, plus a check for a master that died before that took effect), and undo the
// master's signal set-up (its mask is inherited across fork).
#pragma once

#include <string_view>
#include <sys/types.h>

namespace bulwark::process {

/// False when the master is already gone: the child should exit at once.
bool init_child(std::string_view log_role, const char* process_name, pid_t master_pid);

}  // namespace bulwark::process
