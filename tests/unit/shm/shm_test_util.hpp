// Helpers for the shm unit tests: a temporary directory removed afterwards, forked children that
// report through their exit status, and a millisecond clock shared by processes.
#pragma once

#include <signal.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace shm_test {

class temp_dir {
public:
    temp_dir() {
        char tmpl[] = "/tmp/bulwark-shm-test-XXXXXX";
        if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

/// Runs `body` (returning the exit code) in a forked child that never returns into the test runner.
/// The child is killed by SIGALRM after `limit_s` seconds so that a bug cannot hang the suite.
template <class F>
pid_t fork_child(F&& body, unsigned limit_s = 20) {
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        ::signal(SIGALRM, SIG_DFL);
        ::alarm(limit_s);
        int code = 0;
        try {
            code = body();
        } catch (...) {
            code = 99;
        }
        ::_exit(code);
    }
    return pid;
}

/// Exit code of the child, or 128 + signal number when a signal ended it.
inline int wait_child(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

/// A few counters in an anonymous shared mapping, for children to report results to the parent.
class shared_counters {
public:
    explicit shared_counters(std::size_t n = 16) : n_(n) {
        void* p = ::mmap(nullptr, n * sizeof(std::uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::runtime_error("mmap failed");
        v_ = static_cast<std::uint64_t*>(p);
    }
    ~shared_counters() { ::munmap(v_, n_ * sizeof(std::uint64_t)); }
    shared_counters(const shared_counters&) = delete;
    shared_counters& operator=(const shared_counters&) = delete;

    void add(std::size_t i, std::uint64_t d) { __atomic_fetch_add(&v_[i], d, __ATOMIC_RELAXED); }
    std::uint64_t get(std::size_t i) const { return __atomic_load_n(&v_[i], __ATOMIC_ACQUIRE); }

private:
    std::size_t n_;
    std::uint64_t* v_;
};

/// CLOCK_MONOTONIC in ms: the same clock in every process.
inline std::uint64_t mono_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000 + static_cast<std::uint64_t>(ts.tv_nsec) / 1000000;
}

}  // namespace shm_test
