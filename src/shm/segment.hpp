// shm/segment: a file-backed shared mapping (mmap MAP_SHARED) with a versioned header. The master
// creates or reuses the file before forking; children inherit the mapping, and a process started by
// exec (binary upgrade, `-s status`) maps the same file again by path, at another address: so the
// contents hold offsets and indexes, never pointers (shm/layout.hpp).
//
// A file whose magic, layout version or size differ from what the caller expects is not trusted: it
// is replaced by a fresh zero-filled one, written under a temporary name and renamed into place, so
// processes still mapping the old file keep a consistent (old) view and nobody sees a half-made one.
// Creation, reuse and replacement may throw (control plane); the returned reason is for the log.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "shm/layout.hpp"

namespace bulwark::shm {

struct segment_options {
    mode_t mode = 0600;
    uid_t owner = static_cast<uid_t>(-1);  // fchown()ed to these when not -1 (workers that drop root
    gid_t group = static_cast<gid_t>(-1);  // privileges and later re-map the file must be able to open it)
};

enum class segment_access { read_write, read_only };

class segment {
public:
    segment() noexcept = default;
    segment(segment&& other) noexcept;
    segment& operator=(segment&& other) noexcept;
    segment(const segment&) = delete;
    segment& operator=(const segment&) = delete;
    ~segment();

    struct open_result;

    /// Maps `path` if it holds a segment of exactly `size` bytes and `layout_version`, incrementing
    /// its generation; otherwise (missing, foreign, other version or size) creates a new zero-filled
    /// one. `size` counts the header (segment_header_bytes) and must exceed it. Throws
    /// std::system_error (I/O) or std::invalid_argument (size).
    static open_result open_or_create(const std::string& path, std::size_t size, std::uint32_t layout_version,
                                      const segment_options& options = {});

    /// Maps an existing segment without ever recreating it (a process started after the master).
    /// Throws std::runtime_error naming the mismatch, or std::system_error.
    static segment open_existing(const std::string& path, std::uint32_t layout_version,
                                 segment_access access = segment_access::read_write);

    bool valid() const noexcept { return base_ != nullptr; }
    const std::string& path() const noexcept { return path_; }
    bool read_only() const noexcept { return read_only_; }

    const segment_header& header() const noexcept { return *reinterpret_cast<const segment_header*>(base_); }
    std::uint64_t generation() const noexcept;
    std::size_t size() const noexcept { return size_; }

    /// The bytes after the header; tables are laid out in it by the caller (see area()).
    std::byte* data() const noexcept { return base_ + segment_header_bytes; }
    std::size_t data_size() const noexcept { return size_ - segment_header_bytes; }
    /// `bytes` bytes at `offset` into data(); offset must be a multiple of cache_line_bytes.
    /// Throws std::out_of_range when it does not fit.
    std::span<std::byte> area(std::size_t offset, std::size_t bytes) const;

private:
    segment(std::string path, std::byte* base, std::size_t size, bool read_only) noexcept;
    void reset() noexcept;

    std::string path_;
    std::byte* base_ = nullptr;
    std::size_t size_ = 0;
    bool read_only_ = false;
};

struct segment::open_result {
    segment seg;
    bool created = false;  // true: contents are zero (fresh file)
    std::string reason;    // why it was created, e.g. "layout version 1, expected 2"; empty when reused
};

/// Rounds `n` up to a multiple of `align` (a power of two): for laying out tables in a segment.
inline constexpr std::size_t align_up(std::size_t n, std::size_t align = cache_line_bytes) noexcept {
    return (n + align - 1) & ~(align - 1);
}

}  // namespace bulwark::shm
