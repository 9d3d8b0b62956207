/*
 * The physical limit for `tlsleak bench`: a bare pthread create/join loop, no TLS, no malloc
 * in the thread, no checkpoints. Usage: bare_churn THREADS. Prints the rate it reached.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void *nothing(void *arg) {
    return arg;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 10000;
    if (n <= 0) {
        fprintf(stderr, "usage: bare_churn THREADS\n");
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, nothing, NULL) != 0 || pthread_join(t, NULL) != 0) {
            fprintf(stderr, "bare_churn: thread %ld failed\n", i);
            return 1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%ld threads in %.3f s: %.0f threads/s\n", n, s, (double)n / s);
    return 0;
}
