/*
 * GLib's thread-private data, used as GLib documents it: each thread stores a block in a
 * GPrivate whose GDestroyNotify runs when the thread exits (GLib keeps GPrivate in a pthread
 * key). Threads made with g_thread_new and joined with g_thread_join, one after another; each
 * also uses GLib's own per-thread machinery (GString, g_strdup_printf, a GHashTable).
 *
 *   glib_private THREADS KEEP_BYTES
 *
 * KEEP_BYTES = 0: the notify frees the thread's 1 KiB block, and memory stays flat.
 * KEEP_BYTES > 0, the leaking twin: the notify also keeps a KEEP_BYTES block alive in a global
 * array, so memory grows by about KEEP_BYTES per thread.
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gsize keep;
static GPtrArray *kept;
G_LOCK_DEFINE_STATIC(kept);

static void notify(gpointer block) {
    g_free(block);
    if (keep > 0) {
        gpointer held = g_malloc(keep);
        memset(held, 0x5a, keep); /* resident, not just reserved */
        G_LOCK(kept);
        g_ptr_array_add(kept, held);
        G_UNLOCK(kept);
    }
}

static GPrivate block_key = G_PRIVATE_INIT(notify);

static gpointer body(gpointer data) {
    gpointer block = g_malloc(1024);
    memset(block, 0x33, 1024);
    g_private_set(&block_key, block);
    GString *s = g_string_new(NULL);
    GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (int i = 0; i < 16; i++) {
        g_string_append_printf(s, "%d:%p;", i, data);
        g_hash_table_insert(t, g_strdup_printf("k%d", i), GINT_TO_POINTER(i));
    }
    g_hash_table_unref(t);
    g_string_free(s, TRUE);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s THREADS KEEP_BYTES\n", argv[0]);
        return 2;
    }
    unsigned long threads = strtoul(argv[1], NULL, 10);
    keep = strtoul(argv[2], NULL, 10);
    kept = g_ptr_array_new();
    for (unsigned long i = 0; i < threads; i++) {
        GThread *t = g_thread_new("churn", body, GSIZE_TO_POINTER(i));
        g_thread_join(t);
    }
    printf("glib_private: %lu threads, %u blocks kept\n", threads, kept->len);
    return 0;
}
