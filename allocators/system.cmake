# The C library's own malloc: the baseline every other configuration is compared with, and the
# variant that `override` configurations run with a preloaded allocator.

set(tlsleak_libc_version "unknown")
if(CMAKE_SYSTEM_NAME STREQUAL "Linux" AND NOT CMAKE_CROSSCOMPILING)
  execute_process(COMMAND getconf GNU_LIBC_VERSION
    OUTPUT_VARIABLE tlsleak_out RESULT_VARIABLE tlsleak_rc
    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(tlsleak_rc EQUAL 0 AND tlsleak_out MATCHES "^glibc ([0-9.]+)$")
    set(tlsleak_libc_version "${CMAKE_MATCH_1}")
  endif()
endif()

# musl (cmake/musl.cmake) has no version call: its loader says it ("Version 1.2.3" on stderr),
# and the programs are compiled with it (repro/prim/linux.c prints it as libc=musl-VERSION).
if(TLSLEAK_LIBC STREQUAL "musl" AND TLSLEAK_MUSL_LOADER)
  execute_process(COMMAND "${TLSLEAK_MUSL_LOADER}" ERROR_VARIABLE tlsleak_out
    OUTPUT_QUIET RESULT_VARIABLE tlsleak_rc)
  if(tlsleak_out MATCHES "\nVersion ([0-9][0-9.]*)")
    set(tlsleak_libc_version "${CMAKE_MATCH_1}")
    add_compile_definitions(TLSLEAK_MUSL_VERSION="${tlsleak_libc_version}")
    set(TLSLEAK_LIBC_BUILT "musl ${tlsleak_libc_version}") # as the host's: "glibc 2.36"
  endif()
  # The file that must define malloc in every program (identity.allocator_problem checks it).
  tlsleak_real_file(tlsleak_libc_file "${TLSLEAK_MUSL_LOADER}")
  set(tlsleak_libc_args LIBRARY "${tlsleak_libc_file}" ORIGIN "C library (musl)")
else()
  set(tlsleak_libc_args ORIGIN "C library")
endif()

tlsleak_add_variant(VARIANT system)
tlsleak_add_config(ID system NAME system VERSION "${tlsleak_libc_version}" MODE system
  VARIANT system EXPECT system ${tlsleak_libc_args})
