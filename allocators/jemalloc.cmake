# jemalloc from the system packages (Debian: libjemalloc-dev): linked to (dynamic), preloaded
# (override), and linked into the executable from libjemalloc.a (static).
#
# static: a plain archive, not a whole one: its C++ operators (jemalloc_cpp.o) then come in
# only for C++ programs. -u malloc pulls in the C half even for a program whose only malloc
# calls are in tlsleak_common, which links after it. mallctl keeps default visibility, so the
# programs' ENABLE_EXPORTS is all run-time identification needs.

find_package(Threads REQUIRED)
tlsleak_add_packaged(NAME jemalloc PACKAGE libjemalloc-dev
  HEADER jemalloc/jemalloc.h LIBRARY_NAMES jemalloc
  VERSION_MACROS JEMALLOC_VERSION_MAJOR JEMALLOC_VERSION_MINOR JEMALLOC_VERSION_BUGFIX
  MODES dynamic override static
  STATIC_NAMES libjemalloc.a STATIC_LINK_LIBRARIES Threads::Threads ${CMAKE_DL_LIBS} m
  STATIC_LINK_OPTIONS "-Wl,--undefined=malloc")
