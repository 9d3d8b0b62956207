# find_package(tlsleak) from a tlsleak checkout (docs/DESIGN.md "Where people already run tests"):
#
#   cmake -S . -B build -Dtlsleak_DIR=/path/to/tlsleak/cmake     (or CMAKE_PREFIX_PATH=/path/to/tlsleak)
#   find_package(tlsleak REQUIRED)
#   enable_testing()
#   tlsleak_add_test(NAME my_server_threads COMMAND my_server --churn 5000
#                    ALLOCATORS system mimalloc:override THREADS 5000)
#
# Provides:
#   TLSLEAK_ROOT      the checkout
#   TLSLEAK_COMMAND   its launcher (cache variable: point it at another checkout if you like)
#   tlsleak::header   an INTERFACE target whose include directory holds tlsleak.h
#   tlsleak_add_test  a CTest test that runs your program under `tlsleak run --exec` and fails
#                     on a leak (tlsleak's exit status: 0 no leak, 1 leak, 2 usage, 3 broken;
#                     4, a cell that could not be judged, is reported as skipped)
# Also usable without find_package: include(/path/to/tlsleak/cmake/tlsleakConfig.cmake).
cmake_minimum_required(VERSION 3.16)
include_guard(GLOBAL)

get_filename_component(TLSLEAK_ROOT "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(TLSLEAK_COMMAND "${TLSLEAK_ROOT}/tlsleak" CACHE FILEPATH "The tlsleak launcher")
set(TLSLEAK_INCLUDE_DIR "${TLSLEAK_ROOT}/include")

if(NOT TARGET tlsleak::header)
  add_library(tlsleak::header INTERFACE IMPORTED)
  set_target_properties(tlsleak::header PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${TLSLEAK_INCLUDE_DIR}")
endif()

# tlsleak_add_test(NAME <name> COMMAND <program or target> [<arg>...]
#                  [ALLOCATORS <config>...]   configurations, as `tlsleak run -a` takes them
#                                             (default: system and the override of every
#                                             available real allocator)
#                  [THREADS <n>]              `tlsleak run --threads <n>`: judged after n of
#                                             the program's threads (or when it ends first)
#                  [OPTIONS <option>...]      more `tlsleak run` options (e.g. --floor 256)
#                  [FAIL_ON_INCONCLUSIVE]     fail, not skip, when a cell cannot be judged
#                  [WORKING_DIRECTORY <dir>] [LABELS <label>...])
# The run's results.json and junit.xml go to <current binary dir>/tlsleak/<name>/, replacing
# those of the test's previous run.
function(tlsleak_add_test)
  cmake_parse_arguments(PARSE_ARGV 0 T "FAIL_ON_INCONCLUSIVE" "NAME;THREADS;WORKING_DIRECTORY"
    "COMMAND;ALLOCATORS;OPTIONS;LABELS")
  if(NOT T_NAME OR NOT T_COMMAND)
    message(FATAL_ERROR "tlsleak_add_test: NAME and COMMAND are required")
  endif()
  if(T_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "tlsleak_add_test(${T_NAME}): unknown arguments: ${T_UNPARSED_ARGUMENTS}")
  endif()
  list(POP_FRONT T_COMMAND program)
  if(TARGET "${program}")
    set(program "$<TARGET_FILE:${program}>")
  endif()
  set(run run)
  foreach(config IN LISTS T_ALLOCATORS)
    list(APPEND run -a "${config}")
  endforeach()
  if(DEFINED T_THREADS)
    if(NOT T_THREADS MATCHES "^[0-9]+$")
      message(FATAL_ERROR "tlsleak_add_test(${T_NAME}): THREADS must be a number, not '${T_THREADS}'")
    endif()
    list(APPEND run --threads "${T_THREADS}")
  endif()
  # The folder is this test's own: a rerun of ctest replaces the previous run's results.
  list(APPEND run ${T_OPTIONS} --overwrite --out "${CMAKE_CURRENT_BINARY_DIR}/tlsleak/${T_NAME}")
  set(where "")
  if(T_WORKING_DIRECTORY)
    set(where WORKING_DIRECTORY "${T_WORKING_DIRECTORY}")
  endif()
  # Everything after --exec -- is the program's own command line, untouched.
  add_test(NAME "${T_NAME}" COMMAND "${TLSLEAK_COMMAND}" ${run} --exec -- "${program}" ${T_COMMAND}
    ${where})
  set_tests_properties("${T_NAME}" PROPERTIES LABELS "tlsleak;${T_LABELS}")
  if(NOT T_FAIL_ON_INCONCLUSIVE)
    # tlsleak exits 4 when no leak was found but a cell could not be judged: not a pass.
    set_tests_properties("${T_NAME}" PROPERTIES SKIP_RETURN_CODE 4)
  endif()
endfunction()
