// config/loader: inih drives the syntax; our line reader counts lines (inih's shared library is built
// without line numbers in callbacks) and records section headers so empty sections are seen too.
#include "config/loader.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <ini.h>

#include "core/strings.hpp"

namespace bulwark::config {
namespace {

// Config lines keep their line end when read: trim it along with the blanks.
std::string trim(std::string_view s) { return std::string(bulwark::trim(s, " \t\r\n")); }

struct parse_state {
    const std::string* text;
    std::size_t pos = 0;
    int line = 0;
    raw_config raw;
    std::vector<diagnostic> errors;
    int current_section_line = 0;
};

void note_section_header(parse_state& st, std::string_view line) {
    std::string t = trim(line);
    if (t.empty() || t[0] != '[') return;
    auto close = t.find(']');
    if (close == std::string::npos) return;  // inih reports the syntax error
    std::string inner = trim(std::string_view(t).substr(1, close - 1));
    raw_section s;
    auto colon = inner.find(':');
    s.section = trim(inner.substr(0, colon));
    if (colon != std::string::npos) s.label = trim(inner.substr(colon + 1));
    s.line = st.line;
    st.current_section_line = st.line;
    st.raw.sections.push_back(std::move(s));
}

// inih reads an indented line after a key as a continuation of its value; operators who indent keys
// for readability would silently get one key with a folded value. We refuse indented content lines.
void refuse_continuation(parse_state& st, std::string_view line) {
    if (line.empty() || (line[0] != ' ' && line[0] != '\t')) return;
    std::string t = trim(line);
    if (t.empty() || t[0] == ';' || t[0] == '#') return;
    st.errors.push_back({st.raw.file, st.line,
                         "indented line: remove the leading whitespace (continuation lines are not supported)"});
}

// fgets-style reader over the in-memory file; inih calls it once per line.
char* read_line(char* out, int size, void* stream) {
    auto& st = *static_cast<parse_state*>(stream);
    const std::string& text = *st.text;
    if (st.pos >= text.size()) return nullptr;
    std::size_t end = text.find('\n', st.pos);
    std::size_t next = (end == std::string::npos) ? text.size() : end + 1;
    std::string_view line(text.data() + st.pos, next - st.pos);
    st.pos = next;
    ++st.line;
    auto limit = static_cast<std::size_t>(size) - 1;
    if (line.size() > limit) {
        st.errors.push_back({st.raw.file, st.line,
                             "line longer than " + std::to_string(limit - 1) + " characters"});
        line = line.substr(0, limit - 1);
        std::memcpy(out, line.data(), line.size());
        out[line.size()] = '\n';
        out[line.size() + 1] = '\0';
        return out;
    }
    std::memcpy(out, line.data(), line.size());
    out[line.size()] = '\0';
    if (line.find('\0') != std::string_view::npos)
        st.errors.push_back({st.raw.file, st.line, "NUL byte in line"});
    if (st.line == 1 && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);  // inih skips the BOM too
    refuse_continuation(st, line);
    note_section_header(st, line);
    return out;
}

int on_entry(void* user, const char* section, const char* name, const char* value) {
    auto& st = *static_cast<parse_state*>(user);
    std::string sec = section;
    raw_entry e;
    auto colon = sec.find(':');
    e.section = trim(sec.substr(0, colon));
    if (colon != std::string::npos) e.label = trim(sec.substr(colon + 1));
    e.section_line = st.current_section_line;
    e.key = name;
    e.value = value;
    e.line = st.line;
    if (sec.empty()) {
        st.errors.push_back({st.raw.file, st.line, "key '" + e.key + "' outside of any section"});
        return 1;
    }
    st.raw.entries.push_back(std::move(e));
    return 1;
}

}  // namespace

load_result load_text(const std::string& text, const std::string& file_name) {
    parse_state st;
    st.text = &text;
    st.raw.file = file_name;
    int rc = ini_parse_stream(read_line, &st, on_entry, &st);
    // inih returns the first syntax error's line; the others are repeats of the same problem.
    if (rc > 0) st.errors.push_back({file_name, rc, "syntax error: expected [section] or key = value"});
    if (!st.errors.empty()) return {nullptr, std::move(st.errors)};
    return validate(st.raw);
}

load_result load_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {nullptr, {{path, 0, std::string("cannot open: ") + std::strerror(errno)}}};
    std::ostringstream buf;
    buf << in.rdbuf();
    return load_text(buf.str(), path);
}

}  // namespace bulwark::config
