# Included after mimalloc's project() (CMAKE_PROJECT_INCLUDE) by its MinGW build for the
# `redirect` configuration (harness/tlsleak/families/mimalloc.py):
# - the DLL and its import library without MinGW's "lib" prefix: mimalloc.dll, as MSVC names
#   it and as mimalloc-redirect.dll looks for it (v2.1.x's CMake says libmimalloc.dll);
# - mimalloc-redirect.dll first among the DLL's imports: it must be initialised before the C
#   runtime it patches. GNU ld orders imports by the path of their import library (SORT(*) in
#   its PE script), so bin/mimalloc-redirect.lib is linked through a path with a leading `//`
#   (the same file here), which sorts before the toolchain's /usr/... libraries.
set(CMAKE_SHARED_LIBRARY_PREFIX "")
set(CMAKE_IMPORT_LIBRARY_PREFIX "")

function(tlsleak_redirect_first)
  if(TARGET mimalloc)
    get_target_property(libs mimalloc LINK_LIBRARIES)
    if(libs)
      list(TRANSFORM libs REPLACE "^/([^/].*mimalloc-redirect[^/]*\\.lib)$" "//\\1")
      set_target_properties(mimalloc PROPERTIES LINK_LIBRARIES "${libs}")
    endif()
  endif()
endfunction()
cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL tlsleak_redirect_first)
