# `cmake --install build --prefix P`: the attnlab binary, the five static libraries, their public
# headers under P/include/attnlab (included as "autograd/tensor.hpp", as in the tree) and
# P/lib/cmake/attnlab/attnlabConfig.cmake with the targets attnlab::autograd, ::nn, ::models,
# ::train and ::data, plus attnlab::xtensor_interop when the consumer has xtensor. docs/library.md.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(ATTNLAB_INSTALL_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR}/attnlab)
set(ATTNLAB_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/attnlab)

foreach(lib autograd nn models train data)
  set_target_properties(attnlab_${lib} PROPERTIES EXPORT_NAME ${lib})
endforeach()
install(TARGETS attnlab_autograd attnlab_nn attnlab_models attnlab_train attnlab_data EXPORT attnlabTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${ATTNLAB_INSTALL_INCLUDEDIR})
install(TARGETS attnlab RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# The interop target (models/CMakeLists.txt) has its own export set: the config includes it only
# when the consumer has xtensor and xsimd.
set_target_properties(attnlab_xtensor_interop PROPERTIES EXPORT_NAME xtensor_interop)
install(TARGETS attnlab_xtensor_interop EXPORT attnlabXtensorTargets)

# Public headers: every header of the five directories except the op files' private ones
# (autograd/ops/), the command line's (train/cli/, which needs CLI11) and the task table's.
install(DIRECTORY autograd nn models train data DESTINATION ${ATTNLAB_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.hpp"
        PATTERN "ops" EXCLUDE PATTERN "cli" EXCLUDE PATTERN "tasks_impl.hpp" EXCLUDE)

install(EXPORT attnlabTargets NAMESPACE attnlab:: DESTINATION ${ATTNLAB_INSTALL_CMAKEDIR})
install(EXPORT attnlabXtensorTargets NAMESPACE attnlab:: DESTINATION ${ATTNLAB_INSTALL_CMAKEDIR})
configure_package_config_file(cmake/attnlabConfig.cmake.in ${PROJECT_BINARY_DIR}/attnlabConfig.cmake
                              INSTALL_DESTINATION ${ATTNLAB_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/attnlabConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/attnlabConfig.cmake ${PROJECT_BINARY_DIR}/attnlabConfigVersion.cmake
              cmake/attnlabOpenBLAS.cmake
        DESTINATION ${ATTNLAB_INSTALL_CMAKEDIR})
