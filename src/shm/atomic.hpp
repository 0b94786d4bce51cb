// shm/atomic: the one way to touch a shared field that other processes update concurrently. Fields in
// shm/layout.hpp are plain integers (so the structs stay PODs); these helpers wrap them in
// std::atomic_ref, which is lock-free and address-free for 32- and 64-bit integers (checked there).
#pragma once

#include <atomic>
#include <cstdint>

namespace bulwark::shm {

template <class T>
inline std::atomic_ref<T> aref(T& field) noexcept {
    return std::atomic_ref<T>(field);
}

template <class T>
inline T load(T& field, std::memory_order order = std::memory_order_acquire) noexcept {
    return std::atomic_ref<T>(field).load(order);
}

template <class T>
inline void store(T& field, T value, std::memory_order order = std::memory_order_release) noexcept {
    std::atomic_ref<T>(field).store(value, order);
}

template <class T>
inline T add(T& field, T delta, std::memory_order order = std::memory_order_relaxed) noexcept {
    return std::atomic_ref<T>(field).fetch_add(delta, order) + delta;
}

/// Strong CAS; on failure `expected` receives the current value.
template <class T>
inline bool cas(T& field, T& expected, T desired) noexcept {
    return std::atomic_ref<T>(field).compare_exchange_strong(expected, desired, std::memory_order_acq_rel,
                                                             std::memory_order_acquire);
}

}  // namespace bulwark::shm
