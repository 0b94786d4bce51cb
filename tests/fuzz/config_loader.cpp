// fuzz/config_loader: load_text on arbitrary text. It must neither crash nor throw (it promises to
// report everything as diagnostics), a config comes back exactly when there is no error, and every
// diagnostic names the file and a line that exists (0 for the file as a whole). The same text loads
// the same way twice.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/loader.hpp"
#include "fuzz_check.hpp"

namespace config = bulwark::config;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(bytes), size);
    const std::string file = "fuzz.ini";
    int lines = 1;
    for (char c : text) lines += c == '\n';

    config::load_result r = config::load_text(text, file);
    FUZZ_CHECK((r.cfg == nullptr) == !r.errors.empty());
    for (const config::diagnostic& d : r.errors) {
        FUZZ_CHECK(d.line >= 0);
        FUZZ_CHECK(d.line <= lines);
        FUZZ_CHECK(d.file == file);
        FUZZ_CHECK(!d.message.empty());
    }

    config::load_result again = config::load_text(text, file);
    FUZZ_CHECK(again.errors.size() == r.errors.size());
    for (std::size_t i = 0; i < r.errors.size(); ++i) FUZZ_CHECK(again.errors[i].text() == r.errors[i].text());
    return 0;
}
