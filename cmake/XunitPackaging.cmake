# `cpack -G DEB` in the build folder: one Debian package with the tools, the libraries, the
# header, the CMake/pkg-config files, the shipped models and the Python package, under /usr.
set(CPACK_PACKAGE_NAME xunit)
set(CPACK_PACKAGE_VENDOR "xunit developers")
set(CPACK_PACKAGE_CONTACT "xunit developers <xunit@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "CPU inference engine for xUnit image-restoration networks")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE amd64)
# The shared libraries the tools and libxunit.so.1 load (Debian 12 package names; checked by
# tests/install/check_install.sh, which installs the package's files and runs them).
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libdnnl2 (>= 2.6), libgomp1, libstdc++6, libgcc-s1, libc6, zlib1g, libstb0, libonnx1, libprotobuf32, libjpeg62-turbo, libpng16-16, libwebp7, libwebpmux3, libwebpdemux2, libtiff6, libexif12")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "python3, python3-numpy")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "libdnnl-dev, python3-dask, python3-distributed, python3-pil")
set(CPACK_STRIP_FILES ON)
include(CPack)
