# How ssprop links MLIR: Debian's shared libMLIR.so by default (quick links, as CI needs), or the
# individual static libraries when SSPROP_LINK_MLIR_DYLIB is OFF (a build that runs without MLIR
# or LLVM installed). Mixing the two would register MLIR's globals twice, so every target asks here.
function(ssprop_mlir_link_libs out)
  if(SSPROP_LINK_MLIR_DYLIB)
    set(${out} MLIR PARENT_SCOPE)
  else()
    set(${out} ${ARGN} PARENT_SCOPE)
  endif()
endfunction()

# Debian's LLVM is configured with LLVM_LINK_LLVM_DYLIB, so both its static MLIR libraries (through
# their link interface) and add_llvm_executable/add_mlir_library (through that flag) pull in
# libLLVM.so. A static build replaces it with LLVM's static component libraries. A macro: the flag
# must change in the caller's scope, before the subdirectories define their targets.
macro(ssprop_link_llvm_statically)
  set(LLVM_LINK_LLVM_DYLIB OFF)
  llvm_map_components_to_libnames(ssprop_llvm_static_libs support demangle)
  get_directory_property(ssprop_imported_targets IMPORTED_TARGETS)
  foreach(target IN LISTS ssprop_imported_targets)
    if(target MATCHES "^MLIR")
      get_target_property(deps ${target} INTERFACE_LINK_LIBRARIES)
      if(deps AND "LLVM" IN_LIST deps)
        list(REMOVE_ITEM deps LLVM)
        list(APPEND deps ${ssprop_llvm_static_libs})
        set_target_properties(${target} PROPERTIES INTERFACE_LINK_LIBRARIES "${deps}")
      endif()
    endif()
  endforeach()
endmacro()

# Gives the targets of the calling directory (and its subdirectories) MLIR's
# and LLVM's include paths and definitions, and the generated ODS headers.
# Only the compiler's directories call it.
macro(ssprop_use_mlir)
  include_directories(SYSTEM ${LLVM_INCLUDE_DIRS} ${MLIR_INCLUDE_DIRS})
  include_directories(${PROJECT_BINARY_DIR}/include)
  add_definitions(${LLVM_DEFINITIONS})
endmacro()
