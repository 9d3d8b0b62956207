/*
 * One thread whose teardown stops twice, for a test to look at the probe's counts meanwhile:
 * in its thread_local destructor, then in a pthread key destructor. Each stop prints a line
 * ("thread_local", "key") and waits for a byte on stdin.
 *
 *   slow_teardown
 */
#include <pthread.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

static void stop(const char *where) {
    std::printf("%s\n", where);
    std::fflush(stdout);
    char go;
    if (read(0, &go, 1) != 1)
        std::abort();
}

struct Late {
    volatile int used = 0;
    ~Late() {
        stop("thread_local");
    }
};

static thread_local Late late;
static pthread_key_t key;

static void key_dtor(void *) {
    stop("key");
}

int main() {
    if (pthread_key_create(&key, key_dtor) != 0)
        return 1;
    std::thread t([] {
        late.used = 1;
        pthread_setspecific(key, &key);
    });
    t.join();
    std::printf("joined\n");
    return 0;
}
