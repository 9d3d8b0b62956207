# @debian-package libgoogle-perftools-dev
# @debian-source google-perftools
# gperftools tcmalloc from the system packages (Debian: libgoogle-perftools-dev): linked to
# (dynamic) and preloaded (override).

set(tlsleak_fix "apt-get install libgoogle-perftools-dev (or run ci/setup.sh)")
find_path(TLSLEAK_TCMALLOC_INCLUDE_DIR gperftools/tcmalloc.h)
# The runtime library by its soname, so LD_PRELOAD names what a program would load.
find_library(TLSLEAK_TCMALLOC_LIBRARY NAMES libtcmalloc.so.4 tcmalloc)

set(tlsleak_tcmalloc_version "unknown")
if(TLSLEAK_TCMALLOC_INCLUDE_DIR)
  file(STRINGS "${TLSLEAK_TCMALLOC_INCLUDE_DIR}/gperftools/tcmalloc.h" tlsleak_lines
    REGEX "^#define TC_VERSION_(MAJOR|MINOR) ")
  string(REGEX REPLACE ".*MAJOR +([0-9]+).*MINOR +([0-9]+).*" "\\1.\\2"
    tlsleak_tcmalloc_version "${tlsleak_lines}")
endif()

if(TLSLEAK_TCMALLOC_INCLUDE_DIR AND TLSLEAK_TCMALLOC_LIBRARY)
  tlsleak_real_file(tlsleak_tcmalloc_real "${TLSLEAK_TCMALLOC_LIBRARY}")
  tlsleak_add_variant(VARIANT "tcmalloc-${tlsleak_tcmalloc_version}-dynamic"
    LINK_LIBRARIES "${TLSLEAK_TCMALLOC_LIBRARY}"
    LINK_OPTIONS "-Wl,--no-as-needed") # nothing names a tcmalloc symbol: keep it anyway
  tlsleak_add_config(NAME tcmalloc VERSION "${tlsleak_tcmalloc_version}" MODE dynamic
    LIBRARY "${tlsleak_tcmalloc_real}" ORIGIN "system package")
  tlsleak_add_config(NAME tcmalloc VERSION "${tlsleak_tcmalloc_version}" MODE override
    PRELOAD "${tlsleak_tcmalloc_real}" LIBRARY "${tlsleak_tcmalloc_real}"
    ORIGIN "system package")
else()
  foreach(tlsleak_mode dynamic override)
    tlsleak_add_config(NAME tcmalloc VERSION "${tlsleak_tcmalloc_version}" MODE ${tlsleak_mode}
      AVAILABLE FALSE REASON "gperftools tcmalloc not found: ${tlsleak_fix}"
      ORIGIN "system package")
  endforeach()
endif()
