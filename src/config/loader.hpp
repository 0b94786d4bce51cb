// config/loader: reads an INI file into a validated config, collecting every error as FILE:LINE: reason.
#pragma once

#include <string>
#include <vector>

#include "config/model.hpp"

namespace bulwark::config {

struct diagnostic {
    std::string file;
    int line = 0;
    std::string message;
    std::string text() const { return file + ":" + std::to_string(line) + ": " + message; }
};

struct load_result {
    snapshot cfg;  // null when errors is not empty
    std::vector<diagnostic> errors;
};

/// One `key = value` as read, before typing; repeated keys stay separate entries.
struct raw_entry {
    std::string section;  // "global", "listener", ...
    std::string label;    // NAME in [listener:NAME]; empty for unnamed sections
    int section_line = 0;
    std::string key;
    std::string value;
    int line = 0;
};

struct raw_section {
    std::string section;
    std::string label;
    int line = 0;
};

struct raw_config {
    std::string file;
    std::vector<raw_section> sections;
    std::vector<raw_entry> entries;
};

/// Reads and validates `path`. Never throws; I/O and syntax problems come back as diagnostics.
load_result load_file(const std::string& path);
/// Same, from text (used by tests and by reload when the master already holds the bytes).
load_result load_text(const std::string& text, const std::string& file_name);

/// Second phase, separated for testing: types, ranges and cross-references.
load_result validate(const raw_config& raw);

}  // namespace bulwark::config
