/* Not rpmalloc: a tree in rpmalloc's layout for tlsleak's tests (tests/integration/
 * test_alloc_checks.py), whose malloc hands every call to the C library's. It has what the
 * rpmalloc recipe and check read: RPMALLOC_VERSION here, malloc.c included by rpmalloc.c
 * (rpmalloc 1.4+), and rpmalloc_initialize defined beside malloc. */
#define RPMALLOC_VERSION "2.0.1"

int rpmalloc_initialize(void);
