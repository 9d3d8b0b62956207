/*
 * The seed program of microsoft/mimalloc#944, unmodified in shape: an endless std::thread
 * create/join loop, about 100 ms per thread, and a thread_local object that mallocs 1 KiB in
 * its constructor and frees it in its destructor.
 * https://github.com/microsoft/mimalloc/issues/944
 *
 *   seed_944 [THREADS [MS]]    THREADS 0 (default) = forever; MS per thread (default 100)
 */
#include <chrono>
#include <cstdlib>
#include <thread>

struct Block {
    void *p;
    Block() : p(std::malloc(1024)) {}
    ~Block() {
        std::free(p);
    }
};

static thread_local Block block;

int main(int argc, char **argv) {
    unsigned long threads = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 0;
    unsigned long ms = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 100;
    for (unsigned long i = 0; threads == 0 || i < threads; i++) {
        std::thread t([ms] {
            volatile void *p = block.p;
            (void)p;
            std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        });
        t.join();
    }
    return 0;
}
