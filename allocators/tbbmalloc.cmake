# oneTBB's scalable allocator from the system packages (Debian: libtbb-dev), preloaded: its
# proxy library (libtbbmalloc_proxy) replaces malloc and the C++ operators, and serves them
# from libtbbmalloc. The version is oneTBB's (oneapi/tbb/version.h), e.g. 2021.8.0. The proxy
# by its soname, so LD_PRELOAD names what a program would load.

tlsleak_add_packaged(NAME tbbmalloc PACKAGE libtbb-dev WHAT "oneTBB's tbbmalloc proxy"
  HEADER oneapi/tbb/version.h LIBRARY_NAMES libtbbmalloc_proxy.so.2 tbbmalloc_proxy
  VERSION_MACROS TBB_VERSION_MAJOR TBB_VERSION_MINOR TBB_VERSION_PATCH
  MODES override)
