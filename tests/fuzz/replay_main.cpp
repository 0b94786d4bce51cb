// fuzz/replay_main: runs a libFuzzer target over stored inputs without libFuzzer, so `make check` replays
// the corpora (seeds and every crash found, kept as regressions) with the ordinary compiler. Arguments
// are corpus directories (read recursively, in name order) or single files. A failing input names
// itself on stderr before the process dies, so the log says which file to look at.
#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <unistd.h>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;

char current_input[4096];  // the file being replayed, for the signal handler

void on_fatal_signal(int sig) {
    static const char prefix[] = "replay: crashed on input ";
    (void)!::write(STDERR_FILENO, prefix, sizeof prefix - 1);
    (void)!::write(STDERR_FILENO, current_input, std::strlen(current_input));
    (void)!::write(STDERR_FILENO, "\n", 1);
    std::signal(sig, SIG_DFL);
    std::raise(sig);
}

bool collect(const char* arg, std::vector<fs::path>& out) {
    std::error_code ec;
    fs::path p(arg);
    if (fs::is_regular_file(p, ec)) {
        out.push_back(p);
        return true;
    }
    if (!fs::is_directory(p, ec)) {
        std::fprintf(stderr, "replay: %s: not a file or directory\n", arg);
        return false;
    }
    std::vector<fs::path> found;
    for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
        if (it->is_regular_file(ec)) found.push_back(it->path());
    if (ec) {
        std::fprintf(stderr, "replay: %s: %s\n", arg, ec.message().c_str());
        return false;
    }
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    std::vector<fs::path> inputs;
    for (int i = 1; i < argc; ++i)
        if (!collect(argv[i], inputs)) return 2;
    for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGABRT, SIGFPE, SIGTRAP}) std::signal(sig, on_fatal_signal);

    std::size_t count = 0;
    for (const fs::path& p : inputs) {
        std::snprintf(current_input, sizeof current_input, "%s", p.c_str());
        std::ifstream in(p, std::ios::binary);
        if (!in) {
            std::fprintf(stderr, "replay: cannot read %s\n", p.c_str());
            return 2;
        }
        std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        // Copied into an exact-size heap block so a sanitizer build catches reads past the end.
        auto* buf = new std::uint8_t[bytes.size() ? bytes.size() : 1];
        std::copy(bytes.begin(), bytes.end(), buf);
        LLVMFuzzerTestOneInput(buf, bytes.size());
        delete[] buf;
        ++count;
    }
    std::printf("replayed %zu inputs\n", count);
    return 0;
}
