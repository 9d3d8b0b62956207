"""The C library's own malloc, named when no other allocator serves it: its version is the C
library's (glibc's gnu_get_libc_version(), 2.36), reported as it is. Never built here."""
from tlsleak.families import Family

FAMILY = Family(name="system", inprocess="the C library's version (glibc: 2.36)", decode=str,
                modes=())
