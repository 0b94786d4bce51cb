// harness/process_text: the small helpers the lifecycle and timing tests share for their checks and
// failure messages: elapsed milliseconds, a wait status in words, pid lists.
#pragma once

#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace bulwark::test {

inline long long ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
}

/// A wait status as bulwark_process::wait_exit() reports it (-1: exited, status unknown).
inline std::string describe_status(std::optional<int> st) {
    if (!st) return "still running";
    if (*st == -1) return "exited (status unknown)";
    if (WIFEXITED(*st)) return "exit " + std::to_string(WEXITSTATUS(*st));
    if (WIFSIGNALED(*st)) return "killed by signal " + std::to_string(WTERMSIG(*st));
    return "status " + std::to_string(*st);
}

inline std::vector<pid_t> sorted(std::vector<pid_t> v) {
    std::sort(v.begin(), v.end());
    return v;
}

inline std::string pids_text(const std::vector<pid_t>& v) {
    std::string s;
    for (pid_t p : v) s += (s.empty() ? "" : " ") + std::to_string(p);
    return "[" + s + "]";
}

}  // namespace bulwark::test
