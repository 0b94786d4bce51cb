// process/pidfile: the master's pid, written after daemonizing, removed at exit; read by `bulwark -s`.
#pragma once

#include <string>
#include <sys/types.h>

namespace bulwark::process {

bool write_pid_file(const std::string& path, pid_t pid, std::string& error);
/// Returns the pid, or -1 with `error` saying why (missing file, garbage, no such process).
pid_t read_pid_file(const std::string& path, std::string& error);
void remove_pid_file(const std::string& path, pid_t expected);

}  // namespace bulwark::process
