# `cmake --install build --prefix P`: the C API (header, libxunit.so.1 and libxunit.a), the
# tools, the shipped models, the Python package, and what find_package / pkg-config need.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(XUNIT_INSTALL_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/xunit)
# Debian's layout for Python packages of the distribution (on sys.path for /usr); under another
# prefix, put P/<this> on PYTHONPATH.
set(XUNIT_PYTHON_DIR lib/python3/dist-packages CACHE STRING "Install folder of the xunit Python package (relative to the prefix)")

# The tools find libxunit.so.1 next to them, wherever the prefix is moved.
file(RELATIVE_PATH _xunit_bin_to_lib /${CMAKE_INSTALL_BINDIR} /${CMAKE_INSTALL_LIBDIR})
set(_xunit_tools xunit-run xunit-convert)
if(XUNIT_BUILD_BENCH)
  list(APPEND _xunit_tools xunit-bench)
endif()
set_target_properties(${_xunit_tools} PROPERTIES INSTALL_RPATH "$ORIGIN/${_xunit_bin_to_lib}")
install(TARGETS ${_xunit_tools} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tools)

install(FILES ${PROJECT_SOURCE_DIR}/include/xunit/xunit.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/xunit
        COMPONENT dev)
install(TARGETS xunit EXPORT xunitTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT lib NAMELINK_COMPONENT dev
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT xunitTargets NAMESPACE xunit:: DESTINATION ${XUNIT_INSTALL_CMAKE_DIR} COMPONENT dev)
if(XUNIT_BUILD_STATIC)
  install(TARGETS xunit_static EXPORT xunitStaticTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          COMPONENT dev INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(EXPORT xunitStaticTargets NAMESPACE xunit:: DESTINATION ${XUNIT_INSTALL_CMAKE_DIR} COMPONENT dev)
endif()
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/xunitConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/xunitConfig.cmake INSTALL_DESTINATION ${XUNIT_INSTALL_CMAKE_DIR}
                              PATH_VARS XUNIT_INSTALL_MODEL_DIR)
# 0.x: minor versions may change the API, so only the same minor version is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/xunitConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/xunitConfig.cmake ${PROJECT_BINARY_DIR}/xunitConfigVersion.cmake
        DESTINATION ${XUNIT_INSTALL_CMAKE_DIR} COMPONENT dev)
file(RELATIVE_PATH XUNIT_PC_TO_PREFIX /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
string(REGEX REPLACE "/$" "" XUNIT_PC_TO_PREFIX "${XUNIT_PC_TO_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/xunit.pc.in ${PROJECT_BINARY_DIR}/xunit.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/xunit.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

# ... with their cards (NAME.md: architecture, data, training, validation protocol and PSNR).
file(GLOB _xunit_models CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/models/*.xunit ${PROJECT_SOURCE_DIR}/models/*.md)
install(FILES ${_xunit_models} DESTINATION ${XUNIT_INSTALL_MODEL_DIR} COMPONENT models)

# The Python package, told where libxunit.so.1 is relative to itself.
file(RELATIVE_PATH XUNIT_PYTHON_TO_LIB /${XUNIT_PYTHON_DIR}/xunit /${CMAKE_INSTALL_LIBDIR})
file(RELATIVE_PATH XUNIT_PYTHON_TO_MODELS /${XUNIT_PYTHON_DIR}/xunit /${XUNIT_INSTALL_MODEL_DIR})
configure_file(${PROJECT_SOURCE_DIR}/python/xunit/_install_paths.py.in
               ${PROJECT_BINARY_DIR}/python/xunit/_install_paths.py @ONLY)
file(GLOB _xunit_py ${PROJECT_SOURCE_DIR}/python/xunit/*.py)
install(FILES ${_xunit_py} ${PROJECT_BINARY_DIR}/python/xunit/_install_paths.py
        DESTINATION ${XUNIT_PYTHON_DIR}/xunit COMPONENT python)
