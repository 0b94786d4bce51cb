// cache/store_file: create, verify, reuse or replace the cache file, then map it MAP_SHARED. A file
// whose header (magic, version, size, geometry, checksum) or allocation state does not verify is never
// trusted: a fresh one is made under a temporary name and renamed into place (as shm/segment does).
#include "cache/store.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "cache/store_impl.hpp"
#include "shm/mapped_file.hpp"
#include "shm/robust_mutex.hpp"

namespace bulwark::cache {
namespace {

using layout::file_header;
using shm::fd_guard;
using shm::throw_errno;

constexpr std::uint64_t min_size = 1024 * 1024;

// Where the index and the arena go in a file of `size` bytes (one slot per 2-4 KiB of arena).
struct geometry {
    std::uint64_t index_offset = 0, index_groups = 0, arena_offset = 0, arena_bytes = 0;
};

geometry geometry_for(std::uint64_t size) {
    geometry g;
    g.index_offset = layout::header_bytes + layout::fill_lock_entries * sizeof(std::uint64_t);
    std::uint64_t slots = (size - g.index_offset) / (layout::arena_bytes_per_slot + sizeof(std::uint64_t));
    g.index_groups = std::bit_ceil(std::max<std::uint64_t>(1, slots / layout::index_ways));
    std::uint64_t index_end = g.index_offset + g.index_groups * layout::index_ways * sizeof(std::uint64_t);
    g.arena_offset = (index_end + 4095) & ~std::uint64_t{4095};
    g.arena_bytes = (size - g.arena_offset) & ~(layout::record_align - 1);
    return g;
}

std::uint32_t header_crc(const file_header& h) {
    file_header copy = h;
    copy.header_crc = 0;
    return detail::crc(&copy, offsetof(file_header, reserved0));
}

// Why the header `h` of a file of `file_size` bytes is not a usable store (empty: it is).
std::string inspect(const file_header& h, std::uint64_t file_size, std::uint64_t want_size) {
    if (h.magic != layout::file_magic) return "not a cache file (bad magic)";
    if (h.layout_version != store::layout_version)
        return "layout version " + std::to_string(h.layout_version) + ", expected " +
               std::to_string(store::layout_version);
    if (header_crc(h) != h.header_crc) return "header checksum mismatch";
    if (h.size != file_size) return "header says " + std::to_string(h.size) + " bytes, file has " + std::to_string(file_size);
    if (want_size != 0 && h.size != want_size)
        return "size " + std::to_string(h.size) + ", expected " + std::to_string(want_size);
    geometry g = geometry_for(h.size);
    if (h.header_size != layout::header_bytes || h.index_offset != g.index_offset ||
        h.index_groups != g.index_groups || h.arena_offset != g.arena_offset || h.arena_bytes != g.arena_bytes)
        return "unexpected geometry";
    const std::uint64_t a = h.arena_bytes, head = h.write_head, hz = h.horizon;
    if (head < a || hz < a || hz > head || head - hz > a || head % layout::record_align || hz % layout::record_align)
        return "allocation state out of range";
    if (head >= layout::max_position) return "arena positions exhausted";
    if (h.lock.ready != shm::robust_mutex_ready) return "arena lock not initialised";
    return {};
}

// Reads the header of the open file `fd`; empty when usable, else why not.
std::string inspect_fd(int fd, std::uint64_t want_size, std::uint64_t& file_size) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return std::string("fstat: ") + std::strerror(errno);
    if (!S_ISREG(st.st_mode)) return "not a regular file";
    file_size = static_cast<std::uint64_t>(st.st_size);
    if (want_size != 0 && file_size != want_size)
        return "file of " + std::to_string(file_size) + " bytes, expected " + std::to_string(want_size);
    if (file_size < min_size) return "file too small (" + std::to_string(file_size) + " bytes)";
    file_header h{};
    if (::pread(fd, &h, sizeof h, 0) != static_cast<ssize_t>(sizeof h)) return "cannot read the header";
    return inspect(h, file_size, want_size);
}

std::uint64_t random_seed() {
    std::uint64_t seed = 0;
    if (::getrandom(&seed, sizeof seed, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof seed))
        seed = detail::unix_ms() ^ (static_cast<std::uint64_t>(::getpid()) << 40);
    return seed;
}

// Lays out a fresh file in the zero-filled mapping `base`; the magic goes last.
void format(std::byte* base, std::uint64_t size) {
    auto* h = reinterpret_cast<file_header*>(base);
    geometry g = geometry_for(size);
    h->layout_version = store::layout_version;
    h->header_size = layout::header_bytes;
    h->size = size;
    h->index_offset = g.index_offset;
    h->index_groups = g.index_groups;
    h->arena_offset = g.arena_offset;
    h->arena_bytes = g.arena_bytes;
    h->created_unix_ms = detail::unix_ms();
    h->seed = random_seed();
    h->creator_pid = static_cast<std::uint32_t>(::getpid());
    h->write_head = g.arena_bytes;  // positions start one lap in: 0 never designates a record
    h->horizon = g.arena_bytes;
    h->next_object_id = 1;
    shm::robust_mutex::init(h->lock);
    h->magic = layout::file_magic;
    h->header_crc = header_crc(*h);
}

std::unique_ptr<detail::store_impl> create(const std::string& path, std::uint64_t size, uid_t owner, gid_t group) {
    const std::string tmp = path + ".new." + std::to_string(::getpid());
    ::unlink(tmp.c_str());
    fd_guard f{::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)};
    if (f.fd < 0) throw_errno(errno, "create " + tmp);
    try {
        if ((owner != static_cast<uid_t>(-1) || group != static_cast<gid_t>(-1)) && ::fchown(f.fd, owner, group) != 0)
            throw_errno(errno, "chown " + tmp);
        // A full disk is one clear start-up error, not a SIGBUS in a worker on the ring's first lap.
        shm::reserve_file(f.fd, size, tmp);
        auto impl = std::make_unique<detail::store_impl>(path, shm::map_file(f.fd, size, false, tmp), size, false);
        impl->fd = ::fcntl(f.fd, F_DUPFD_CLOEXEC, 3);
        format(impl->base, size);
        if (::rename(tmp.c_str(), path.c_str()) != 0) throw_errno(errno, "rename " + tmp + " to " + path);
        return impl;
    } catch (...) {
        ::unlink(tmp.c_str());
        throw;
    }
}

}  // namespace

namespace detail {

store_impl::store_impl(std::string p, std::byte* b, std::uint64_t s, bool ro) noexcept
    : path(std::move(p)), base(b), size(s), read_only(ro), hdr(reinterpret_cast<layout::file_header*>(b)) {
    fills = reinterpret_cast<std::uint64_t*>(b + layout::header_bytes);
    geometry g = geometry_for(s);
    slots = reinterpret_cast<std::uint64_t*>(b + g.index_offset);
    arena = b + g.arena_offset;
    arena_bytes = g.arena_bytes;
    groups = g.index_groups;
    max_record = std::min<std::uint64_t>(arena_bytes / 4, layout::max_record);
}

store_impl::~store_impl() {
    if (base != nullptr) ::munmap(base, size);
    if (fd >= 0) ::close(fd);
}

}  // namespace detail

store::store(std::unique_ptr<detail::store_impl> impl) noexcept : impl_(std::move(impl)) {}
store::store() noexcept = default;
store::store(store&&) noexcept = default;
store& store::operator=(store&&) noexcept = default;
store::~store() = default;

bool store::valid() const { return impl_ != nullptr; }

const std::string& store::path() const {
    static const std::string none;
    return impl_ ? impl_->path : none;
}

std::uint64_t store::size() const { return impl_ ? impl_->size : 0; }
int store::file_fd() const { return impl_ ? impl_->fd : -1; }
std::uint64_t store::file_offset(const char* p) const {
    return static_cast<std::uint64_t>(reinterpret_cast<const std::byte*>(p) - impl_->base);
}

store store::open_or_create(const std::string& path, std::uint64_t size, std::string& note, uid_t owner, gid_t group) {
    note.clear();
    if (size < min_size)
        throw std::invalid_argument("cache file " + path + ": size " + std::to_string(size) + " is below 1 MiB");
    std::string why;
    {
        fd_guard f{::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW)};
        if (f.fd >= 0) {
            std::uint64_t file_size = 0;
            why = inspect_fd(f.fd, size, file_size);
            if (why.empty()) {
                if ((owner != static_cast<uid_t>(-1) || group != static_cast<gid_t>(-1)) &&
                    ::fchown(f.fd, owner, group) != 0)
                    throw_errno(errno, "chown " + path);
                auto impl = std::make_unique<detail::store_impl>(path, shm::map_file(f.fd, size, false, path), size, false);
                impl->fd = ::fcntl(f.fd, F_DUPFD_CLOEXEC, 3);
                // A lock word left by a process that died without the kernel marking it (power loss
                // while the file was on disk) would block forever: re-initialise it when its
                // recorded owner is gone. Only the master calls this, before its workers exist.
                std::uint32_t owner_pid = shm::load(impl->hdr->lock.owner_pid);
                if (owner_pid != 0 && !detail::pid_alive(owner_pid)) shm::robust_mutex::init(impl->hdr->lock);
                return store(std::move(impl));
            }
            note = "recreated cache file " + path + ": " + why;
        } else if (errno == ENOENT) {
            note = "created cache file " + path;
        } else {
            throw_errno(errno, "open " + path);
        }
    }
    return store(create(path, size, owner, group));
}

store store::open_existing(const std::string& path, bool read_only) {
    fd_guard f{::open(path.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOFOLLOW)};
    if (f.fd < 0) throw_errno(errno, "open " + path);
    std::uint64_t file_size = 0;
    std::string why = inspect_fd(f.fd, 0, file_size);
    if (!why.empty()) throw std::runtime_error("cache file " + path + ": " + why);
    auto impl = std::make_unique<detail::store_impl>(path, shm::map_file(f.fd, file_size, read_only, path), file_size,
                                                     read_only);
    impl->fd = ::fcntl(f.fd, F_DUPFD_CLOEXEC, 3);
    return store(std::move(impl));
}

}  // namespace bulwark::cache
