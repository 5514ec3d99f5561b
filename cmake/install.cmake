# cmake/install.cmake — what `cmake --install` puts where, besides the targets
# themselves (the CLI and the preload: harness/CMakeLists.txt; exitstack:
# targets/exitstack/CMakeLists.txt). GNUInstallDirs paths, the same as the
# CLI's own lookup (cmake/layout.cmake):
#   ${datadir}/faultstack/schema.sql, queries/*.sql
#   ${mandir}/man1/faultstack.1, faultstack-<subcommand>.1
#   ${includedir}/faultstack/*.h                      (annotation header, when there is one)
#   ${libdir}/cmake/faultstack/                       find_package(faultstack)
#   ${libdir}/pkgconfig/faultstack.pc
# Included by the top-level CMakeLists.txt after the targets.
include(CMakePackageConfigHelpers)

install(FILES ${PROJECT_SOURCE_DIR}/reports/schema.sql DESTINATION ${CMAKE_INSTALL_DATADIR}/faultstack)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/reports/queries/ DESTINATION ${CMAKE_INSTALL_DATADIR}/faultstack/queries
        FILES_MATCHING PATTERN "*.sql")

file(GLOB _fs_man1 CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/man/*.1)
install(FILES ${_fs_man1} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

# The annotation header(s) of harness/include/faultstack/, once there are some.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/harness/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        OPTIONAL FILES_MATCHING PATTERN "*.h")

# The CMake package: imported targets faultstack::cli and faultstack::preload,
# faultstack_add_test() and its driver script.
set(FS_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/faultstack)
set(FS_INSTALL_DATADIR ${CMAKE_INSTALL_DATADIR}/faultstack)
install(EXPORT faultstackTargets NAMESPACE faultstack:: DESTINATION ${FS_CMAKEDIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/faultstackConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/cmake/faultstackConfig.cmake
  INSTALL_DESTINATION ${FS_CMAKEDIR} PATH_VARS FS_INSTALL_DATADIR CMAKE_INSTALL_INCLUDEDIR)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/cmake/faultstackConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)   # 0.x: a new minor version may change the CLI
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/cmake/faultstackConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/cmake/faultstackConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/faultstack_add_test.cmake
        DESTINATION ${FS_CMAKEDIR})
install(PROGRAMS ${PROJECT_SOURCE_DIR}/cmake/faultstack_ctest.sh DESTINATION ${FS_CMAKEDIR})

# pkg-config: the prefix is the one installed to (cmake --install --prefix P), so
# the file is finished at install time.
foreach(_d BINDIR LIBDIR INCLUDEDIR DATADIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${_d}}")
    set(FS_PC_${_d} "${CMAKE_INSTALL_${_d}}")
  else()
    set(FS_PC_${_d} "\${prefix}/${CMAKE_INSTALL_${_d}}")
  endif()
endforeach()
configure_file(${PROJECT_SOURCE_DIR}/cmake/faultstack.pc.in ${CMAKE_CURRENT_BINARY_DIR}/cmake/faultstack.pc.stage @ONLY)
install(CODE "
  file(READ \"${CMAKE_CURRENT_BINARY_DIR}/cmake/faultstack.pc.stage\" _fs_pc)
  string(REPLACE \"%FS_PREFIX%\" \"\${CMAKE_INSTALL_PREFIX}\" _fs_pc \"\${_fs_pc}\")
  file(WRITE \"${CMAKE_CURRENT_BINARY_DIR}/cmake/faultstack.pc\" \"\${_fs_pc}\")")
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/cmake/faultstack.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The same function in this tree (tests/install registers tests with it).
include(${PROJECT_SOURCE_DIR}/cmake/faultstack_add_test.cmake)
