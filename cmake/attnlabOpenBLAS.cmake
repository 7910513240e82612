# attnlab::openblas: Debian's OpenBLASConfig.cmake sets only OpenBLAS_INCLUDE_DIRS and
# OpenBLAS_LIBRARIES, no target. Both the build and the installed attnlabConfig.cmake include
# this file after find_package(OpenBLAS CONFIG), so the exported libraries can name the same
# target on either side. (Imported, so its include directory is a system one.)
if(NOT TARGET attnlab::openblas)
  add_library(attnlab::openblas INTERFACE IMPORTED)
  set_target_properties(attnlab::openblas PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${OpenBLAS_INCLUDE_DIRS}"
    INTERFACE_LINK_LIBRARIES "${OpenBLAS_LIBRARIES}")
endif()
