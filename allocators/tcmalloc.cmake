# gperftools tcmalloc from the system packages (Debian: libgoogle-perftools-dev): linked to
# (dynamic) and preloaded (override). The library by its soname, so LD_PRELOAD names what a
# program would load.

tlsleak_add_packaged(NAME tcmalloc PACKAGE libgoogle-perftools-dev WHAT "gperftools tcmalloc"
  HEADER gperftools/tcmalloc.h LIBRARY_NAMES libtcmalloc.so.4 tcmalloc
  VERSION_MACROS TC_VERSION_MAJOR TC_VERSION_MINOR
  MODES dynamic override)
