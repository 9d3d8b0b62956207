/*
 * A stand-in for mimalloc's prebuilt redirect module (upstream's bin/mimalloc-redirect.dll,
 * which no test may fetch): the two functions mimalloc.dll imports from it, doing nothing, so
 * malloc is NOT redirected. A `redirect` configuration built with it must be an `error`: the
 * in-process check finds that mimalloc does not own a fresh malloc block.
 */
#include <stdbool.h>

__declspec(dllexport) bool mi_allocator_init(const char **message) {
    *message = "tlsleak test stand-in: nothing redirected";
    return true;
}

__declspec(dllexport) void mi_allocator_done(void) {}
