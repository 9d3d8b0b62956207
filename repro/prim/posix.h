/*
 * What the POSIX tier (posix.c) gives the platform files built on it (linux.c, darwin.c), and
 * nothing else includes.
 */
#ifndef TLSLEAK_PRIM_POSIX_H
#define TLSLEAK_PRIM_POSIX_H

#include "prim.h"

/* The page size, read by prim_init. */
uint64_t prim_posix_page_size(void);

/* prim_module_path once the platform file has the executable's real path (exe, which it may
 * overwrite): the module beside it. */
int prim_posix_module_path(char *exe, const char *name, char *buf, size_t size);

#endif
