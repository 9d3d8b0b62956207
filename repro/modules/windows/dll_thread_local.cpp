/*
 * The DLL of dll_thread_local: a C++ thread_local object that mallocs in its constructor and
 * frees in its destructor, as seed_thread_local does, but inside a DLL. MinGW registers the
 * destructor with the DLL's own thread-exit machinery (__cxa_thread_atexit over emutls and
 * the DLL's TLS callbacks), which runs at DLL_THREAD_DETACH beside the allocator's own hooks.
 */
#include <cstdlib>
#include <cstring>

#include "../../prim/prim.h"
#include "win_dll.h"

namespace {

std::size_t block_size;

struct Held {
    void *p = nullptr;
    Held() {
        p = std::malloc(block_size);
        if (p == nullptr)
            std::abort();
        std::memset(p, 0xA5, block_size); // every page counts in rss and commit
    }
    ~Held() {
        std::free(p);
    }
    Held(const Held &) = delete;
    Held &operator=(const Held &) = delete;
};

thread_local Held held;

void use(std::size_t size) {
    block_size = size;
    __asm__ volatile("" : : "r"(held.p) : "memory"); // first use constructs it
}

} // namespace

extern "C" PRIM_EXPORT const win_dll_api win_dll_api_object;
const win_dll_api win_dll_api_object = {use};
