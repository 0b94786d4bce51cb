// shm/tls_table: sessions are found by id until they expire or are removed, never read half-written;
// a slot left odd by a writer that died is taken over; ticket keys rotate current → previous.
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "shm/atomic.hpp"
#include "shm/tls_table.hpp"

namespace shm = bulwark::shm;

namespace {

// Zeroed, cache-line aligned memory standing in for the mapping.
struct table_memory {
    explicit table_memory(std::uint64_t cache_bytes)
        : size(shm::tls_table::bytes_for(cache_bytes)), lines(size / sizeof(line) + 1) {}
    std::span<std::byte> span() { return {reinterpret_cast<std::byte*>(lines.data()), size}; }
    struct alignas(64) line {
        std::byte b[64];
    };
    std::size_t size;
    std::vector<line> lines;
};

std::vector<std::uint8_t> id_of(std::uint8_t n) { return std::vector<std::uint8_t>(32, n); }

pid_t dead_pid() {
    pid_t p = ::fork();
    if (p == 0) ::_exit(0);
    ::waitpid(p, nullptr, 0);
    return p;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(shm_tls_table)

BOOST_AUTO_TEST_CASE(stored_sessions_are_found_until_removed_or_expired) {
    table_memory mem(4 * 2048);
    std::string reason;
    auto t = shm::tls_table::open_or_format(mem.span(), reason);
    BOOST_TEST(t.slots() == 4u);
    std::vector<std::uint8_t> der(300, 0xab), out(shm::tls_table::session_der_max);
    BOOST_TEST(t.store(id_of(1), der, 1000));
    BOOST_TEST(t.find(id_of(1), out.data(), 999) == der.size());
    BOOST_TEST(std::memcmp(out.data(), der.data(), der.size()) == 0);
    BOOST_TEST(t.find(id_of(1), out.data(), 1001) == 0u, "expired");
    BOOST_TEST(t.find(id_of(2), out.data(), 999) == 0u, "another id");
    t.remove(id_of(1));
    BOOST_TEST(t.find(id_of(1), out.data(), 999) == 0u, "removed");
    std::vector<std::uint8_t> huge(shm::tls_table::session_der_max + 1);
    BOOST_TEST(!t.store(id_of(3), huge, 1000), "larger than a slot: not cached");
}

BOOST_AUTO_TEST_CASE(a_slot_left_mid_write_is_never_read_and_is_taken_over_once_its_writer_is_dead) {
    table_memory mem(4 * 2048);
    std::string reason;
    auto t = shm::tls_table::open_or_format(mem.span(), reason);
    std::vector<std::uint8_t> der(100, 1), out(shm::tls_table::session_der_max);
    BOOST_TEST(t.store(id_of(7), der, 1000));
    // Find the slot and make it look like a writer is in the middle of an update.
    auto* slots = reinterpret_cast<shm::session_slot*>(reinterpret_cast<std::byte*>(&t.header()) + sizeof(shm::tls_table_header));
    shm::session_slot* s = nullptr;
    for (std::uint32_t i = 0; i < t.slots(); ++i)
        if (slots[i].der_len) s = &slots[i];
    BOOST_TEST_REQUIRE(s != nullptr);
    const std::uint64_t live_writer = (std::uint64_t{3} << 32) | static_cast<std::uint32_t>(::getppid());
    shm::store(s->state, live_writer);
    BOOST_TEST(t.find(id_of(7), out.data(), 999) == 0u, "an odd slot is not read");
    BOOST_TEST(!t.store(id_of(7), der, 1000), "a live writer's slot is left alone");
    shm::store(s->state, (std::uint64_t{3} << 32) | static_cast<std::uint32_t>(dead_pid()));
    BOOST_TEST(t.store(id_of(7), der, 2000), "a dead writer's slot is taken over");
    BOOST_TEST(t.find(id_of(7), out.data(), 1500) == der.size());
}

BOOST_AUTO_TEST_CASE(publishing_a_key_keeps_the_current_one_as_previous) {
    table_memory mem(4 * 2048);
    std::string reason;
    auto t = shm::tls_table::open_or_format(mem.span(), reason);
    BOOST_TEST(!t.has_keys());
    shm::ticket_key a{}, b{};
    std::memset(&a, 0x11, sizeof a);
    std::memset(&b, 0x22, sizeof b);
    t.publish_key(a, 100);
    t.publish_key(b, 200);
    BOOST_TEST(t.has_keys());
    BOOST_TEST(t.rotated_at() == 200);
    shm::ticket_key keys[2];
    t.read_keys(keys);
    BOOST_TEST(keys[0].name[0] == 0x22);
    BOOST_TEST(keys[1].name[0] == 0x11);
    // A table formatted by an earlier run is reused, keys and all.
    auto again = shm::tls_table::open_or_format(mem.span(), reason);
    BOOST_TEST(reason.empty());
    BOOST_TEST(again.rotated_at() == 200);
}

BOOST_AUTO_TEST_SUITE_END()
