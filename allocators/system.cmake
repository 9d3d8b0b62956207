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

tlsleak_add_variant(VARIANT system)
tlsleak_add_config(ID system NAME system VERSION "${tlsleak_libc_version}" MODE system
  VARIANT system ORIGIN "C library" EXPECT system)
