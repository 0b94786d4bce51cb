// shm/segment: create / reuse / replace the file, then mmap it MAP_SHARED.
#include "shm/segment.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "shm/atomic.hpp"
#include "shm/mapped_file.hpp"

namespace bulwark::shm {
namespace {

// Why the open file `fd` is not a usable segment (empty string: it is). `want_size` 0 accepts any size
// the header states, as long as the file really has it.
std::string inspect(int fd, std::size_t want_size, std::uint32_t want_version) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return std::string("fstat: ") + std::strerror(errno);
    if (!S_ISREG(st.st_mode)) return "not a regular file";
    const auto file_size = static_cast<std::size_t>(st.st_size);
    if (file_size < segment_header_bytes) return "file too small (" + std::to_string(file_size) + " bytes)";
    segment_header h{};
    if (::pread(fd, &h, sizeof h, 0) != static_cast<ssize_t>(sizeof h)) return "cannot read the header";
    if (h.magic != segment_magic) return "not a bulwark segment (bad magic)";
    if (h.layout_version != want_version)
        return "layout version " + std::to_string(h.layout_version) + ", expected " + std::to_string(want_version);
    if (h.header_bytes != segment_header_bytes) return "header of " + std::to_string(h.header_bytes) + " bytes";
    if (h.size != file_size)
        return "header says " + std::to_string(h.size) + " bytes, file has " + std::to_string(file_size);
    if (want_size != 0 && h.size != want_size)
        return "size " + std::to_string(h.size) + ", expected " + std::to_string(want_size);
    return {};
}

std::uint64_t unix_ms() {
    using namespace std::chrono;
    return static_cast<std::uint64_t>(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

}  // namespace

segment::segment(std::string path, std::byte* base, std::size_t size, bool read_only) noexcept
    : path_(std::move(path)), base_(base), size_(size), read_only_(read_only) {}

segment::segment(segment&& other) noexcept
    : path_(std::move(other.path_)),
      base_(std::exchange(other.base_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      read_only_(other.read_only_) {}

segment& segment::operator=(segment&& other) noexcept {
    if (this != &other) {
        reset();
        path_ = std::move(other.path_);
        base_ = std::exchange(other.base_, nullptr);
        size_ = std::exchange(other.size_, 0);
        read_only_ = other.read_only_;
    }
    return *this;
}

segment::~segment() { reset(); }

void segment::reset() noexcept {
    if (base_ != nullptr) ::munmap(base_, size_);
    base_ = nullptr;
    size_ = 0;
}

std::uint64_t segment::generation() const noexcept {
    return load(const_cast<segment_header*>(&header())->generation);
}

std::span<std::byte> segment::area(std::size_t offset, std::size_t bytes) const {
    if (offset % cache_line_bytes != 0 || offset > data_size() || bytes > data_size() - offset)
        throw std::out_of_range("shared segment " + path_ + ": area at " + std::to_string(offset) + " of " +
                                std::to_string(bytes) + " bytes does not fit in " + std::to_string(data_size()));
    return {data() + offset, bytes};
}

segment::open_result segment::open_or_create(const std::string& path, std::size_t size,
                                             std::uint32_t layout_version, const segment_options& options) {
    if (size <= segment_header_bytes)
        throw std::invalid_argument("shared segment " + path + ": size " + std::to_string(size) + " is too small");

    open_result result;
    {
        fd_guard f{::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW)};
        if (f.fd >= 0) {
            result.reason = inspect(f.fd, size, layout_version);
            if (result.reason.empty()) {
                result.seg = segment(path, map_file(f.fd, size, false, path), size, false);
                add(reinterpret_cast<segment_header*>(result.seg.base_)->generation, std::uint64_t{1},
                    std::memory_order_acq_rel);
                return result;
            }
        } else if (errno == ENOENT) {
            result.reason = "no segment file";
        } else {
            throw_errno(errno, "open " + path);
        }
    }

    // A new file under a temporary name, complete before it becomes visible under `path`.
    const std::string tmp = path + ".new." + std::to_string(::getpid());
    ::unlink(tmp.c_str());
    fd_guard f{::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, options.mode)};
    if (f.fd < 0) throw_errno(errno, "create " + tmp);
    try {
        if (::fchmod(f.fd, options.mode) != 0) throw_errno(errno, "chmod " + tmp);
        if ((options.owner != static_cast<uid_t>(-1) || options.group != static_cast<gid_t>(-1)) &&
            ::fchown(f.fd, options.owner, options.group) != 0)
            throw_errno(errno, "chown " + tmp);
        reserve_file(f.fd, size, tmp);  // on a full tmpfs a later page fault would be a SIGBUS
        segment seg(path, map_file(f.fd, size, false, tmp), size, false);
        auto* h = reinterpret_cast<segment_header*>(seg.base_);
        h->layout_version = layout_version;
        h->header_bytes = segment_header_bytes;
        h->size = size;
        h->creator_pid = static_cast<std::uint32_t>(::getpid());
        h->generation = 1;
        h->created_unix_ms = unix_ms();
        store(h->magic, segment_magic);
        if (::rename(tmp.c_str(), path.c_str()) != 0) throw_errno(errno, "rename " + tmp + " to " + path);
        result.seg = std::move(seg);
        result.created = true;
        return result;
    } catch (...) {
        ::unlink(tmp.c_str());
        throw;
    }
}

segment segment::open_existing(const std::string& path, std::uint32_t layout_version, segment_access access) {
    const bool ro = access == segment_access::read_only;
    fd_guard f{::open(path.c_str(), (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOFOLLOW)};
    if (f.fd < 0) throw_errno(errno, "open " + path);
    std::string why = inspect(f.fd, 0, layout_version);
    if (!why.empty()) throw std::runtime_error("shared segment " + path + ": " + why);
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) throw_errno(errno, "fstat " + path);
    const auto size = static_cast<std::size_t>(st.st_size);
    return segment(path, map_file(f.fd, size, ro, path), size, ro);
}

}  // namespace bulwark::shm
