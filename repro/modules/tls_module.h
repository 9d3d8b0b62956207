/*
 * The interface of tls_module, the shared library that the dlopen_module scenario loads and
 * unloads: one exported object, found by name, so no function pointer has to pass through a
 * data pointer.
 */
#ifndef TLSLEAK_TLS_MODULE_H
#define TLSLEAK_TLS_MODULE_H

#include "repro.h"

#define TLS_MODULE_FILE "tls_module" /* beside the executable, with the platform's suffix */
#define TLS_MODULE_API "tls_module"  /* the exported tls_module_api object */

typedef struct tls_module_api {
    int (*load)(void);         /* after loading: create the module's key; 0 = ok */
    void (*unload)(void);      /* before unloading: delete it */
    void (*use)(tl_thread *t); /* in a thread: hold a --size block under the module's key */
} tls_module_api;

#endif
