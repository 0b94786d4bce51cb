// config/docs: the schema is the only list of keys; this test keeps man/bulwark.ini.5 and
// conf/bulwark.ini in step with it (h2o's t/60find-doc.t does the same for its directives).
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "config/loader.hpp"
#include "config/schema.hpp"
#include "config/values.hpp"

namespace cfg = bulwark::config;

namespace {

#ifndef BULWARK_SRCDIR
#define BULWARK_SRCDIR "."
#endif

std::vector<std::string> read_lines(const std::string& path, bool& found) {
    std::vector<std::string> lines;
    std::ifstream in(path);
    found = static_cast<bool>(in);
    std::string line;
    while (std::getline(in, line)) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
        lines.push_back(line);
    }
    return lines;
}

std::string section_title(const cfg::section_spec& s) {
    return "[" + std::string(s.name) + (s.named ? ":NAME]" : "]");
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) out += "\n  " + i;
    return out;
}

// ---- man page ----

bool is_heading(const std::string& line) { return line.starts_with(".SS") || line.starts_with(".SH"); }

bool is_tp(const std::string& line) { return line == ".TP" || line.starts_with(".TP "); }

// Index of the line `.SS [SECTION]` / `.SS [SECTION:NAME]`, or -1.
long find_subsection(const std::vector<std::string>& man, const cfg::section_spec& s) {
    const std::string want = ".SS " + section_title(s);
    for (std::size_t i = 0; i < man.size(); ++i)
        if (man[i] == want) return static_cast<long>(i);
    return -1;
}

// True when a `.TP` paragraph tagged exactly `.B KEY` appears under the subsection at `start`.
bool man_documents(const std::vector<std::string>& man, long start, std::string_view key) {
    const std::string tag = ".B " + std::string(key);
    for (std::size_t i = static_cast<std::size_t>(start) + 1; i < man.size() && !is_heading(man[i]); ++i) {
        if (!is_tp(man[i])) continue;
        std::size_t j = i + 1;
        while (j < man.size() && man[j].starts_with(".\\\"")) ++j;  // skip roff comments
        if (j < man.size() && man[j] == tag) return true;
    }
    return false;
}

// ---- example config ----

// If `line` is a section header, active (`[x...]`) or commented (`;[x...]`, `; [x...]`), returns the
// section kind ("listener" for [listener:web]); otherwise an empty string.
std::string header_kind(std::string_view line) {
    if (line.starts_with(";")) {
        line.remove_prefix(1);
        while (line.starts_with(" ")) line.remove_prefix(1);
    }
    if (!line.starts_with("[")) return {};
    auto close = line.find(']');
    if (close == std::string_view::npos) return {};
    std::string_view inner = line.substr(1, close - 1);
    return std::string(inner.substr(0, inner.find(':')));
}

// `KEY = ...`, `;KEY = ...` or `; KEY = ...`.
bool is_key_line(std::string_view line, std::string_view key) {
    if (line.starts_with("; ")) line.remove_prefix(2);
    else if (line.starts_with(";")) line.remove_prefix(1);
    if (!line.starts_with(key)) return false;
    line.remove_prefix(key.size());
    while (line.starts_with(" ") || line.starts_with("\t")) line.remove_prefix(1);
    return line.starts_with("=");
}

bool conf_shows(const std::vector<std::string>& conf, std::string_view section, std::string_view key) {
    std::string current;
    for (const auto& line : conf) {
        std::string kind = header_kind(line);
        if (!kind.empty()) {
            current = kind;
            continue;
        }
        if (current == section && is_key_line(line, key)) return true;
    }
    return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config_docs)

BOOST_AUTO_TEST_CASE(man_page_documents_every_section_and_key) {
    const std::string path = std::string(BULWARK_SRCDIR) + "/man/bulwark.ini.5";
    bool found = false;
    auto man = read_lines(path, found);
    BOOST_TEST_REQUIRE(found, "cannot read " << path << ": every config key must be documented there");

    std::vector<std::string> missing_sections, missing_keys;
    for (const auto& s : cfg::sections())
        if (find_subsection(man, s) < 0) missing_sections.push_back(".SS " + section_title(s));
    for (const auto& k : cfg::keys()) {
        const cfg::section_spec* s = cfg::find_section(k.section);
        BOOST_TEST_REQUIRE(s != nullptr);
        long at = find_subsection(man, *s);
        if (at < 0 || !man_documents(man, at, k.name))
            missing_keys.push_back(section_title(*s) + " " + std::string(k.name) + " (.TP then .B " +
                                   std::string(k.name) + " under .SS " + section_title(*s) + ")");
    }
    BOOST_TEST(missing_sections.empty(), path << " lacks the subsection lines:" << join(missing_sections));
    BOOST_TEST(missing_keys.empty(), path << " does not document the keys:" << join(missing_keys));
}

BOOST_AUTO_TEST_CASE(example_config_shows_every_key) {
    const std::string path = std::string(BULWARK_SRCDIR) + "/conf/bulwark.ini";
    bool found = false;
    auto conf = read_lines(path, found);
    BOOST_TEST_REQUIRE(found, "cannot read " << path << ": every config key must appear there");

    std::vector<std::string> missing;
    for (const auto& k : cfg::keys()) {
        const cfg::section_spec* s = cfg::find_section(k.section);
        BOOST_TEST_REQUIRE(s != nullptr);
        if (!conf_shows(conf, k.section, k.name))
            missing.push_back(section_title(*s) + " " + std::string(k.name));
    }
    BOOST_TEST(missing.empty(), path << " does not show (as `KEY = ...` or `;KEY = ...` under its section):"
                                     << join(missing));
}

BOOST_AUTO_TEST_CASE(example_config_values_are_valid) {
    // The shipped example must load as it is, and every value shown (commented or not) must be one
    // bulwark accepts, so that uncommenting a line never produces an error.
    const std::string path = std::string(BULWARK_SRCDIR) + "/conf/bulwark.ini";
    auto loaded = cfg::load_file(path);
    std::vector<std::string> errors;
    for (const auto& d : loaded.errors) errors.push_back(d.text());
    BOOST_TEST(errors.empty(), path << " does not load:" << join(errors));

    bool found = false;
    auto conf = read_lines(path, found);
    BOOST_TEST_REQUIRE(found, "cannot read " << path);
    std::vector<std::string> bad;
    std::string current;
    for (std::size_t i = 0; i < conf.size(); ++i) {
        std::string kind = header_kind(conf[i]);
        if (!kind.empty()) {
            current = kind;
            continue;
        }
        for (const auto& k : cfg::keys()) {
            if (k.section != current || !is_key_line(conf[i], k.name)) continue;
            std::string_view value = conf[i];
            value.remove_prefix(value.find('=') + 1);
            auto comment = value.find(" ;");
            if (comment != std::string_view::npos) value = value.substr(0, comment);
            while (value.starts_with(" ") || value.starts_with("\t")) value.remove_prefix(1);
            while (value.ends_with(" ") || value.ends_with("\t")) value.remove_suffix(1);
            std::string why = cfg::check_value(k, value);
            if (!why.empty())
                bad.push_back(path + ":" + std::to_string(i + 1) + ": " + std::string(k.name) + " = " +
                              std::string(value) + ": " + why);
        }
    }
    BOOST_TEST(bad.empty(), "example values bulwark would refuse:" << join(bad));
}

BOOST_AUTO_TEST_CASE(demo_config_is_valid) {
    const std::string path = std::string(BULWARK_SRCDIR) + "/conf/demo.ini";
    auto loaded = cfg::load_file(path);
    std::vector<std::string> errors;
    for (const auto& d : loaded.errors) errors.push_back(d.text());
    BOOST_TEST(errors.empty(), path << " (used by make run) does not load:" << join(errors));
}

BOOST_AUTO_TEST_SUITE_END()
