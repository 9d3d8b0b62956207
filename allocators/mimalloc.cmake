# mimalloc, three ways:
#   dynamic   programs linked to the system package's shared library
#   override  the system variant with that library preloaded
#   static    built from a source tree and linked in whole, so malloc/free and the C++
#             operators of the executable are mimalloc's
# Source trees are built by the harness through mimalloc's recipe (harness/tlsleak/families/
# mimalloc.py) into its cache, and listed in build/tlsleak-built.json (cmake/tlsleak_built.cmake
# registers them): Debian's source package in <repo>/.cache/src/mimalloc-* (ci/setup.sh puts
# `apt-get source` there) as mimalloc@VERSION:static in every run, other versions when asked
# (`-a mimalloc@REF:static`). This file only says why there is none when there is none.
# Windows (MinGW cross-build): the same recipe builds the trees for the target (the toolchain
# is the platform's, harness/tlsleak/platforms/wine.py): `static` and `dynamic` reach mimalloc
# through its API (ROUTE api, repro/common/mimalloc_api.c), `redirect` is mimalloc's override
# there (its DLL with mimalloc-redirect.dll, the programs over UCRT: cmake/tlsleak_built.cmake).

# tlsleak_mimalloc_header_version(<out-var> <mimalloc.h>): MI_MALLOC_VERSION as a version, by
# the table the harness decodes mi_version() with (mimalloc-version.json: 209 is 2.0.9, 3208 is
# 3.2.8, 30403 is 3.4.3); "" when the header has none.
function(tlsleak_mimalloc_header_version out header)
  tlsleak_header_version(number "${header}" MI_MALLOC_VERSION)
  set(${out} "" PARENT_SCOPE)
  if(number)
    tlsleak_decode_version(version "${number}"
      "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/mimalloc-version.json")
    set(${out} "${version}" PARENT_SCOPE)
  endif()
endfunction()

# --- the system package -------------------------------------------------------------------
if(WIN32)
  # No Debian package for the Windows target, and no preloading: `redirect` is its override.
  set(tlsleak_mimalloc_pkg_version "")
else()
  tlsleak_add_packaged(NAME mimalloc PACKAGE libmimalloc-dev ORIGIN "debian package"
    HEADER mimalloc.h LIBRARY_NAMES mimalloc VERSION_FUNCTION tlsleak_mimalloc_header_version
    MODES dynamic override OUT_VERSION tlsleak_mimalloc_pkg_version)
endif()

# --- why there is no static configuration, when there is none --------------------------------
set(tlsleak_static_reason "no mimalloc source: run ci/setup.sh, or -a mimalloc@dir:DIR:static")
# Set-up says why it could not fetch Debian's source package (no deb-src source, offline, ...).
set(tlsleak_why_file "${PROJECT_SOURCE_DIR}/.cache/src/mimalloc.unavailable")
if(EXISTS "${tlsleak_why_file}")
  file(STRINGS "${tlsleak_why_file}" tlsleak_why LIMIT_COUNT 1)
  set(tlsleak_static_reason "no mimalloc source: ${tlsleak_why}")
elseif(NOT CMAKE_SYSTEM_NAME STREQUAL "Linux" AND NOT MINGW)
  # Static override elsewhere needs more than --whole-archive (Windows: mimalloc-redirect).
  set(tlsleak_static_reason "static mimalloc from source is set up for Linux and MinGW only")
elseif(NOT EXISTS "${CMAKE_BINARY_DIR}/tlsleak-built.json")
  set(tlsleak_static_reason "built from source by the harness (tlsleak run), not by CMake alone")
endif()

# The static configuration under the package's version, unavailable, saying why: the build of
# Debian's source tree (tlsleak-built.json) takes its place when there is one; a source of
# another version only is listed on its own.
if(tlsleak_mimalloc_pkg_version)
  set(tlsleak_v "${tlsleak_mimalloc_pkg_version}")
else()
  set(tlsleak_v unknown)
endif()
get_property(tlsleak_ids GLOBAL PROPERTY TLSLEAK_CONFIGS)
tlsleak_built_ids(tlsleak_built)
list(APPEND tlsleak_ids ${tlsleak_built})
list(FILTER tlsleak_ids INCLUDE REGEX "^mimalloc@.*:static$")
if(NOT tlsleak_ids OR "mimalloc@${tlsleak_v}:static" IN_LIST tlsleak_ids)
  tlsleak_add_config(NAME mimalloc VERSION "${tlsleak_v}" MODE static AVAILABLE FALSE
    REASON "${tlsleak_static_reason}" ORIGIN "source")
endif()
