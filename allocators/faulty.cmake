# faulty: tlsleak's own allocator (allocators/faulty/), whose thread-cache teardown can be broken
# on purpose with TLSLEAK_FAULTY=recreate,drop,skip_free_only (read by the program at run time),
# so the harness is shown catching the mechanism itself; fill,steps give it bounded caches that
# grow for a while and stop, which the harness must not call a leak. Three ways, like the others:
#   static    its objects linked into every program (the executable defines malloc)
#   dynamic   programs linked to libfaulty.so
#   override  the system variant with libfaulty.so preloaded

set(tlsleak_faulty_version 1.0.0) # also what faulty_version() returns
set(tlsleak_faulty_origin "allocators/faulty")

if(NOT CMAKE_SYSTEM_NAME STREQUAL "Linux" OR TLSLEAK_LIBC STREQUAL "musl")
  foreach(tlsleak_mode static dynamic override)
    tlsleak_add_config(NAME faulty VERSION ${tlsleak_faulty_version} MODE ${tlsleak_mode}
      AVAILABLE FALSE REASON "faulty is written for Linux (glibc) only"
      ORIGIN "${tlsleak_faulty_origin}")
  endforeach()
  return()
endif()

find_package(Threads REQUIRED)
add_library(tlsleak_faulty_objects OBJECT "${CMAKE_CURRENT_LIST_DIR}/faulty/faulty.c")
set_target_properties(tlsleak_faulty_objects PROPERTIES POSITION_INDEPENDENT_CODE ON)
target_compile_definitions(tlsleak_faulty_objects PRIVATE
  FAULTY_VERSION="${tlsleak_faulty_version}")
# No builtins: GCC would turn calloc's malloc + memset into a call to calloc, itself.
target_compile_options(tlsleak_faulty_objects PRIVATE -fno-builtin)

add_library(tlsleak_faulty SHARED $<TARGET_OBJECTS:tlsleak_faulty_objects>)
target_link_libraries(tlsleak_faulty PRIVATE Threads::Threads)
set(tlsleak_faulty_dir "${CMAKE_BINARY_DIR}/lib")
set_target_properties(tlsleak_faulty PROPERTIES OUTPUT_NAME faulty
  LIBRARY_OUTPUT_DIRECTORY "${tlsleak_faulty_dir}$<0:>") # $<0:>: no per-config subdirectory
set(tlsleak_faulty_lib "${tlsleak_faulty_dir}/libfaulty.so")

# An OBJECT library links its objects in whole; ENABLE_EXPORTS (repro/) exports faulty_* too.
tlsleak_add_variant(VARIANT "faulty-${tlsleak_faulty_version}-static"
  LINK_LIBRARIES tlsleak_faulty_objects)
tlsleak_add_config(NAME faulty VERSION ${tlsleak_faulty_version} MODE static
  LIBRARY "${CMAKE_CURRENT_LIST_DIR}/faulty/faulty.c" ORIGIN "${tlsleak_faulty_origin}")

tlsleak_add_variant(VARIANT "faulty-${tlsleak_faulty_version}-dynamic"
  LINK_LIBRARIES tlsleak_faulty LINK_OPTIONS "-Wl,--no-as-needed")
tlsleak_add_config(NAME faulty VERSION ${tlsleak_faulty_version} MODE dynamic
  LIBRARY "${tlsleak_faulty_lib}" ORIGIN "${tlsleak_faulty_origin}")

tlsleak_add_built_override(NAME faulty VERSION ${tlsleak_faulty_version}
  DEPENDS tlsleak_faulty LIBRARY "${tlsleak_faulty_lib}" ORIGIN "${tlsleak_faulty_origin}")
