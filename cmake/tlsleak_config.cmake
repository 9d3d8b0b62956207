# Registry of allocator configurations (DESIGN.md section 4) and of build variants.
#
# A variant is one way to link the scenario programs (bin/<variant>/<scenario>); a configuration
# is what the harness runs: a variant plus, for `override`, a library to preload. Several
# configurations may share one variant. allocators/*.cmake register both; repro/ builds the
# variants; the top-level CMakeLists.txt writes build/manifest.json from the configurations.
# Everything lives in global properties so the order of directories does not matter.

# tlsleak_json_string(<out-var> <value>): <value> as a quoted JSON string (no raw ';').
function(tlsleak_json_string out value)
  string(REPLACE "\\" "\\\\" value "${value}")
  string(REPLACE "\"" "\\\"" value "${value}")
  string(REPLACE "\n" "\\n" value "${value}")
  string(REPLACE "\t" "\\t" value "${value}")
  string(REPLACE ";" "\\u003b" value "${value}") # keeps JSON text safe inside CMake lists
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
#                    [ROUTE <malloc|api>])
# ID defaults to <name>@<version>:<mode>; VARIANT to <name>-<version>-<mode> ("system" for
# override); TARGET to variant_<variant>; EXPECT to <name>; ROUTE to malloc (the allocator
# serves malloc itself; `api`: the programs call its own functions, DESIGN.md section 4). A second configuration with an id
# already registered is dropped with a message: ids must be unique.
function(tlsleak_add_config)
  cmake_parse_arguments(C ""
    "ID;NAME;VERSION;MODE;VARIANT;TARGET;AVAILABLE;REASON;LIBRARY;PRELOAD;ORIGIN;EXPECT;ROUTE" ""
    ${ARGN})
  if(NOT C_MODE MATCHES "^(system|static|dynamic|override)$")
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

  get_property(ids GLOBAL PROPERTY TLSLEAK_CONFIG_IDS)
  if(C_ID IN_LIST ids)
    message(STATUS "tlsleak: ${C_ID} already registered, dropping the one from ${C_ORIGIN}")
    return()
  endif()

  if(NOT C_AVAILABLE)
    set(C_TARGET "") # nothing to build
  endif()
  set(C_BIN_DIR "${CMAKE_BINARY_DIR}/bin/${C_VARIANT}")
  set(json "{")
  foreach(key id name version mode available reason variant target bin_dir preload library
      origin expect route)
    string(TOUPPER "${key}" up)
    if(key STREQUAL "available")
      set(value "${available}")
    else()
      tlsleak_json_string(value "${C_${up}}")
    endif()
    string(APPEND json "\"${key}\": ${value}, ")
  endforeach()
  string(REGEX REPLACE ", $" "}" json "${json}")

  set_property(GLOBAL APPEND PROPERTY TLSLEAK_CONFIG_IDS "${C_ID}")
  set_property(GLOBAL PROPERTY "TLSLEAK_CONFIG_JSON:${C_ID}" "${json}")
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
