// process/control: `bulwark -s SIGNAL`, the operator's side of the signals: finds the master through
// the pid file, signals it and, for quit/stop, waits until it is gone.
#pragma once

#include <string>

#include "config/model.hpp"

namespace bulwark::process {

/// Returns the exit status for main(); prints what happened on stderr.
int send_control(const config::config& cfg, const std::string& action);

/// Detaches from the terminal. The parent stays until the master writes to the returned pipe ("ok" or
/// an error), so `bulwark` exits non-zero when start-up fails after daemonizing. Returns the write end
/// in the master, never returns in the parent.
int daemonize();

}  // namespace bulwark::process
