# What `cmake --install` puts in a prefix, and what the wheel carries.
#
# Component "cpp" (a plain `cmake --install build --prefix P`): the public
# headers of the core and the LibTorch bridge, libssprop_core.so,
# libssprop_torch.so, the tools, and P/lib/cmake/ssprop/ssprop-config.cmake,
# so that a LibTorch project can `find_package(ssprop)` and link ssprop::torch
# (and ssprop::core). Relocatable: the exported paths are relative to the
# prefix.
#
# Component "python" (only when asked for by name, as pyproject.toml does): the
# libraries into ssprop/lib/ of the wheel, beside the Python package.
include(CMakePackageConfigHelpers)

set(SSPROP_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/ssprop)
# Portable builds: the bridge loads libssprop_runtime.so (the compiler and
# MLIR inside), installed beside it. CMake cannot export a library without the
# shared libraries it links, and the runtime is no public target: portable
# builds install no CMake package (the wheel still carries all three).
set(ssprop_private_libraries)
if(SSPROP_PORTABLE)
  set(ssprop_private_libraries SSPropRuntime)
else()
  set(ssprop_export EXPORT sspropTargets)
endif()

install(TARGETS SSPropCore ssprop_torch ${ssprop_private_libraries} ${ssprop_export}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT cpp)
foreach(dir IN ITEMS Core Torch)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ssprop/${dir}
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ssprop COMPONENT cpp)
endforeach()
set(ssprop_tools ssprop-opt ssprop-translate ssprop-compile)
if(TARGET ssprop-train)
  list(APPEND ssprop_tools ssprop-train)
endif()
install(TARGETS ${ssprop_tools} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT cpp)

install(TARGETS SSPropCore ssprop_torch ${ssprop_private_libraries}
  LIBRARY DESTINATION ssprop/lib COMPONENT python EXCLUDE_FROM_ALL)

if(SSPROP_PORTABLE)
  return()
endif()
install(EXPORT sspropTargets NAMESPACE ssprop:: FILE ssprop-targets.cmake
  DESTINATION ${SSPROP_CMAKE_INSTALL_DIR} COMPONENT cpp)
get_property(SSPROP_TORCH_VERSION GLOBAL PROPERTY SSPROP_TORCH_VERSION)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/ssprop-config.cmake.in
  ${CMAKE_BINARY_DIR}/ssprop-config.cmake INSTALL_DESTINATION ${SSPROP_CMAKE_INSTALL_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/ssprop-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/ssprop-config.cmake ${CMAKE_BINARY_DIR}/ssprop-config-version.cmake
  DESTINATION ${SSPROP_CMAKE_INSTALL_DIR} COMPONENT cpp)
