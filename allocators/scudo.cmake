# LLVM's scudo (standalone) from the system packages (Debian: libclang-rt-14-dev, or another
# LLVM version's libclang-rt-NN-dev): the prebuilt libclang_rt.scudo_standalone-<arch>.so linked
# to (dynamic) and preloaded (override), and its .a linked into the executable (static, with
# the _cxx archive for the C++ operators). It lives in LLVM's resource folder
# (/usr/lib/llvm-NN/lib/clang/<version>/), where no default search looks: the newest installed
# one is found here first, and tlsleak_add_packaged takes what was found. The version is the
# resource folder's name (14.0.6; LLVM 16+ name it by the major alone). scudo has no version
# call and no version macro.

# tlsleak_scudo_version(<out-var> <scudo_interface.h>): the clang resource folder's version.
function(tlsleak_scudo_version out header)
  set(${out} "" PARENT_SCOPE)
  if(header MATCHES "/clang/([0-9][0-9.]*)/include/")
    set(${out} "${CMAKE_MATCH_1}" PARENT_SCOPE)
  endif()
endfunction()

set(tlsleak_scudo_arch "${CMAKE_SYSTEM_PROCESSOR}")
file(GLOB tlsleak_scudo_dirs LIST_DIRECTORIES true "/usr/lib/llvm-*/lib/clang/*")
list(SORT tlsleak_scudo_dirs COMPARE NATURAL ORDER DESCENDING)
set(tlsleak_scudo_includes "")
set(tlsleak_scudo_libdirs "")
foreach(dir IN LISTS tlsleak_scudo_dirs)
  if(EXISTS "${dir}/lib/linux/libclang_rt.scudo_standalone-${tlsleak_scudo_arch}.so")
    list(APPEND tlsleak_scudo_includes "${dir}/include")
    list(APPEND tlsleak_scudo_libdirs "${dir}/lib/linux")
  endif()
endforeach()
find_path(TLSLEAK_SCUDO_INCLUDE_DIR sanitizer/scudo_interface.h
  PATHS ${tlsleak_scudo_includes} NO_DEFAULT_PATH)
set(tlsleak_scudo_libnames "clang_rt.scudo_standalone-${tlsleak_scudo_arch}")
# The library beside the header that was found, not another LLVM version's.
get_filename_component(tlsleak_scudo_root "${TLSLEAK_SCUDO_INCLUDE_DIR}" DIRECTORY)
find_library(TLSLEAK_SCUDO_LIBRARY NAMES ${tlsleak_scudo_libnames}
  PATHS "${tlsleak_scudo_root}/lib/linux" NO_DEFAULT_PATH)
find_library(TLSLEAK_SCUDO_STATIC_LIBRARY
  NAMES "lib${tlsleak_scudo_libnames}.a" PATHS "${tlsleak_scudo_root}/lib/linux" NO_DEFAULT_PATH)
find_library(TLSLEAK_SCUDO_CXX_LIBRARY
  NAMES "libclang_rt.scudo_standalone_cxx-${tlsleak_scudo_arch}.a"
  PATHS "${tlsleak_scudo_root}/lib/linux" NO_DEFAULT_PATH)
set(tlsleak_scudo_cxx "")
if(TLSLEAK_SCUDO_CXX_LIBRARY)
  set(tlsleak_scudo_cxx "${TLSLEAK_SCUDO_CXX_LIBRARY}")
endif()

find_package(Threads REQUIRED)
tlsleak_add_packaged(NAME scudo PACKAGE libclang-rt-14-dev WHAT "LLVM's scudo (standalone)"
  HEADER sanitizer/scudo_interface.h LIBRARY_NAMES ${tlsleak_scudo_libnames}
  VERSION_FUNCTION tlsleak_scudo_version MODES dynamic override static
  STATIC_NAMES "lib${tlsleak_scudo_libnames}.a"
  STATIC_LINK_LIBRARIES ${tlsleak_scudo_cxx} Threads::Threads
  STATIC_LINK_OPTIONS "-Wl,--undefined=malloc")
