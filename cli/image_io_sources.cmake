set(XUNIT_IMAGE_IO_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/image_io.cpp
  ${CMAKE_CURRENT_LIST_DIR}/npy_io.cpp
  ${CMAKE_CURRENT_LIST_DIR}/png16_writer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/stb_codec.cpp
  ${CMAKE_CURRENT_LIST_DIR}/synthetic_image.cpp
)
