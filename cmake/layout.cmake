# cmake/layout.cmake — where faultstack's files go when installed (GNUInstallDirs),
# and the same layout in the build tree, so that the CLI finds its preload and
# data by one rule relative to its own path (harness/cli/paths.c):
#   ${bindir}/faultstack
#   ${libdir}/faultstack/libfaultstack-preload.so      (FS_PRELOAD_RELDIR from bindir)
#   ${datadir}/faultstack/schema.sql, queries/*.sql     (FS_DATA_RELDIR from bindir)
# Included by the top-level CMakeLists.txt before the targets.
include(GNUInstallDirs)

file(RELATIVE_PATH FS_PRELOAD_RELDIR ${CMAKE_INSTALL_FULL_BINDIR} ${CMAKE_INSTALL_FULL_LIBDIR}/faultstack)
file(RELATIVE_PATH FS_DATA_RELDIR ${CMAKE_INSTALL_FULL_BINDIR} ${CMAKE_INSTALL_FULL_DATADIR}/faultstack)

# The build tree's copy of the data directory, at the same place relative to
# bin/ (build/share/faultstack with the default layout), so that `faultstack
# --help` names real files there too. Not made when the install layout would put
# it outside the build tree (an absolute datadir elsewhere).
get_filename_component(FS_BUILD_DATADIR ${CMAKE_BINARY_DIR}/bin/${FS_DATA_RELDIR} ABSOLUTE)
string(FIND "${FS_BUILD_DATADIR}/" "${CMAKE_BINARY_DIR}/" _fs_inside)
if(_fs_inside EQUAL 0)
  configure_file(${PROJECT_SOURCE_DIR}/reports/schema.sql ${FS_BUILD_DATADIR}/schema.sql COPYONLY)
  file(GLOB _fs_queries CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/reports/queries/*.sql)
  foreach(_q IN LISTS _fs_queries)
    get_filename_component(_qn ${_q} NAME)
    configure_file(${_q} ${FS_BUILD_DATADIR}/queries/${_qn} COPYONLY)
  endforeach()
endif()
