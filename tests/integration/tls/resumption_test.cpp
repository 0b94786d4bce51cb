// tls/resumption: a session made on one worker resumes on another, by ticket (keys in shared memory)
// and by session id (the shared session cache); a ticket survives one ticket key rotation; both survive
// a reload and a live upgrade (tls.shm is mapped again by path).
#include <boost/test/unit_test.hpp>

#include <set>

#include "harness/origin.hpp"
#include "tls/tls_fixture.hpp"

using namespace bulwark::test;
using namespace bulwark::test::tls;

namespace {

// Connects with the saved session until a worker other than the one that made it answers; every
// connection must resume. Returns the number of distinct workers that resumed it.
std::size_t resume_on_other_workers(bulwark_process& bw, const std::string& args, const std::string& session) {
    auto first = s_client(bw.port(), args + " -sess_out " + session, get_close);
    BOOST_TEST_REQUIRE(has(first.out, "HTTP/1.1 200"), first.out);
    BOOST_TEST(has(first.out, "New,"), first.out);
    const int maker = last_handshake_pid(bw);
    std::set<int> resumed_on;
    for (int i = 0; i < 24 && resumed_on.size() < 2; ++i) {
        auto r = s_client(bw.port(), args + " -sess_in " + session, get_close);
        bool resumed = false;
        int pid = last_handshake_pid(bw, &resumed);
        BOOST_TEST(has(r.out, "Reused,"), "connection " << i << " on worker " << pid << ": " << r.out);
        BOOST_TEST(resumed);
        resumed_on.insert(pid);
    }
    resumed_on.erase(maker);
    BOOST_TEST(!resumed_on.empty(), "no connection landed on a worker other than " << maker);
    return resumed_on.size();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tls_resumption)

BOOST_AUTO_TEST_CASE(ticket_from_one_worker_resumes_on_another) {
    origin o("a");
    bulwark_process bw;
    start_debug(bw, tls_options(o.address(), 4, "session_cache = off\n"));
    resume_on_other_workers(bw, "-servername a.test -tls1_3", bw.file("ticket.sess"));
    resume_on_other_workers(bw, "-servername a.test -tls1_2", bw.file("ticket12.sess"));
}

BOOST_AUTO_TEST_CASE(session_id_from_one_worker_resumes_on_another_through_the_shared_cache) {
    origin o("a");
    bulwark_process bw;
    start_debug(bw, tls_options(o.address(), 4, "session_tickets = off\n"));
    resume_on_other_workers(bw, "-servername a.test -tls1_2 -no_ticket", bw.file("id.sess"));
}

BOOST_AUTO_TEST_CASE(ticket_issued_before_a_key_rotation_still_resumes_after_it) {
    origin o("a");
    bulwark_process bw;
    start_debug(bw, tls_options(o.address(), 2, "session_cache = off\nticket_key_rotation = 2s\n"));
    auto rotations = [&] {
        std::string log = bw.error_log();
        std::size_t n = 0;
        for (auto at = log.find("ticket keys rotated"); at != std::string::npos; at = log.find("ticket keys rotated", at + 1)) ++n;
        return n;
    };
    // Take the ticket just after a rotation, so that exactly one more happens before it is used.
    std::size_t before = rotations();
    BOOST_TEST_REQUIRE(wait_until([&] { return rotations() > before; }, 5s, 50ms), bw.error_log());
    const std::string session = bw.file("rot.sess");
    auto first = s_client(bw.port(), "-servername a.test -tls1_3 -sess_out " + session, get_close);
    BOOST_TEST_REQUIRE(has(first.out, "HTTP/1.1 200"), first.out);
    std::size_t issued = rotations();
    BOOST_TEST_REQUIRE(wait_until([&] { return rotations() == issued + 1; }, 5s, 50ms));
    auto after_one = s_client(bw.port(), "-servername a.test -tls1_3 -sess_in " + session, get_close);
    BOOST_TEST(has(after_one.out, "Reused,"), "the previous key still decrypts: " << after_one.out);
    BOOST_TEST_REQUIRE(wait_until([&] { return rotations() >= issued + 3; }, 8s, 50ms));
    auto stale = s_client(bw.port(), "-servername a.test -tls1_3 -sess_in " + session, get_close);
    BOOST_TEST(has(stale.out, "New,"), "a ticket older than two rotations makes a full handshake: " << stale.out);
    BOOST_TEST(has(stale.out, "HTTP/1.1 200"), stale.out);
}

BOOST_AUTO_TEST_CASE(tickets_and_cached_sessions_survive_a_reload_and_a_live_upgrade) {
    child_subreaper reaper;  // the new master outlives the old one, our child
    origin o("a");
    bulwark_process bw;
    bw.start(tls_options(o.address(), 2));
    const std::string ticket = bw.file("t.sess"), id = bw.file("id.sess");
    const std::string by_ticket = "-servername a.test -tls1_3", by_id = "-servername a.test -tls1_2 -no_ticket";
    BOOST_TEST_REQUIRE(has(s_client(bw.port(), by_ticket + " -sess_out " + ticket, get_close).out, "New,"));
    BOOST_TEST_REQUIRE(has(s_client(bw.port(), by_id + " -sess_out " + id, get_close).out, "New,"));

    auto reload = bw.run({"-c", bw.config_path(), "-s", "reload"}, 30s);
    BOOST_TEST_REQUIRE(reload.exit_code == 0, reload.out << reload.err);
    BOOST_TEST(has(s_client(bw.port(), by_ticket + " -sess_in " + ticket, get_close).out, "Reused,"), "ticket after reload");
    BOOST_TEST(has(s_client(bw.port(), by_id + " -sess_in " + id, get_close).out, "Reused,"), "session id after reload");

    auto upgrade = bw.run({"-c", bw.config_path(), "-s", "upgrade"}, 90s);
    BOOST_TEST_REQUIRE(upgrade.exit_code == 0, upgrade.out << upgrade.err << bw.diagnostics());
    auto fresh = read_pid_file(bw.pid_file_path());
    BOOST_TEST_REQUIRE(fresh.has_value());
    BOOST_TEST(bw.wait_exit(15s).has_value(), "the old master did not leave");
    bw.follow_master(*fresh);
    BOOST_TEST(has(s_client(bw.port(), by_ticket + " -sess_in " + ticket, get_close).out, "Reused,"), "ticket after upgrade");
    BOOST_TEST(has(s_client(bw.port(), by_id + " -sess_in " + id, get_close).out, "Reused,"), "session id after upgrade");
}

BOOST_AUTO_TEST_SUITE_END()
