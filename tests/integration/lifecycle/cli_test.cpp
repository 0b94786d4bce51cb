// lifecycle/cli: `-t` validates a config (exit 0 and `configuration OK`, or exit 1 with `FILE:LINE:`
// diagnostics naming the right lines) and `-V` prints the version.
#include <boost/test/unit_test.hpp>

#include <regex>
#include <string>

#include "harness/bulwark_process.hpp"
#include "harness/origin.hpp"

using namespace bulwark::test;

namespace {

// A valid config to which the cases add one mistake at a known line.
//  1 [global]
//  2 workers = 1
//  3 pid_file = bulwark.pid
//  4 error_log = error.log
//  5 user = nobody
//  6
//  7 [listener:main]
//  8 bind = 127.0.0.1:PORT
//  9
// 10 [upstream:backend]
// 11 server = 127.0.0.1:9
// 12
// 13 [route:all]
// 14 upstream = backend
std::string numbered_config(std::uint16_t port, const std::string& line2 = "workers = 1",
                            const std::string& line5 = "user = nobody",
                            const std::string& line14 = "upstream = backend") {
    return "[global]\n" + line2 + "\npid_file = bulwark.pid\nerror_log = error.log\n" + line5 +
           "\n\n[listener:main]\nbind = 127.0.0.1:" + std::to_string(port) +
           "\n\n[upstream:backend]\nserver = 127.0.0.1:9\n\n[route:all]\n" + line14 + "\n";
}

command_result check(bulwark_process& bw) { return bw.run({"-t", "-c", bw.config_path()}, std::chrono::seconds(10)); }

bool names_line(const command_result& r, const bulwark_process& bw, int line) {
    return r.err.find(bw.config_path() + ":" + std::to_string(line) + ":") != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(lifecycle_cli)

BOOST_AUTO_TEST_CASE(check_of_good_config_prints_configuration_ok_and_exits_0) {
    bulwark_process bw;
    bw.write_config(bw.config(config_options::with_servers({"127.0.0.1:9"})));
    auto r = check(bw);
    BOOST_TEST(r.exit_code == 0, "stderr: " << r.err);
    BOOST_TEST(r.out.find("configuration OK") != std::string::npos, "stdout: " << r.out);

    bw.write_config(numbered_config(bw.port()));
    auto r2 = check(bw);
    BOOST_TEST(r2.exit_code == 0, "stderr: " << r2.err);
    BOOST_TEST(r2.out.find("configuration OK") != std::string::npos, "stdout: " << r2.out);
}

BOOST_AUTO_TEST_CASE(check_reports_unknown_key_with_its_line) {
    bulwark_process bw;
    bw.write_config(numbered_config(bw.port(), "workers = 1", "frobnicate = yes"));
    auto r = check(bw);
    BOOST_TEST(r.exit_code == 1);
    BOOST_TEST(names_line(r, bw, 5), "stderr: " << r.err);
    BOOST_TEST(r.err.find("frobnicate") != std::string::npos, "stderr: " << r.err);
    BOOST_TEST(r.out.find("configuration OK") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(check_reports_bad_value_with_its_line) {
    bulwark_process bw;
    bw.write_config(numbered_config(bw.port(), "workers = lots"));
    auto r = check(bw);
    BOOST_TEST(r.exit_code == 1);
    BOOST_TEST(names_line(r, bw, 2), "stderr: " << r.err);
    BOOST_TEST(r.err.find("lots") != std::string::npos, "stderr: " << r.err);
    BOOST_TEST(r.out.find("configuration OK") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(check_reports_undefined_upstream_with_its_line) {
    bulwark_process bw;
    bw.write_config(numbered_config(bw.port(), "workers = 1", "user = nobody", "upstream = nowhere"));
    auto r = check(bw);
    BOOST_TEST(r.exit_code == 1);
    BOOST_TEST(names_line(r, bw, 14), "stderr: " << r.err);
    BOOST_TEST(r.err.find("nowhere") != std::string::npos, "stderr: " << r.err);
}

BOOST_AUTO_TEST_CASE(check_reports_every_error_not_just_the_first) {
    bulwark_process bw;
    bw.write_config(numbered_config(bw.port(), "workers = lots", "frobnicate = yes", "upstream = nowhere"));
    auto r = check(bw);
    BOOST_TEST(r.exit_code == 1);
    // All three mistakes are reported in one run, each as FILE:LINE: message (a summary line that
    // does not start with the file name may follow).
    BOOST_TEST(names_line(r, bw, 2), "stderr: " << r.err);
    BOOST_TEST(names_line(r, bw, 5), "stderr: " << r.err);
    BOOST_TEST(names_line(r, bw, 14), "stderr: " << r.err);
    std::regex diag("^" + std::regex_replace(bw.config_path(), std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                    R"(:\d+: .+)");
    std::size_t start = 0;
    int diagnostics = 0;
    while (start < r.err.size()) {
        auto end = r.err.find('\n', start);
        if (end == std::string::npos) end = r.err.size();
        std::string line = r.err.substr(start, end - start);
        if (line.starts_with(bw.config_path() + ":")) {
            ++diagnostics;
            BOOST_TEST(std::regex_match(line, diag), "not a FILE:LINE: message line: " << line);
        }
        start = end + 1;
    }
    BOOST_TEST(diagnostics >= 3, "stderr: " << r.err);
}

BOOST_AUTO_TEST_CASE(version_flag_prints_a_version) {
    auto r = run_command({bulwark_bin(), "-V"}, std::chrono::seconds(10));
    BOOST_TEST(r.exit_code == 0);
    std::smatch m;
    std::string all = r.out + r.err;
    BOOST_TEST(std::regex_search(all, m, std::regex(R"(bulwark version \d+\.\d+)")), "output: " << all);
}

BOOST_AUTO_TEST_SUITE_END()
