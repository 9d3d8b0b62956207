// libstdc++'s own types as C++ thread_local objects, with std::thread: each thread fills a
// thread_local std::string, std::vector, std::unordered_map and std::ostringstream, whose
// destructors (run by the C++ runtime at thread exit, __cxa_thread_atexit) free their memory.
//
//   cxx_thread_local THREADS KEEP_BYTES
//
// KEEP_BYTES = 0: everything is released at thread exit, memory stays flat.
// KEEP_BYTES > 0, the leaking twin: one more thread_local object whose destructor keeps a
// KEEP_BYTES block alive in a global list, so memory grows by about KEEP_BYTES per thread.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

std::size_t keep;
std::mutex kept_lock;
std::vector<std::unique_ptr<char[]>> kept;

struct Keeper {
    bool armed = false;
    ~Keeper() {
        if (!armed)
            return;
        std::unique_ptr<char[]> block(new char[keep]);
        std::fill(block.get(), block.get() + keep, 'k'); // resident, not just reserved
        std::lock_guard<std::mutex> hold(kept_lock);
        kept.push_back(std::move(block));
    }
};

thread_local std::string name;
thread_local std::vector<int> numbers;
thread_local std::unordered_map<int, std::string> table;
thread_local std::ostringstream text;
thread_local Keeper keeper;

void body(unsigned long i) {
    name.assign(200, static_cast<char>('a' + i % 26));
    numbers.assign(256, static_cast<int>(i));
    for (int k = 0; k < 16; k++)
        table[k] = name.substr(0, 40 + k);
    text << "thread " << i << ' ' << name.size() << '\n';
    if (keep > 0)
        keeper.armed = true;
}

} // namespace

int main(int argc, char **argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s THREADS KEEP_BYTES\n", argv[0]);
        return 2;
    }
    unsigned long threads = std::strtoul(argv[1], nullptr, 10);
    keep = std::strtoul(argv[2], nullptr, 10);
    for (unsigned long i = 0; i < threads; i++) {
        std::thread t(body, i);
        t.join();
    }
    std::printf("cxx_thread_local: %lu threads, %zu blocks kept\n", threads, kept.size());
    return 0;
}
