# How ssprop links MLIR: Debian's shared libMLIR.so by default (quick links, as CI needs), or the
# individual static libraries when SSPROP_LINK_MLIR_DYLIB is OFF (a build that runs without MLIR
# installed). Mixing the two would register MLIR's globals twice, so every target asks here.
function(ssprop_mlir_link_libs out)
  if(SSPROP_LINK_MLIR_DYLIB)
    set(${out} MLIR PARENT_SCOPE)
  else()
    set(${out} ${ARGN} PARENT_SCOPE)
  endif()
endfunction()
