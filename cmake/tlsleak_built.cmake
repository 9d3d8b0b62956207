# Allocators built from source by the harness (harness/tlsleak/versions/): each entry of
# build/tlsleak-built.json (DESIGN.md "Allocators built from source") becomes a configuration per mode,
# NAME@LABEL:MODE, linked against the artefacts in its build-cache entry:
#   static    the archive linked in (whole, or plain with the recipe's link options)
#   dynamic   the shared library, found at run time through an rpath to its cache entry
#   override  the system variant with the shared library preloaded
# For a Windows target (MinGW): `static` and `dynamic` as the entry's recipe links them (route
# api: repro/common/mimalloc_api.c), the DLL copied beside the programs; and
#   redirect  the programs linked against the UCRT (cmake/ucrt.cmake) and the DLL, with the
#             DLL and its redirect module (preload_lib) beside them: mimalloc-redirect.dll
#             patches ucrtbase.dll so every malloc of the process is mimalloc's. It must be
#             initialised before ucrtbase.dll, so the DLL must be the program's first import;
#             GNU ld orders imports by the path of their import library (SORT(*) in its PE
#             script), so the import library is named with a leading `//` (the same file
#             here), which sorts before the toolchain's /usr/... libraries.
# The harness rewrites the file before every configure (an empty list when nothing is asked
# for) and CMake re-runs when it changes, so no source build is remembered in CMakeCache.txt.
# Read when included (before the allocator files, which may ask tlsleak_built_ids), registered
# by tlsleak_add_built_allocators() after them.

include("${CMAKE_CURRENT_LIST_DIR}/ucrt.cmake")

# tlsleak_built_get(<out> <json> <key>...): a JSON value, "" when absent.
function(tlsleak_built_get out json)
  string(JSON value ERROR_VARIABLE err GET "${json}" ${ARGN})
  if(err)
    set(value "")
  endif()
  set(${out} "${value}" PARENT_SCOPE)
endfunction()

# tlsleak_built_list(<out> <json> <key>): a JSON array of strings as a CMake list.
function(tlsleak_built_list out json key)
  set(items "")
  string(JSON n ERROR_VARIABLE err LENGTH "${json}" ${key})
  if(NOT err AND n GREATER 0)
    math(EXPR last "${n} - 1")
    foreach(i RANGE ${last})
      string(JSON item GET "${json}" ${key} ${i})
      list(APPEND items "${item}")
    endforeach()
  endif()
  set(${out} "${items}" PARENT_SCOPE)
endfunction()

function(tlsleak_add_built_allocator json)
  foreach(key name version label commit source static_lib shared_lib preload_lib static_link
      expect route)
    tlsleak_built_get(${key} "${json}" ${key})
  endforeach()
  foreach(key modes static_link_options static_libs static_extra_targets)
    tlsleak_built_list(${key} "${json}" ${key})
  endforeach()
  string(REGEX REPLACE "[^A-Za-z0-9_.+-]" "_" tag "${name}-${label}")
  string(MAKE_C_IDENTIFIER "tlsleak_built_${tag}" lib_target)
  if(NOT route)
    set(route malloc)
  endif()
  set(common NAME "${name}" VERSION "${version}" COMMIT "${commit}" SOURCE "${source}"
    EXPECT "${expect}" ORIGIN "built from ${source}")
  if(WIN32)
    tlsleak_add_built_windows("${tag}" "${modes}" "${route}" "${lib_target}" "${static_lib}"
      "${shared_lib}" "${preload_lib}" "${static_link_options}" "${static_extra_targets}"
      ${common})
    return()
  endif()
  find_package(Threads REQUIRED)
  list(TRANSFORM static_libs REPLACE "^pthread$" "Threads::Threads")

  if("static" IN_LIST modes)
    add_library(${lib_target} STATIC IMPORTED GLOBAL)
    set_target_properties(${lib_target} PROPERTIES IMPORTED_LOCATION "${static_lib}")
    if(static_link STREQUAL "whole")
      set(link "$<LINK_LIBRARY:WHOLE_ARCHIVE,${lib_target}>")
    else()
      set(link "${lib_target}")
    endif()
    tlsleak_add_variant(VARIANT "${tag}-static"
      LINK_LIBRARIES ${link} ${static_libs} ${static_extra_targets}
      LINK_OPTIONS ${static_link_options})
    tlsleak_add_config(ID "${name}@${label}:static" MODE static VARIANT "${tag}-static"
      LIBRARY "${static_lib}" ${common})
  endif()
  if("dynamic" IN_LIST modes)
    get_filename_component(dir "${shared_lib}" DIRECTORY)
    tlsleak_add_variant(VARIANT "${tag}-dynamic" LINK_LIBRARIES "${shared_lib}"
      LINK_OPTIONS "-Wl,--no-as-needed" "-Wl,-rpath,${dir}")
    tlsleak_add_config(ID "${name}@${label}:dynamic" MODE dynamic VARIANT "${tag}-dynamic"
      LIBRARY "${shared_lib}" ${common})
  endif()
  if("override" IN_LIST modes)
    tlsleak_add_config(ID "${name}@${label}:override" MODE override VARIANT system
      PRELOAD "${preload_lib}" LIBRARY "${preload_lib}" ${common})
  endif()
endfunction()

# tlsleak_beside(<target> <dir> <file>...): a target that copies the files into dir.
function(tlsleak_beside target dir)
  add_custom_target(${target}
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${dir}"
    COMMAND "${CMAKE_COMMAND}" -E copy_if_different ${ARGN} "${dir}/")
endfunction()

# tlsleak_add_built_windows(<tag> <modes> <route> <lib-target> <static> <dll> <module>
#     <link-options> <extra-targets> <common>...): one entry's configurations for Windows.
function(tlsleak_add_built_windows tag modes route lib_target static dll module options extra)
  set(common ${ARGN})
  set(bin "${CMAKE_BINARY_DIR}/bin")
  if("static" IN_LIST modes)
    add_library(${lib_target} STATIC IMPORTED GLOBAL)
    set_target_properties(${lib_target} PROPERTIES IMPORTED_LOCATION "${static}")
    tlsleak_add_variant(VARIANT "${tag}-static" LINK_LIBRARIES ${extra} ${lib_target}
      LINK_OPTIONS ${options})
    tlsleak_add_config(ID "${name}@${label}:static" MODE static VARIANT "${tag}-static"
      ROUTE "${route}" LIBRARY "${static}" ${common})
  endif()
  if("dynamic" IN_LIST modes)
    tlsleak_beside("${lib_target}_dynamic_dlls" "${bin}/${tag}-dynamic" ${dll} ${module})
    tlsleak_add_variant(VARIANT "${tag}-dynamic" LINK_LIBRARIES ${extra} "${dll}.a"
      LINK_OPTIONS ${options} DEPENDS "${lib_target}_dynamic_dlls")
    tlsleak_add_config(ID "${name}@${label}:dynamic" MODE dynamic VARIANT "${tag}-dynamic"
      ROUTE "${route}" LIBRARY "${dll}" ${common})
  endif()
  if("redirect" IN_LIST modes)
    tlsleak_ucrt_specs(specs)
    set(why "")
    if(NOT module)
      set(why "this tree has no redirect module, bin/mimalloc-redirect.lib (Debian's source \
package drops it): build an upstream tree, -a mimalloc@REF:redirect --repo mimalloc=DIR")
    elseif(NOT specs)
      set(why "no UCRT specs: ${CMAKE_C_COMPILER} -dumpspecs gave no -lmsvcrt to replace")
    endif()
    if(why)
      tlsleak_add_config(ID "${name}@${label}:redirect" MODE redirect AVAILABLE FALSE
        REASON "${why}" ${common})
      return()
    endif()
    tlsleak_beside("${lib_target}_redirect_dlls" "${bin}/${tag}-redirect" ${dll} ${module})
    tlsleak_add_variant(VARIANT "${tag}-redirect"
      LINK_LIBRARIES tlsleak_mimalloc_exports tlsleak_ucrt_setjmp "/${dll}.a"
      LINK_OPTIONS "-specs=${specs}" DEPENDS "${lib_target}_redirect_dlls")
    tlsleak_add_config(ID "${name}@${label}:redirect" MODE redirect VARIANT "${tag}-redirect"
      LIBRARY "${dll}" ${common})
  endif()
endfunction()

# tlsleak_built_ids(<out-var>): the configuration ids tlsleak-built.json will register (read
# when this file is included), so an allocator file can leave the place of one to it.
function(tlsleak_built_ids out)
  get_property(ids GLOBAL PROPERTY TLSLEAK_BUILT_IDS)
  set(${out} "${ids}" PARENT_SCOPE)
endfunction()

# tlsleak_add_built_allocators(): register every entry (after the allocator files: an id one of
# them registered too takes the built one in its place, tlsleak_add_config).
function(tlsleak_add_built_allocators)
  get_property(n GLOBAL PROPERTY TLSLEAK_BUILT_COUNT)
  if(n GREATER 0)
    math(EXPR last "${n} - 1")
    foreach(i RANGE ${last})
      get_property(entry GLOBAL PROPERTY "TLSLEAK_BUILT:${i}")
      tlsleak_add_built_allocator("${entry}")
    endforeach()
  endif()
endfunction()

set(tlsleak_built_file "${CMAKE_BINARY_DIR}/tlsleak-built.json")
set_property(DIRECTORY "${PROJECT_SOURCE_DIR}" APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
  "${tlsleak_built_file}")
set_property(GLOBAL PROPERTY TLSLEAK_BUILT_COUNT 0)
set_property(GLOBAL PROPERTY TLSLEAK_BUILT_IDS "")
if(EXISTS "${tlsleak_built_file}")
  file(READ "${tlsleak_built_file}" tlsleak_built_json)
  tlsleak_built_get(tlsleak_built_format "${tlsleak_built_json}" format)
  if(NOT tlsleak_built_format EQUAL 1)
    message(FATAL_ERROR "tlsleak: ${tlsleak_built_file}: unknown format '${tlsleak_built_format}'")
  endif()
  string(JSON tlsleak_n LENGTH "${tlsleak_built_json}" allocators)
  set_property(GLOBAL PROPERTY TLSLEAK_BUILT_COUNT ${tlsleak_n})
  if(tlsleak_n GREATER 0)
    math(EXPR tlsleak_last "${tlsleak_n} - 1")
    foreach(tlsleak_i RANGE ${tlsleak_last})
      string(JSON tlsleak_entry GET "${tlsleak_built_json}" allocators ${tlsleak_i})
      set_property(GLOBAL PROPERTY "TLSLEAK_BUILT:${tlsleak_i}" "${tlsleak_entry}")
      tlsleak_built_get(tlsleak_name "${tlsleak_entry}" name)
      tlsleak_built_get(tlsleak_label "${tlsleak_entry}" label)
      tlsleak_built_list(tlsleak_modes "${tlsleak_entry}" modes)
      foreach(tlsleak_mode IN LISTS tlsleak_modes)
        set_property(GLOBAL APPEND PROPERTY TLSLEAK_BUILT_IDS
          "${tlsleak_name}@${tlsleak_label}:${tlsleak_mode}")
      endforeach()
    endforeach()
  endif()
endif()
