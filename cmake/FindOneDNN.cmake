# Locates oneDNN (Debian's libdnnl-dev) without its package config: Debian's dnnl-config.cmake
# requires the OpenCL development files because the library was built with a GPU runtime, which
# this CPU engine never uses. Defines the imported target DNNL::dnnl.
find_path(ONEDNN_INCLUDE_DIR NAMES oneapi/dnnl/dnnl.hpp)
find_library(ONEDNN_LIBRARY NAMES dnnl)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(OneDNN REQUIRED_VARS ONEDNN_LIBRARY ONEDNN_INCLUDE_DIR)
if(OneDNN_FOUND AND NOT TARGET DNNL::dnnl)
  add_library(DNNL::dnnl UNKNOWN IMPORTED)
  set_target_properties(DNNL::dnnl PROPERTIES IMPORTED_LOCATION "${ONEDNN_LIBRARY}"
                                              INTERFACE_INCLUDE_DIRECTORIES "${ONEDNN_INCLUDE_DIR}")
endif()
