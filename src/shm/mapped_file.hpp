// shm/mapped_file: the file steps that every shared mapping takes (the segment and the cache file):
// an fd closed on scope exit, errno as std::system_error, blocks reserved up front, MAP_SHARED.
// Control plane only: everything here may throw.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace bulwark::shm {

[[noreturn]] void throw_errno(int err, const std::string& what);

struct fd_guard {
    int fd = -1;
    ~fd_guard() {
        if (fd >= 0) ::close(fd);
    }
};

/// Gives the file `size` bytes with its blocks reserved (posix_fallocate), so that a full disk or
/// tmpfs is an error now rather than a SIGBUS in whichever process first touches a page; falls back
/// to a sparse ftruncate where the file system cannot reserve. `what` names the file in errors.
void reserve_file(int fd, std::uint64_t size, const std::string& what);

/// mmap(MAP_SHARED) of the whole file.
std::byte* map_file(int fd, std::uint64_t size, bool read_only, const std::string& what);

}  // namespace bulwark::shm
