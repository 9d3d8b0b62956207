# The version find_package(tlsleak [VERSION]) checks: the harness's own (one home:
# harness/tlsleak/__init__.py). Same major version is compatible.
file(STRINGS "${CMAKE_CURRENT_LIST_DIR}/../harness/tlsleak/__init__.py" tlsleak_version_line
  REGEX "^__version__ = ")
string(REGEX REPLACE "^__version__ = \"([0-9.]+)\".*" "\\1" PACKAGE_VERSION
  "${tlsleak_version_line}")
if(PACKAGE_VERSION VERSION_LESS PACKAGE_FIND_VERSION)
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
else()
  string(REGEX MATCH "^[0-9]+" tlsleak_major "${PACKAGE_VERSION}")
  string(REGEX MATCH "^[0-9]+" tlsleak_find_major "${PACKAGE_FIND_VERSION}")
  if(NOT PACKAGE_FIND_VERSION OR tlsleak_major STREQUAL tlsleak_find_major)
    set(PACKAGE_VERSION_COMPATIBLE TRUE)
  else()
    set(PACKAGE_VERSION_COMPATIBLE FALSE)
  endif()
  if(PACKAGE_FIND_VERSION STREQUAL PACKAGE_VERSION)
    set(PACKAGE_VERSION_EXACT TRUE)
  endif()
endif()
