# Programs linked against the Universal CRT (ucrtbase.dll) with Debian's mingw-w64, whose
# compilers target msvcrt.dll: mimalloc's redirect module patches ucrtbase.dll only (the
# `redirect` configuration, cmake/tlsleak_built.cmake). Debian 12 ships libucrt.a but no
# UCRT-targeting compiler, so a specs file derived from the compiler's own turns -lmsvcrt into
# -lucrt and defines _UCRT; winpthread (built for msvcrt) calls _setjmp, which libucrt.a lacks:
# repro/common/ucrt_setjmp.c defines it.
#   tlsleak_ucrt_specs(<out-var>): the specs file (made once per build tree), "" when the
#   compiler gives no specs to derive it from.
function(tlsleak_ucrt_specs out)
  set(specs "${CMAKE_BINARY_DIR}/ucrt.specs")
  set(${out} "" PARENT_SCOPE)
  if(NOT EXISTS "${specs}")
    execute_process(COMMAND "${CMAKE_C_COMPILER}" -dumpspecs OUTPUT_VARIABLE text
      RESULT_VARIABLE rc ERROR_QUIET)
    if(NOT rc EQUAL 0 OR NOT text MATCHES "-lmsvcrt")
      return()
    endif()
    string(REPLACE "-lmsvcrt" "-lucrt" text "${text}")
    string(REGEX REPLACE "\\*cpp:\n([^\n]*)" "*cpp:\n\\1 -D_UCRT" text "${text}")
    file(WRITE "${specs}" "${text}")
  endif()
  set(${out} "${specs}" PARENT_SCOPE)
endfunction()
