# build/manifest.json (DESIGN.md "Build manifest"): written at configure time from what the
# allocator files and repro/ registered, with CMake's JSON functions (string(JSON ... SET)), so
# the file is valid JSON whatever a path or a compiler flag holds. Members come out in
# alphabetical order (CMake's JSON writer sorts them); readers parse, never match text.

# tlsleak_json_set_string(<json-var> <value> <member>...): set the member (a path of keys and
# indexes) of the JSON text in <json-var> to the string <value>.
function(tlsleak_json_set_string var value)
  tlsleak_json_string(quoted "${value}")
  string(JSON json SET "${${var}}" ${ARGN} "${quoted}")
  set(${var} "${json}" PARENT_SCOPE)
endfunction()

# tlsleak_json_array(<out-var> <property>): the JSON texts stored in the global properties
# <property>:<name>, for each name listed in the global property <property>, as one array.
function(tlsleak_json_array out property)
  set(array "[]")
  set(i 0)
  get_property(names GLOBAL PROPERTY "${property}")
  foreach(name IN LISTS names)
    get_property(item GLOBAL PROPERTY "${property}:${name}")
    string(JSON array SET "${array}" ${i} "${item}")
    math(EXPR i "${i} + 1")
  endforeach()
  set(${out} "${array}" PARENT_SCOPE)
endfunction()

# The compilers, build type and flags the programs were built with.
function(tlsleak_manifest_build out warnings)
  if(CMAKE_BUILD_TYPE)
    string(TOUPPER "${CMAKE_BUILD_TYPE}" type)
  endif()
  string(JOIN " " warnings ${warnings})
  set(build "{}")
  foreach(pair
      "c_compiler|${CMAKE_C_COMPILER_ID} ${CMAKE_C_COMPILER_VERSION}"
      "c_compiler_path|${CMAKE_C_COMPILER}"
      "cxx_compiler|${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION}"
      "build_type|${CMAKE_BUILD_TYPE}"
      "c_flags|${CMAKE_C_FLAGS} ${CMAKE_C_FLAGS_${type}} ${warnings}"
      "cxx_flags|${CMAKE_CXX_FLAGS} ${CMAKE_CXX_FLAGS_${type}} ${warnings}"
      "system|${CMAKE_SYSTEM}")
    string(FIND "${pair}" "|" bar)
    string(SUBSTRING "${pair}" 0 ${bar} key)
    math(EXPR bar "${bar} + 1")
    string(SUBSTRING "${pair}" ${bar} -1 value)
    string(REGEX REPLACE "  +" " " value "${value}")
    string(STRIP "${value}" value)
    tlsleak_json_set_string(build "${value}" ${key})
  endforeach()
  if(TLSLEAK_LIBC_BUILT) # the programs' libc when it is not the host's (allocators/system.cmake)
    tlsleak_json_set_string(build "${TLSLEAK_LIBC_BUILT}" libc)
  endif()
  set(${out} "${build}" PARENT_SCOPE)
endfunction()

# The target the programs run on: how to name and start them.
function(tlsleak_manifest_target out)
  if(WIN32)
    set(os windows)
    set(preload_var "")
  elseif(APPLE)
    set(os macos)
    set(preload_var DYLD_INSERT_LIBRARIES)
  else()
    string(TOLOWER "${CMAKE_SYSTEM_NAME}" os)
    set(preload_var LD_PRELOAD)
  endif()
  set(target "{}")
  tlsleak_json_set_string(target "${os}" os)
  tlsleak_json_set_string(target "${CMAKE_SYSTEM_PROCESSOR}" arch)
  tlsleak_json_set_string(target "${CMAKE_EXECUTABLE_SUFFIX}" suffix)
  tlsleak_json_set_string(target "${CMAKE_SHARED_MODULE_SUFFIX}" module_suffix)
  tlsleak_json_set_string(target "${preload_var}" preload_var)
  string(JSON target SET "${target}" launcher "[]")
  string(JSON target SET "${target}" launcher_env "{}")
  if(CMAKE_CROSSCOMPILING_EMULATOR)
    set(i 0)
    foreach(word IN LISTS CMAKE_CROSSCOMPILING_EMULATOR)
      tlsleak_json_set_string(target "${word}" launcher ${i})
      math(EXPR i "${i} + 1")
    endforeach()
    if(WIN32)
      # Wine: no debug channels (they would flood stderr and slow every thread), and no
      # prompt to install Mono or Gecko into a fresh prefix. WINEPREFIX is the runner's.
      tlsleak_json_set_string(target "-all" launcher_env WINEDEBUG)
      tlsleak_json_set_string(target "mscoree,mshtml=" launcher_env WINEDLLOVERRIDES)
    endif()
  endif()
  set(${out} "${target}" PARENT_SCOPE)
endfunction()

# tlsleak_write_manifest(<path> <warning flags>...)
function(tlsleak_write_manifest path)
  set(m "{}")
  string(JSON m SET "${m}" format 1)
  tlsleak_manifest_build(build "${ARGN}")
  string(JSON m SET "${m}" build "${build}")
  string(JSON m SET "${m}" probe null)
  if(TLSLEAK_PROBE_LIBRARY)
    string(JSON m SET "${m}" probe "{}")
    tlsleak_json_set_string(m "${TLSLEAK_PROBE_LIBRARY}" probe library)
    tlsleak_json_set_string(m tlsleak_probe probe target)
    tlsleak_json_set_string(m "${TLSLEAK_SAMPLER}" probe sampler)
    tlsleak_json_set_string(m tlsleak_sampler probe sampler_target)
  endif()
  tlsleak_manifest_target(target)
  string(JSON m SET "${m}" target "${target}")
  tlsleak_json_array(scenarios TLSLEAK_SCENARIOS)
  string(JSON m SET "${m}" scenarios "${scenarios}")
  tlsleak_json_array(unavailable TLSLEAK_UNAVAILABLE_SCENARIOS)
  string(JSON m SET "${m}" unavailable_scenarios "${unavailable}")
  get_property(explore GLOBAL PROPERTY TLSLEAK_EXPLORE_JSON)
  if(NOT explore)
    set(explore null)
  endif()
  string(JSON m SET "${m}" explore "${explore}")
  tlsleak_json_array(configs TLSLEAK_CONFIGS)
  string(JSON m SET "${m}" configs "${configs}")
  # Rewrite only on change, so readers watching the file see real updates only.
  file(WRITE "${path}.tmp" "${m}\n")
  file(COPY_FILE "${path}.tmp" "${path}" ONLY_IF_DIFFERENT)
  file(REMOVE "${path}.tmp")
endfunction()
