// process/config_message: length-prefixed fields in host byte order (both ends are the same binary or,
// across an upgrade, never exchange this message).
#include "process/config_message.hpp"

#include <cstdint>
#include <cstring>

namespace bulwark::process {
namespace {

void put_u32(std::string& out, std::uint32_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }
void put_str(std::string& out, std::string_view s) {
    put_u32(out, static_cast<std::uint32_t>(s.size()));
    out.append(s);
}

struct reader {
    std::string_view in;
    bool ok = true;
    std::uint32_t u32() {
        std::uint32_t v = 0;
        if (in.size() < sizeof v) {
            ok = false;
            return 0;
        }
        std::memcpy(&v, in.data(), sizeof v);
        in.remove_prefix(sizeof v);
        return v;
    }
    std::string str() {
        std::uint32_t n = u32();
        if (!ok || in.size() < n) {
            ok = false;
            return {};
        }
        std::string s(in.substr(0, n));
        in.remove_prefix(n);
        return s;
    }
};

}  // namespace

std::string encode(const config_update& u) {
    std::string out;
    put_str(out, u.file);
    put_str(out, u.text);
    put_u32(out, static_cast<std::uint32_t>(u.handles.size()));
    for (const auto& row : u.handles) {
        put_u32(out, static_cast<std::uint32_t>(row.size()));
        for (auto h : row) put_u32(out, h.index);
    }
    put_u32(out, static_cast<std::uint32_t>(u.listeners.size()));
    for (const auto& [index, address] : u.listeners) {
        put_u32(out, static_cast<std::uint32_t>(index));
        put_str(out, address);
    }
    put_u32(out, static_cast<std::uint32_t>(u.tls_files.size()));
    for (const auto& [path, bytes] : u.tls_files) {
        put_str(out, path);
        put_str(out, bytes);
    }
    return out;
}

std::optional<config_update> decode_config_update(std::string_view payload) {
    reader r{payload};
    config_update u;
    u.file = r.str();
    u.text = r.str();
    std::uint32_t rows = r.u32();
    for (std::uint32_t i = 0; r.ok && i < rows && i < 65536; ++i) {
        auto& row = u.handles.emplace_back();
        std::uint32_t n = r.u32();
        for (std::uint32_t j = 0; r.ok && j < n && j < 65536; ++j) row.push_back(shm::backend_handle{r.u32()});
    }
    std::uint32_t listeners = r.u32();
    for (std::uint32_t i = 0; r.ok && i < listeners && i < 4096; ++i) {
        int index = static_cast<int>(r.u32());
        u.listeners.emplace_back(index, r.str());
    }
    std::uint32_t files = r.u32();
    for (std::uint32_t i = 0; r.ok && i < files && i < 4096; ++i) {
        std::string path = r.str();
        u.tls_files.emplace(std::move(path), r.str());
    }
    if (!r.ok) return std::nullopt;
    return u;
}

}  // namespace bulwark::process
