/*
 * An ordinary C++ program, unaware of tlsleak: std::thread created one after another, each
 * with a thread_local object whose constructor mallocs a block and whose destructor frees it,
 * unless the program was asked to leak (the shape of microsoft/mimalloc#944).
 *
 *   churn_std_thread THREADS LEAK_BYTES [join|detach]
 *
 * LEAK_BYTES > 0: the block is that big and the destructor keeps it (a leak of LEAK_BYTES per
 * thread). LEAK_BYTES = 0, the twin: a 2048-byte block, freed.
 * detach: threads are detached; main waits for each body to end before the next, and ends
 * with pthread_exit so the process lives until the last thread is gone.
 */
#include <pthread.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

static std::size_t leak;

struct Holder {
    char *block;
    Holder() {
        std::size_t size = leak > 0 ? leak : 2048;
        block = static_cast<char *>(std::malloc(size));
        if (block == nullptr)
            std::abort();
        std::memset(block, 0x5a, size); // resident, not just reserved
    }
    ~Holder() {
        if (leak == 0)
            std::free(block);
    }
};

static thread_local Holder holder;
static std::mutex mutex;
static std::condition_variable cv;
static unsigned long bodies;

static void body() {
    volatile char c = holder.block[0]; // constructs the thread_local in this thread
    (void)c;
    std::lock_guard<std::mutex> lock(mutex);
    bodies++;
    cv.notify_one();
}

int main(int argc, char **argv) {
    std::string mode = argc == 4 ? argv[3] : "join";
    if (argc < 3 || argc > 4 || (mode != "join" && mode != "detach")) {
        std::fprintf(stderr, "usage: %s THREADS LEAK_BYTES [join|detach]\n", argv[0]);
        return 2;
    }
    unsigned long threads = std::strtoul(argv[1], nullptr, 10);
    leak = std::strtoul(argv[2], nullptr, 10);
    for (unsigned long i = 0; i < threads; i++) {
        std::thread t(body);
        if (mode == "detach") {
            t.detach();
            std::unique_lock<std::mutex> lock(mutex);
            cv.wait(lock, [i] { return bodies > i; });
        } else {
            t.join();
        }
    }
    std::printf("done %lu threads\n", threads);
    std::fflush(stdout);
    if (mode == "detach")
        pthread_exit(nullptr);
    return 0;
}
