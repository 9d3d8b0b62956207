# @debian-source mimalloc
# mimalloc, three ways:
#   dynamic   programs linked to the system package's shared library
#   override  the system variant with that library preloaded
#   static    built from a source tree (one per version, side by side) and linked in whole, so
#             malloc/free and the C++ operators of the executable are mimalloc's
# Source trees: <repo>/.cache/src/mimalloc-* (ci/setup.sh puts `apt-get source` there). Other
# versions come from the harness (`-a mimalloc@REF:static`, build/tlsleak-built.json), never
# from a cache variable that would stick to the build tree.
# A source build also gives an `override` configuration when its version differs from the
# package's (same version, same id: the package's is kept).

include(ExternalProject)

# tlsleak_mimalloc_header_version(<out-var> <mimalloc.h>): MI_MALLOC_VERSION as a version. Up
# to 3.0 "major + 2 digits minor", one digit each for minor and patch (209 is 2.0.9); since then
# "major + 2 digits minor + 2 digits patch" (30403 is 3.4.3). repro/common/alloc/mimalloc.c
# reads mi_version() by the same rule.
function(tlsleak_mimalloc_header_version out header)
  tlsleak_header_version(number "${header}" MI_MALLOC_VERSION)
  set(${out} "" PARENT_SCOPE)
  if(number GREATER_EQUAL 10000)
    math(EXPR major "${number} / 10000")
    math(EXPR minor "${number} / 100 % 100")
    math(EXPR patch "${number} % 100")
  elseif(number)
    math(EXPR major "${number} / 100")
    math(EXPR minor "${number} % 100 / 10")
    math(EXPR patch "${number} % 10")
  else()
    return()
  endif()
  set(${out} "${major}.${minor}.${patch}" PARENT_SCOPE)
endfunction()

# --- the system package -------------------------------------------------------------------
tlsleak_add_packaged(NAME mimalloc PACKAGE libmimalloc-dev ORIGIN "debian package"
  HEADER mimalloc.h LIBRARY_NAMES mimalloc VERSION_FUNCTION tlsleak_mimalloc_header_version
  MODES dynamic override OUT_VERSION tlsleak_mimalloc_pkg_version)

# --- source builds ------------------------------------------------------------------------
# tlsleak_mimalloc_from_source(VERSION <x.y.z> ORIGIN <text> SOURCE_DIR <dir> | GIT_TAG <tag>)
function(tlsleak_mimalloc_from_source)
  cmake_parse_arguments(S "" "VERSION;ORIGIN;SOURCE_DIR;GIT_TAG" "" ${ARGN})
  string(MAKE_C_IDENTIFIER "tlsleak_mimalloc_${S_VERSION}" ep)
  if(TARGET ${ep})
    message(STATUS "tlsleak: mimalloc ${S_VERSION} from ${S_ORIGIN} skipped: "
      "that version is already built from another source")
    return()
  endif()
  if(S_SOURCE_DIR)
    set(source_args SOURCE_DIR "${S_SOURCE_DIR}")
  else()
    set(source_args GIT_REPOSITORY https://github.com/microsoft/mimalloc GIT_TAG "${S_GIT_TAG}"
      GIT_SHALLOW TRUE UPDATE_DISCONNECTED TRUE)
  endif()

  # Same version as the package: its override configuration already exists.
  set(want_override FALSE)
  if(NOT S_VERSION STREQUAL tlsleak_mimalloc_pkg_version)
    set(want_override TRUE)
  endif()

  set(bin "${CMAKE_BINARY_DIR}/_deps/${ep}/build")
  set(static_lib "${bin}/${CMAKE_STATIC_LIBRARY_PREFIX}mimalloc${CMAKE_STATIC_LIBRARY_SUFFIX}")
  string(REGEX MATCH "^[0-9]+\\.[0-9]+" major_minor "${S_VERSION}")
  set(shared_lib "${bin}/libmimalloc.so.${major_minor}") # SOVERSION major.minor
  set(byproducts "${static_lib}")
  if(want_override)
    list(APPEND byproducts "${shared_lib}")
  endif()
  set(cmake_args -DCMAKE_BUILD_TYPE=Release -DMI_BUILD_TESTS=OFF -DMI_OVERRIDE=ON
    -DMI_BUILD_STATIC=ON -DMI_BUILD_SHARED=${want_override} -DMI_BUILD_OBJECT=OFF
    -DCMAKE_C_COMPILER=${CMAKE_C_COMPILER} -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER})
  if(CMAKE_TOOLCHAIN_FILE)
    list(APPEND cmake_args -DCMAKE_TOOLCHAIN_FILE=${CMAKE_TOOLCHAIN_FILE})
  endif()
  ExternalProject_Add(${ep}
    ${source_args}
    PREFIX "${CMAKE_BINARY_DIR}/_deps/${ep}"
    BINARY_DIR "${bin}"
    CMAKE_ARGS ${cmake_args}
    INSTALL_COMMAND ""
    BUILD_BYPRODUCTS ${byproducts})

  add_library(${ep}_static STATIC IMPORTED GLOBAL)
  set_target_properties(${ep}_static PROPERTIES
    IMPORTED_LOCATION "${static_lib}" INTERFACE_LINK_LIBRARIES Threads::Threads)
  add_dependencies(${ep}_static ${ep})
  # Whole archive: the executable itself then defines malloc, free, operator new/delete.
  # tlsleak_mimalloc_exports (repro/) re-exports the mi_* API the static library hides.
  tlsleak_add_variant(VARIANT "mimalloc-${S_VERSION}-static"
    LINK_LIBRARIES "$<LINK_LIBRARY:WHOLE_ARCHIVE,${ep}_static>" tlsleak_mimalloc_exports
    DEPENDS ${ep})
  tlsleak_add_config(NAME mimalloc VERSION "${S_VERSION}" MODE static
    LIBRARY "${static_lib}" ORIGIN "${S_ORIGIN}")

  if(want_override)
    # Runs the system variant, but needs this build's shared library too.
    tlsleak_add_built_override(NAME mimalloc VERSION "${S_VERSION}" DEPENDS ${ep}
      LIBRARY "${shared_lib}" ORIGIN "${S_ORIGIN}")
  endif()
endfunction()

set(tlsleak_built_any FALSE)
set(tlsleak_static_reason "no mimalloc source: run ci/setup.sh, or -a mimalloc@dir:DIR:static")
# Set-up says why it could not fetch Debian's source package (no deb-src source, offline, ...).
set(tlsleak_why_file "${PROJECT_SOURCE_DIR}/.cache/src/mimalloc.unavailable")
if(EXISTS "${tlsleak_why_file}")
  file(STRINGS "${tlsleak_why_file}" tlsleak_why LIMIT_COUNT 1)
  set(tlsleak_static_reason "no mimalloc source: ${tlsleak_why}")
endif()
if(NOT CMAKE_SYSTEM_NAME STREQUAL "Linux")
  # Static override elsewhere needs more than --whole-archive (Windows: mimalloc-redirect).
  set(tlsleak_static_reason "static mimalloc from source is set up for Linux only")
else()
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
    tlsleak_mimalloc_from_source(VERSION "${tlsleak_v}" ORIGIN "source ${tlsleak_dir}"
      SOURCE_DIR "${tlsleak_dir}")
    set(tlsleak_built_any TRUE)
  endforeach()
endif()

if(NOT tlsleak_built_any)
  if(tlsleak_mimalloc_pkg_version)
    set(tlsleak_v "${tlsleak_mimalloc_pkg_version}")
  else()
    set(tlsleak_v unknown)
  endif()
  tlsleak_add_config(NAME mimalloc VERSION "${tlsleak_v}" MODE static AVAILABLE FALSE
    REASON "${tlsleak_static_reason}" ORIGIN "source")
endif()
