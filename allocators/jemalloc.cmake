# @debian-package libjemalloc-dev
# @debian-source jemalloc
# jemalloc from the system packages (Debian: libjemalloc-dev): linked to (dynamic), preloaded
# (override), and linked into the executable from libjemalloc.a (static).

set(tlsleak_fix "apt-get install libjemalloc-dev (or run ci/setup.sh)")
find_path(TLSLEAK_JEMALLOC_INCLUDE_DIR jemalloc/jemalloc.h)
find_library(TLSLEAK_JEMALLOC_LIBRARY NAMES jemalloc)
find_library(TLSLEAK_JEMALLOC_STATIC_LIBRARY NAMES libjemalloc.a)

set(tlsleak_jemalloc_version "unknown")
if(TLSLEAK_JEMALLOC_INCLUDE_DIR)
  file(STRINGS "${TLSLEAK_JEMALLOC_INCLUDE_DIR}/jemalloc/jemalloc.h" tlsleak_lines
    REGEX "^#define JEMALLOC_VERSION_(MAJOR|MINOR|BUGFIX) ")
  string(REGEX REPLACE ".*MAJOR ([0-9]+).*MINOR ([0-9]+).*BUGFIX ([0-9]+).*" "\\1.\\2.\\3"
    tlsleak_jemalloc_version "${tlsleak_lines}")
endif()

if(TLSLEAK_JEMALLOC_INCLUDE_DIR AND TLSLEAK_JEMALLOC_LIBRARY)
  tlsleak_real_file(tlsleak_jemalloc_real "${TLSLEAK_JEMALLOC_LIBRARY}")
  tlsleak_add_variant(VARIANT "jemalloc-${tlsleak_jemalloc_version}-dynamic"
    LINK_LIBRARIES "${TLSLEAK_JEMALLOC_LIBRARY}"
    LINK_OPTIONS "-Wl,--no-as-needed") # keep the library even if nothing names mallctl
  tlsleak_add_config(NAME jemalloc VERSION "${tlsleak_jemalloc_version}" MODE dynamic
    LIBRARY "${tlsleak_jemalloc_real}" ORIGIN "system package")
  tlsleak_add_config(NAME jemalloc VERSION "${tlsleak_jemalloc_version}" MODE override
    PRELOAD "${tlsleak_jemalloc_real}" LIBRARY "${tlsleak_jemalloc_real}"
    ORIGIN "system package")
else()
  foreach(tlsleak_mode dynamic override)
    tlsleak_add_config(NAME jemalloc VERSION "${tlsleak_jemalloc_version}" MODE ${tlsleak_mode}
      AVAILABLE FALSE REASON "jemalloc not found: ${tlsleak_fix}" ORIGIN "system package")
  endforeach()
endif()

if(TLSLEAK_JEMALLOC_INCLUDE_DIR AND TLSLEAK_JEMALLOC_STATIC_LIBRARY)
  find_package(Threads REQUIRED)
  # A plain archive, not a whole one: its C++ operators (jemalloc_cpp.o) then come in only for
  # C++ programs. -u malloc pulls in the C half even for a program whose only malloc calls are
  # in tlsleak_common, which links after it. mallctl keeps default visibility, so the
  # programs' ENABLE_EXPORTS is all run-time identification needs.
  tlsleak_add_variant(VARIANT "jemalloc-${tlsleak_jemalloc_version}-static"
    LINK_LIBRARIES "${TLSLEAK_JEMALLOC_STATIC_LIBRARY}" Threads::Threads ${CMAKE_DL_LIBS} m
    LINK_OPTIONS "-Wl,--undefined=malloc")
  tlsleak_add_config(NAME jemalloc VERSION "${tlsleak_jemalloc_version}" MODE static
    LIBRARY "${TLSLEAK_JEMALLOC_STATIC_LIBRARY}" ORIGIN "system package")
else()
  tlsleak_add_config(NAME jemalloc VERSION "${tlsleak_jemalloc_version}" MODE static
    AVAILABLE FALSE REASON "libjemalloc.a not found: ${tlsleak_fix}" ORIGIN "system package")
endif()
