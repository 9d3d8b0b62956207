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
# Windows (MinGW cross-build): MinGW builds of mimalloc do not replace malloc, so both
# configurations from a source tree route the programs' allocations to mi_* (ROUTE api,
# repro/common/mimalloc_api.c): `static` links libmimalloc-static.a, `dynamic` the DLL built
# beside it; `override` needs mimalloc-redirect.dll, which only MSVC builds can use. That
# cross-build is still made here, by ExternalProject, from .cache/src (the recipe builds for
# the host's compiler only so far).

include(ExternalProject)

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
  # No Debian package for the Windows target, and no override: see the source builds below.
  set(tlsleak_mimalloc_pkg_version "")
  tlsleak_add_config(NAME mimalloc VERSION unknown MODE override AVAILABLE FALSE
    REASON "override on Windows needs mimalloc-redirect.dll, which MinGW builds cannot use"
    ORIGIN "source")
else()
  tlsleak_add_packaged(NAME mimalloc PACKAGE libmimalloc-dev ORIGIN "debian package"
    HEADER mimalloc.h LIBRARY_NAMES mimalloc VERSION_FUNCTION tlsleak_mimalloc_header_version
    MODES dynamic override OUT_VERSION tlsleak_mimalloc_pkg_version)
endif()

# --- MinGW: source builds made here (see the top) --------------------------------------------
# tlsleak_mimalloc_project(<ep-var> <bin-var> VERSION <x.y.z> ORIGIN <text> SOURCE_DIR <dir>
#     CMAKE_ARGS <arg>... BYPRODUCTS <file>... [INSTALL_COMMAND <cmd>...])
# The ExternalProject build of a source tree for the MinGW target: sets <ep-var> to its name
# (tlsleak_mimalloc_<version>) and <bin-var> to its build folder, where the BYPRODUCTS are
# named; both "" when that version is already built from another source. Local trees only
# (.cache/src), so this build downloads nothing.
function(tlsleak_mimalloc_project ep_var bin_var)
  cmake_parse_arguments(S "" "VERSION;ORIGIN;SOURCE_DIR" "CMAKE_ARGS;BYPRODUCTS;INSTALL_COMMAND"
    ${ARGN})
  set(${ep_var} "" PARENT_SCOPE)
  set(${bin_var} "" PARENT_SCOPE)
  string(MAKE_C_IDENTIFIER "tlsleak_mimalloc_${S_VERSION}" ep)
  if(TARGET ${ep})
    message(STATUS "tlsleak: mimalloc ${S_VERSION} from ${S_ORIGIN} skipped: "
      "that version is already built from another source")
    return()
  endif()
  set(bin "${CMAKE_BINARY_DIR}/_deps/${ep}/build")
  list(TRANSFORM S_BYPRODUCTS PREPEND "${bin}/")
  set(cmake_args -DCMAKE_BUILD_TYPE=Release -DMI_BUILD_TESTS=OFF -DMI_BUILD_STATIC=ON
    -DMI_BUILD_OBJECT=OFF ${S_CMAKE_ARGS})
  if(CMAKE_TOOLCHAIN_FILE)
    list(APPEND cmake_args -DCMAKE_TOOLCHAIN_FILE=${CMAKE_TOOLCHAIN_FILE})
  endif()
  ExternalProject_Add(${ep}
    SOURCE_DIR "${S_SOURCE_DIR}"
    PREFIX "${CMAKE_BINARY_DIR}/_deps/${ep}"
    BINARY_DIR "${bin}"
    CMAKE_ARGS ${cmake_args}
    # Quoted: none must reach ExternalProject as "" (no install step) rather than vanish.
    INSTALL_COMMAND "${S_INSTALL_COMMAND}"
    BUILD_BYPRODUCTS ${S_BYPRODUCTS})
  set(${ep_var} "${ep}" PARENT_SCOPE)
  set(${bin_var} "${bin}" PARENT_SCOPE)
endfunction()

# tlsleak_mimalloc_from_source_mingw(VERSION <x.y.z> ORIGIN <text> SOURCE_DIR <dir>)
# The static library and the DLL of one tree, with the programs routed to mi_* (ROUTE api).
function(tlsleak_mimalloc_from_source_mingw)
  cmake_parse_arguments(S "" "VERSION;ORIGIN;SOURCE_DIR" "" ${ARGN})
  set(dyn_dir "${CMAKE_BINARY_DIR}/bin/mimalloc-${S_VERSION}-dynamic")
  tlsleak_mimalloc_project(ep bin VERSION "${S_VERSION}" ORIGIN "${S_ORIGIN}"
    SOURCE_DIR "${S_SOURCE_DIR}"
    BYPRODUCTS libmimalloc-static.a libmimalloc.dll.a libmimalloc.dll
    CMAKE_ARGS -DMI_OVERRIDE=OFF -DMI_WIN_REDIRECT=OFF -DMI_BUILD_SHARED=ON
    # The DLL goes beside the programs that load it: Windows looks there first.
    INSTALL_COMMAND "${CMAKE_COMMAND}" -E make_directory "${dyn_dir}"
      COMMAND "${CMAKE_COMMAND}" -E copy_if_different "<BINARY_DIR>/libmimalloc.dll"
        "${dyn_dir}/")
  if(NOT ep)
    return()
  endif()
  set(wrap "-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free")
  # mimalloc_exports.c as on Linux: the exported mi_* wrappers allocid.c looks up.
  tlsleak_add_variant(VARIANT "mimalloc-${S_VERSION}-static"
    LINK_LIBRARIES tlsleak_mimalloc_api tlsleak_mimalloc_exports "${bin}/libmimalloc-static.a"
    LINK_OPTIONS "${wrap}" DEPENDS ${ep})
  tlsleak_add_config(NAME mimalloc VERSION "${S_VERSION}" MODE static ROUTE api
    LIBRARY "${bin}/libmimalloc-static.a" ORIGIN "${S_ORIGIN}")
  tlsleak_add_variant(VARIANT "mimalloc-${S_VERSION}-dynamic"
    LINK_LIBRARIES tlsleak_mimalloc_api tlsleak_mimalloc_exports "${bin}/libmimalloc.dll.a"
    LINK_OPTIONS "${wrap}" DEPENDS ${ep})
  tlsleak_add_config(NAME mimalloc VERSION "${S_VERSION}" MODE dynamic ROUTE api
    LIBRARY "${bin}/libmimalloc.dll" ORIGIN "${S_ORIGIN}")
endfunction()

# The trees of .cache/src, for the MinGW target.
if(WIN32 AND MINGW)
  find_package(Threads REQUIRED)
  file(GLOB tlsleak_candidates LIST_DIRECTORIES true
    "${PROJECT_SOURCE_DIR}/.cache/src/mimalloc-*")
  list(SORT tlsleak_candidates)
  set(tlsleak_seen "")
  foreach(tlsleak_dir IN LISTS tlsleak_candidates)
    if(NOT IS_DIRECTORY "${tlsleak_dir}")
      continue() # tarballs and .dsc files beside the unpacked trees
    endif()
    file(REAL_PATH "${tlsleak_dir}" tlsleak_dir)
    if(tlsleak_dir IN_LIST tlsleak_seen)
      continue()
    endif()
    list(APPEND tlsleak_seen "${tlsleak_dir}")
    tlsleak_mimalloc_header_version(tlsleak_v "${tlsleak_dir}/include/mimalloc.h")
    if(NOT tlsleak_v)
      message(WARNING "tlsleak: ${tlsleak_dir}: no MI_MALLOC_VERSION, not a mimalloc tree")
      continue()
    endif()
    tlsleak_mimalloc_from_source_mingw(VERSION "${tlsleak_v}"
      ORIGIN "source ${tlsleak_dir}" SOURCE_DIR "${tlsleak_dir}")
  endforeach()
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
elseif(NOT EXISTS "${CMAKE_BINARY_DIR}/tlsleak-built.json" AND NOT WIN32)
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
