# @debian-package libtbb-dev
# oneTBB's scalable allocator from the system packages (Debian: libtbb-dev), preloaded: its
# proxy library (libtbbmalloc_proxy) replaces malloc and the C++ operators, and serves them
# from libtbbmalloc. The version is oneTBB's (oneapi/tbb/version.h), e.g. 2021.8.0.

set(tlsleak_fix "apt-get install libtbb-dev (or run ci/setup.sh)")
find_path(TLSLEAK_TBB_INCLUDE_DIR oneapi/tbb/version.h)
# The runtime library by its soname, so LD_PRELOAD names what a program would load.
find_library(TLSLEAK_TBBMALLOC_PROXY_LIBRARY NAMES libtbbmalloc_proxy.so.2 tbbmalloc_proxy)

set(tlsleak_tbb_version "unknown")
if(TLSLEAK_TBB_INCLUDE_DIR)
  file(STRINGS "${TLSLEAK_TBB_INCLUDE_DIR}/oneapi/tbb/version.h" tlsleak_lines
    REGEX "^#define TBB_VERSION_(MAJOR|MINOR|PATCH) ")
  if(tlsleak_lines MATCHES "MAJOR ([0-9]+).*MINOR ([0-9]+).*PATCH ([0-9]+)")
    set(tlsleak_tbb_version "${CMAKE_MATCH_1}.${CMAKE_MATCH_2}.${CMAKE_MATCH_3}")
  endif()
endif()

if(TLSLEAK_TBB_INCLUDE_DIR AND TLSLEAK_TBBMALLOC_PROXY_LIBRARY)
  tlsleak_real_file(tlsleak_tbbmalloc_real "${TLSLEAK_TBBMALLOC_PROXY_LIBRARY}")
  tlsleak_add_config(NAME tbbmalloc VERSION "${tlsleak_tbb_version}" MODE override
    PRELOAD "${tlsleak_tbbmalloc_real}" LIBRARY "${tlsleak_tbbmalloc_real}"
    ORIGIN "system package")
else()
  tlsleak_add_config(NAME tbbmalloc VERSION "${tlsleak_tbb_version}" MODE override
    AVAILABLE FALSE REASON "oneTBB's tbbmalloc proxy not found: ${tlsleak_fix}"
    ORIGIN "system package")
endif()
