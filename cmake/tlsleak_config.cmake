# Registry of allocator configurations (DESIGN.md "Build manifest") and of build variants.
#
# A variant is one way to link the scenario programs (bin/<variant>/<scenario>); a configuration
# is what the harness runs: a variant plus, for `override`, a library to preload. Several
# configurations may share one variant. allocators/*.cmake register both; repro/ builds the
# variants; the top-level CMakeLists.txt writes build/manifest.json from the configurations.
# Everything lives in global properties so the order of directories does not matter.

# tlsleak_json_string(<out-var> <value>): <value> as a quoted JSON string, for string(JSON SET)
# (CMake has no function that quotes one).
function(tlsleak_json_string out value)
  string(REPLACE "\\" "\\\\" value "${value}")
  string(REPLACE "\"" "\\\"" value "${value}")
  string(REPLACE "\n" "\\n" value "${value}")
  string(REPLACE "\t" "\\t" value "${value}")
  string(REPLACE "\r" "\\r" value "${value}")
  set(${out} "\"${value}\"" PARENT_SCOPE)
endfunction()

# tlsleak_add_variant(VARIANT <name> [LINK_LIBRARIES ...] [LINK_OPTIONS ...] [DEPENDS ...])
# LINK_LIBRARIES/LINK_OPTIONS go to every program of the variant; DEPENDS are targets (e.g. an
# ExternalProject) that must be built first. Registering a variant twice keeps the first.
function(tlsleak_add_variant)
  cmake_parse_arguments(V "" "VARIANT" "LINK_LIBRARIES;LINK_OPTIONS;DEPENDS" ${ARGN})
  if(NOT V_VARIANT MATCHES "^[A-Za-z0-9_.+-]+$")
    message(FATAL_ERROR "tlsleak: bad variant name '${V_VARIANT}'")
  endif()
  get_property(variants GLOBAL PROPERTY TLSLEAK_VARIANTS)
  if(V_VARIANT IN_LIST variants)
    return()
  endif()
  set_property(GLOBAL APPEND PROPERTY TLSLEAK_VARIANTS "${V_VARIANT}")
  set_property(GLOBAL PROPERTY "TLSLEAK_VARIANT_LIBS:${V_VARIANT}" "${V_LINK_LIBRARIES}")
  set_property(GLOBAL PROPERTY "TLSLEAK_VARIANT_OPTIONS:${V_VARIANT}" "${V_LINK_OPTIONS}")
  set_property(GLOBAL PROPERTY "TLSLEAK_VARIANT_DEPENDS:${V_VARIANT}" "${V_DEPENDS}")
endfunction()

# tlsleak_add_config(NAME <allocator> VERSION <x.y.z> MODE <system|static|dynamic|override>
#                    [ID <id>] [VARIANT <variant>] [TARGET <target>]
#                    [AVAILABLE <bool>] [REASON <one line: what is missing, how to fix it>]
#                    [LIBRARY <abs path>] [PRELOAD <abs path>] [ORIGIN <text>] [EXPECT <name>]
#                    [COMMIT <full commit>] [SOURCE <source spec>] [ROUTE <malloc|api>])
# ID defaults to <name>@<version>:<mode>; VARIANT to <name>-<version>-<mode> ("system" for
# override); TARGET to variant_<variant>; EXPECT to <name>; ROUTE to malloc (the allocator
# serves malloc itself; `api`: the programs call its own functions, DESIGN.md "Build manifest").
# COMMIT and SOURCE say which tree a build from source came from (harness/tlsleak/versions/),
# "" for a system package. A second configuration with an id
# already registered is dropped with a message: ids must be unique.
function(tlsleak_add_config)
  cmake_parse_arguments(C ""
    "ID;NAME;VERSION;MODE;VARIANT;TARGET;AVAILABLE;REASON;LIBRARY;PRELOAD;ORIGIN;EXPECT;COMMIT;SOURCE;ROUTE"
    "" ${ARGN})
  if(NOT C_MODE MATCHES "^(system|static|dynamic|override|redirect)$")
    message(FATAL_ERROR "tlsleak: config ${C_NAME}: bad mode '${C_MODE}'")
  endif()
  if(NOT DEFINED C_ID)
    set(C_ID "${C_NAME}@${C_VERSION}:${C_MODE}")
  endif()
  if(NOT DEFINED C_VARIANT)
    if(C_MODE STREQUAL "override")
      set(C_VARIANT "system")
    else()
      set(C_VARIANT "${C_NAME}-${C_VERSION}-${C_MODE}")
    endif()
  endif()
  if(NOT DEFINED C_TARGET)
    set(C_TARGET "variant_${C_VARIANT}")
  endif()
  if(NOT DEFINED C_AVAILABLE)
    set(C_AVAILABLE TRUE)
  endif()
  if(NOT DEFINED C_EXPECT)
    set(C_EXPECT "${C_NAME}")
  endif()
  if(NOT DEFINED C_ROUTE)
    set(C_ROUTE malloc)
  endif()
  if(C_AVAILABLE)
    set(available true)
    set(C_REASON "")
  else()
    set(available false)
    message(STATUS "tlsleak: ${C_ID} unavailable: ${C_REASON}")
  endif()

  # An id registered twice: a build from source (SOURCE) takes the place of a configuration
  # without one (a package's, or an unavailable one saying why there is no source); else the
  # second is dropped.
  get_property(ids GLOBAL PROPERTY TLSLEAK_CONFIGS)
  set(replace FALSE)
  if(C_ID IN_LIST ids)
    get_property(had_source GLOBAL PROPERTY "TLSLEAK_CONFIGS_SOURCE:${C_ID}")
    if(had_source OR NOT C_SOURCE)
      message(STATUS "tlsleak: ${C_ID} already registered, dropping the one from ${C_ORIGIN}")
      return()
    endif()
    set(replace TRUE)
  endif()

  if(NOT C_AVAILABLE)
    set(C_TARGET "") # nothing to build
  endif()
  set(C_BIN_DIR "${CMAKE_BINARY_DIR}/bin/${C_VARIANT}")
  set(json "{}")
  foreach(key id name version mode reason variant target bin_dir preload library origin expect
      commit source route)
    string(TOUPPER "${key}" up)
    tlsleak_json_string(value "${C_${up}}")
    string(JSON json SET "${json}" ${key} "${value}")
  endforeach()
  string(JSON json SET "${json}" available ${available})

  # The manifest's configs, in this order (cmake/tlsleak_manifest.cmake).
  if(NOT replace)
    set_property(GLOBAL APPEND PROPERTY TLSLEAK_CONFIGS "${C_ID}")
  endif()
  set_property(GLOBAL PROPERTY "TLSLEAK_CONFIGS:${C_ID}" "${json}")
  set_property(GLOBAL PROPERTY "TLSLEAK_CONFIGS_SOURCE:${C_ID}" "${C_SOURCE}")
endfunction()

# tlsleak_add_built_override(NAME <allocator> VERSION <x.y.z> DEPENDS <target>
#                            LIBRARY <abs path> ORIGIN <text>)
# An `override` configuration whose preload library is built here, by DEPENDS: its own target
# (config_<name>-<version>-override) builds that and the `system` variant it runs.
function(tlsleak_add_built_override)
  cmake_parse_arguments(O "" "NAME;VERSION;DEPENDS;LIBRARY;ORIGIN" "" ${ARGN})
  set(target "config_${O_NAME}-${O_VERSION}-override")
  add_custom_target(${target})
  add_dependencies(${target} ${O_DEPENDS})
  set_property(GLOBAL APPEND PROPERTY TLSLEAK_EXTRA_TARGETS "${target}:system")
  tlsleak_add_config(NAME ${O_NAME} VERSION "${O_VERSION}" MODE override TARGET "${target}"
    PRELOAD "${O_LIBRARY}" LIBRARY "${O_LIBRARY}" ORIGIN "${O_ORIGIN}")
endfunction()

# tlsleak_real_file(<out-var> <path>): the file behind symlinks (what LD_PRELOAD should name).
function(tlsleak_real_file out path)
  file(REAL_PATH "${path}" real)
  set(${out} "${real}" PARENT_SCOPE)
endfunction()

# tlsleak_header_version(<out-var> <header> <macro>...): the numbers of `#define <macro> N` in
# <header>, joined by dots in the order the macros are named; "" when one is missing.
function(tlsleak_header_version out header)
  set(${out} "" PARENT_SCOPE)
  if(NOT EXISTS "${header}")
    return()
  endif()
  set(parts "")
  foreach(macro IN LISTS ARGN)
    file(STRINGS "${header}" line REGEX "^#define ${macro} +[0-9]+")
    if(NOT line MATCHES "^#define ${macro} +([0-9]+)")
      return()
    endif()
    list(APPEND parts "${CMAKE_MATCH_1}")
  endforeach()
  list(JOIN parts "." version)
  set(${out} "${version}" PARENT_SCOPE)
endfunction()

# tlsleak_decode_version(<out-var> <number> <table.json>): a version that a project writes as one
# number (mimalloc's MI_MALLOC_VERSION), decoded by the table the harness decodes the running
# library's number with (its family in harness/tlsleak/families/): by the number's count of
# digits, its last `patch` digits are the patch, the `minor` before them the minor, the rest
# the major. A number of a width the table does not know is returned as it is.
function(tlsleak_decode_version out number table_file)
  set(${out} "${number}" PARENT_SCOPE)
  file(READ "${table_file}" table)
  string(LENGTH "${number}" digits)
  string(JSON patch ERROR_VARIABLE err GET "${table}" digits "${digits}" patch)
  if(err OR NOT number MATCHES "^[0-9]+$")
    return()
  endif()
  string(JSON minor GET "${table}" digits "${digits}" minor)
  math(EXPR head "${digits} - ${minor} - ${patch}")
  math(EXPR tail "${head} + ${minor}")
  string(SUBSTRING "${number}" 0 ${head} major)
  string(SUBSTRING "${number}" ${head} ${minor} minor)
  string(SUBSTRING "${number}" ${tail} ${patch} patch)
  math(EXPR major "${major}")
  math(EXPR minor "${minor}")
  math(EXPR patch "${patch}")
  set(${out} "${major}.${minor}.${patch}" PARENT_SCOPE)
endfunction()

# tlsleak_add_packaged(NAME <allocator> PACKAGE <distribution package> HEADER <include path>
#     LIBRARY_NAMES <find_library names>... MODES <dynamic|override|static>...
#     VERSION_MACROS <macro>... | VERSION_FUNCTION <function(<out-var> <header>)>
#     [STATIC_NAMES <names>...] [STATIC_LINK_LIBRARIES ...] [STATIC_LINK_OPTIONS ...]
#     [WHAT <what is missing, for the reason>] [ORIGIN <text>] [OUT_VERSION <var>])
# One allocator from the system's packages: finds HEADER and the library, reads the version
# from the header (VERSION_MACROS joined by dots, or VERSION_FUNCTION), and registers one
# configuration per mode: `dynamic` links the library (kept with --no-as-needed: nothing names
# its symbols), `override` preloads it (by its real file, what LD_PRELOAD should name), `static`
# links STATIC_NAMES' archive with STATIC_LINK_LIBRARIES/OPTIONS. A mode whose files or version
# are missing is registered unavailable, its reason naming PACKAGE. OUT_VERSION receives the
# version, or "" when it could not be read. ci/setup.sh can list the packages to install with
# `grep -ho 'PACKAGE [^ )]*' allocators/*.cmake`.
function(tlsleak_add_packaged)
  cmake_parse_arguments(P "" "NAME;PACKAGE;HEADER;VERSION_FUNCTION;WHAT;ORIGIN;OUT_VERSION"
    "LIBRARY_NAMES;MODES;VERSION_MACROS;STATIC_NAMES;STATIC_LINK_LIBRARIES;STATIC_LINK_OPTIONS"
    ${ARGN})
  foreach(required NAME PACKAGE HEADER LIBRARY_NAMES MODES)
    if(NOT P_${required})
      message(FATAL_ERROR "tlsleak_add_packaged(${P_NAME}): ${required} is required")
    endif()
  endforeach()
  if(NOT DEFINED P_ORIGIN)
    set(P_ORIGIN "system package")
  endif()
  if(NOT DEFINED P_WHAT)
    set(P_WHAT "${P_NAME}")
  endif()
  set(fix "apt-get install ${P_PACKAGE} (or run ci/setup.sh)")
  string(TOUPPER "TLSLEAK_${P_NAME}" cache)
  # A cross-build finds no Debian package for the target: say so rather than "install it".
  set(cross "")
  if(WIN32)
    set(cross "${P_PACKAGE} is a Linux package: no Windows build of ${P_WHAT} here")
  elseif(TLSLEAK_LIBC STREQUAL "musl") # cmake/musl.cmake
    set(cross "${P_PACKAGE} is built for glibc: no musl build of ${P_WHAT} here")
  endif()
  if(cross)
    foreach(mode IN LISTS P_MODES)
      tlsleak_add_config(NAME ${P_NAME} VERSION unknown MODE ${mode} ORIGIN "${P_ORIGIN}"
        AVAILABLE FALSE REASON "${cross}")
    endforeach()
    if(P_OUT_VERSION)
      set(${P_OUT_VERSION} "" PARENT_SCOPE)
    endif()
    return()
  endif()

  find_path(${cache}_INCLUDE_DIR "${P_HEADER}")
  find_library(${cache}_LIBRARY NAMES ${P_LIBRARY_NAMES})
  set(version "")
  if(${cache}_INCLUDE_DIR)
    set(header "${${cache}_INCLUDE_DIR}/${P_HEADER}")
    if(P_VERSION_FUNCTION)
      cmake_language(CALL ${P_VERSION_FUNCTION} version "${header}")
    else()
      tlsleak_header_version(version "${header}" ${P_VERSION_MACROS})
    endif()
  endif()
  if(P_OUT_VERSION)
    set(${P_OUT_VERSION} "${version}" PARENT_SCOPE)
  endif()
  set(shown_version "${version}")
  if(NOT version)
    set(shown_version unknown)
  endif()
  # What stops every mode (no header, no version), then the shared library's modes.
  set(no_header "")
  if(NOT ${cache}_INCLUDE_DIR)
    set(no_header "${P_WHAT} not found: ${fix}")
  elseif(NOT version)
    set(no_header "no version in ${P_HEADER}: reinstall ${P_PACKAGE}")
  endif()
  set(missing "${no_header}")
  if(NOT missing AND NOT ${cache}_LIBRARY)
    set(missing "${P_WHAT} not found: ${fix}")
  elseif(NOT missing)
    tlsleak_real_file(real "${${cache}_LIBRARY}")
  endif()

  foreach(mode IN LISTS P_MODES)
    set(args NAME ${P_NAME} VERSION "${shown_version}" MODE ${mode} ORIGIN "${P_ORIGIN}")
    if(mode STREQUAL "static")
      find_library(${cache}_STATIC_LIBRARY NAMES ${P_STATIC_NAMES})
      if(no_header OR NOT ${cache}_STATIC_LIBRARY)
        list(GET P_STATIC_NAMES 0 archive)
        set(missing_static "${no_header}")
        if(NOT no_header)
          set(missing_static "${archive} not found: ${fix}")
        endif()
        tlsleak_add_config(${args} AVAILABLE FALSE REASON "${missing_static}")
        continue()
      endif()
      tlsleak_add_variant(VARIANT "${P_NAME}-${version}-static"
        LINK_LIBRARIES "${${cache}_STATIC_LIBRARY}" ${P_STATIC_LINK_LIBRARIES}
        LINK_OPTIONS ${P_STATIC_LINK_OPTIONS})
      tlsleak_add_config(${args} LIBRARY "${${cache}_STATIC_LIBRARY}")
    elseif(missing)
      tlsleak_add_config(${args} AVAILABLE FALSE REASON "${missing}")
    elseif(mode STREQUAL "dynamic")
      tlsleak_add_variant(VARIANT "${P_NAME}-${version}-dynamic"
        LINK_LIBRARIES "${${cache}_LIBRARY}" LINK_OPTIONS "-Wl,--no-as-needed")
      tlsleak_add_config(${args} LIBRARY "${real}")
    elseif(mode STREQUAL "override")
      tlsleak_add_config(${args} PRELOAD "${real}" LIBRARY "${real}")
    else()
      message(FATAL_ERROR "tlsleak_add_packaged(${P_NAME}): bad mode '${mode}'")
    endif()
  endforeach()
endfunction()
