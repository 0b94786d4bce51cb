// shm/mapped_file: see mapped_file.hpp.
#include "shm/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>

#include <cerrno>
#include <system_error>

namespace bulwark::shm {

void throw_errno(int err, const std::string& what) { throw std::system_error(err, std::generic_category(), what); }

void reserve_file(int fd, std::uint64_t size, const std::string& what) {
    int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(size));
    if (rc == EOPNOTSUPP || rc == EINVAL) {
        if (::ftruncate(fd, static_cast<off_t>(size)) != 0) throw_errno(errno, "truncate " + what);
    } else if (rc != 0) {
        throw_errno(rc, "allocate " + std::to_string(size) + " bytes for " + what);
    }
}

std::byte* map_file(int fd, std::uint64_t size, bool read_only, const std::string& what) {
    int prot = read_only ? PROT_READ : PROT_READ | PROT_WRITE;
    void* p = ::mmap(nullptr, size, prot, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) throw_errno(errno, "mmap " + what);
    return static_cast<std::byte*>(p);
}

}  // namespace bulwark::shm
