# Build the repro's C programs against musl with Debian's musl-gcc (package musl-tools), to run
# natively: the `musl` platform (harness/tlsleak/platforms/musl.py).
#   cmake -S . -B build-musl -DCMAKE_TOOLCHAIN_FILE=cmake/musl.cmake
# Programs link musl dynamically, musl-gcc's default (Alpine's too): they start under musl's
# loader, /lib/ld-musl-<arch>.so.1, whose libc.so defines malloc (mallocng since musl 1.2.1).
# Debian has no musl C++ library (musl-tools ships musl-gcc alone), so nothing C++ builds here:
# TLSLEAK_NO_CXX is the reason the C++ scenarios are listed as unavailable (repro/). CMake still
# needs a C++ compiler for project(); musl-gcc compiles none of ours.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR "${CMAKE_HOST_SYSTEM_PROCESSOR}")
set(CMAKE_C_COMPILER musl-gcc)
set(CMAKE_CXX_COMPILER musl-gcc)
set(TLSLEAK_LIBC musl)
set(TLSLEAK_MUSL_LOADER "/lib/ld-musl-${CMAKE_SYSTEM_PROCESSOR}.so.1")
set(TLSLEAK_NO_CXX "Debian has no musl C++ library (musl-tools ships musl-gcc only)")
# Never a glibc library for a musl program.
set(CMAKE_FIND_ROOT_PATH "/usr/lib/${CMAKE_SYSTEM_PROCESSOR}-linux-musl")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
