// OpenSSL's per-thread state: each thread draws random bytes (RAND_bytes: OpenSSL 3 keeps a
// DRBG per thread), hashes them (an EVP digest context) and touches its error queue; OpenSSL
// frees that state itself when the thread exits (its own thread-exit key). Threads are
// std::thread or POSIX threads, created and joined one after another.
//
//   openssl_threads THREADS std|pthread KEEP_BYTES
//
// KEEP_BYTES = 0: every context is freed, OpenSSL's per-thread state goes at thread exit.
// KEEP_BYTES > 0, the leaking twin: each thread forgets its digest context and a KEEP_BYTES
// OPENSSL_malloc'd block, so memory grows by a little more than KEEP_BYTES per thread.
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace {

std::size_t keep;

void body() {
    unsigned char random[64];
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (RAND_bytes(random, sizeof random) != 1)
        std::abort();
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == nullptr || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1 ||
        EVP_DigestUpdate(ctx, random, sizeof random) != 1 ||
        EVP_DigestFinal_ex(ctx, digest, &length) != 1)
        std::abort();
    ERR_clear_error();
    if (keep == 0) {
        EVP_MD_CTX_free(ctx);
        return;
    }
    void *block = OPENSSL_malloc(keep); // forgotten, with the context
    if (block == nullptr)
        std::abort();
    std::memset(block, 0x5a, keep); // resident, not just reserved
}

void *pthread_body(void *) {
    body();
    return nullptr;
}

} // namespace

int main(int argc, char **argv) {
    bool posix = argc == 4 && std::strcmp(argv[2], "pthread") == 0;
    if (argc != 4 || (!posix && std::strcmp(argv[2], "std") != 0)) {
        std::fprintf(stderr, "usage: %s THREADS std|pthread KEEP_BYTES\n", argv[0]);
        return 2;
    }
    unsigned long threads = std::strtoul(argv[1], nullptr, 10);
    keep = std::strtoul(argv[3], nullptr, 10);
    for (unsigned long i = 0; i < threads; i++) {
        if (posix) {
            pthread_t t;
            if (pthread_create(&t, nullptr, pthread_body, nullptr) != 0)
                return 1;
            pthread_join(t, nullptr);
        } else {
            std::thread t(body);
            t.join();
        }
    }
    std::printf("openssl_threads: %lu threads\n", threads);
    return 0;
}
