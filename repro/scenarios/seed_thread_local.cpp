/*
 * @scenario seed_thread_local tls=cxx
 * @role scenario
 * @summary A C++ thread_local object mallocs in its ctor, frees in its dtor; std::thread churn.
 * @refs microsoft/mimalloc #944; microsoft/mimalloc #164; msys2/MINGW-packages #7096
 *
 * The motivating report, mimalloc #944, in its own shape: a thread_local object whose
 * constructor mallocs --size (1024) bytes and whose destructor frees them, touched by each
 * thread of a std::thread create/join loop, no sleep. The destructor runs from the C++
 * runtime's thread-exit list (__cxa_thread_atexit, or emutls/TLS callbacks on Windows). On
 * Windows with mimalloc the allocator's thread-exit hook ran before those destructors, so the
 * free arrived after the thread heap was gone and commit grew without bound.
 */
#include <cstdlib>
#include <memory>
#include <new>
#include <system_error>
#include <thread>

#include "repro.h"

namespace {

std::size_t block_size; // set before the first thread

struct TestObj {
    void *p;
    TestObj() : p(tl_block_new(block_size)) {}
    ~TestObj() {
        std::free(p);
    }
    TestObj(const TestObj &) = delete;
    TestObj &operator=(const TestObj &) = delete;
};

thread_local TestObj obj;

int setup(const tl_params *p) {
    block_size = static_cast<std::size_t>(p->size);
    return 0;
}

void body(tl_thread *) {
    tl_escape(obj.p); // the first use in a thread constructs it
}

// std::thread, as in the report, rather than the OS threads of the common driver.
std::unique_ptr<std::thread[]> threads;

int init_threads(std::size_t slots) {
    threads.reset(new (std::nothrow) std::thread[slots]);
    return threads ? 0 : -1;
}

int start_thread(std::size_t slot, void (*fn)(void *), void *arg) {
    try {
        threads[slot] = std::thread(fn, arg);
    } catch (const std::system_error &) {
        return -1;
    }
    return 0;
}

int join_thread(std::size_t slot) {
    try {
        threads[slot].join();
    } catch (const std::system_error &) {
        return -1;
    }
    return 0;
}

const tl_spawner std_threads = {init_threads, start_thread, join_thread, "std"};

} // namespace

int main(int argc, char **argv) {
    tl_scenario scenario{};
    scenario.name = TLSLEAK_SCENARIO;
    scenario.setup = setup;
    scenario.body = body;
    scenario.spawner = &std_threads;
    return tl_run(argc, argv, &scenario);
}
