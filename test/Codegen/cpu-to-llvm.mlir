// RUN: ssprop-opt %s -split-input-file --ssprop-cpu-to-llvm | FileCheck %s
// RUN: ssprop-opt %S/to-cpu.mlir --ssprop-lower-to-gemm \
// RUN:   | ssprop-translate --ssprop-to-cpu \
// RUN:   | ssprop-opt -split-input-file --ssprop-cpu-to-llvm \
// RUN:   | FileCheck %s --check-prefix=LAYER

// The CPU kernels' path to the LLVM dialect: memrefs become bare pointers,
// masked loads and FMAs LLVM intrinsics, and every kernel gets the entry
// point the runtime calls, which reads each parameter from an 8-byte slot.

// CHECK-LABEL: llvm.mlir.global private constant @masks(dense<[-1, -1, 0, 0, -1, -1, 0, 0]> : tensor<8xi32>)
// CHECK-LABEL: llvm.func internal @masked_fma(%arg0: !llvm.ptr, %arg1: !llvm.ptr, %arg2: i64, %arg3: i64, %arg4: i64)
// CHECK: llvm.intr.masked.load {{.*}} : (!llvm.ptr, vector<8xi1>, vector<8xf32>) -> vector<8xf32>
// CHECK: llvm.intr.fmuladd({{.*}}) : (vector<8xf32>, vector<8xf32>, vector<8xf32>) -> vector<8xf32>
// CHECK: llvm.intr.vector.reduce.fadd{{.*}}<{fastmathFlags = #llvm.fastmath<reassoc>}> : (f32, vector<8xf32>) -> f32
// CHECK-LABEL: llvm.func @masked_fma_entry(%arg0: !llvm.ptr, %arg1: i64, %arg2: i64)
// CHECK-NEXT: %[[S0:.*]] = llvm.getelementptr %arg0[0] : (!llvm.ptr) -> !llvm.ptr, i64
// CHECK-NEXT: %[[V0:.*]] = llvm.load %[[S0]] : !llvm.ptr -> i64
// CHECK-NEXT: %[[P0:.*]] = llvm.inttoptr %[[V0]] : i64 to !llvm.ptr
// CHECK-NEXT: %[[S1:.*]] = llvm.getelementptr %arg0[1] : (!llvm.ptr) -> !llvm.ptr, i64
// CHECK-NEXT: %[[V1:.*]] = llvm.load %[[S1]] : !llvm.ptr -> i64
// CHECK-NEXT: %[[P1:.*]] = llvm.inttoptr %[[V1]] : i64 to !llvm.ptr
// CHECK-NEXT: %[[S2:.*]] = llvm.getelementptr %arg0[2] : (!llvm.ptr) -> !llvm.ptr, i64
// CHECK-NEXT: %[[K:.*]] = llvm.load %[[S2]] : !llvm.ptr -> i64
// CHECK-NEXT: llvm.call @masked_fma(%[[P0]], %[[P1]], %[[K]], %arg1, %arg2) : (!llvm.ptr, !llvm.ptr, i64, i64, i64) -> ()
// CHECK-NEXT: llvm.return
memref.global "private" constant @masks : memref<8xi32> = dense<[-1, -1, 0, 0, -1, -1, 0, 0]>
func.func @masked_fma(%x: memref<64xf32>, %out: memref<8xf32>, %k: index, %t0: index, %t1: index) {
  %c1 = arith.constant 1 : index
  %c0 = arith.constant 0 : index
  %zero = arith.constant dense<0.0> : vector<8xf32>
  %zeroi = arith.constant dense<0> : vector<8xi32>
  %table = memref.get_global @masks : memref<8xi32>
  %entries = vector.load %table[%c0] : memref<8xi32>, vector<8xi32>
  %mask = arith.cmpi slt, %entries, %zeroi : vector<8xi32>
  scf.for %t = %t0 to %t1 step %c1 {
    %v = vector.maskedload %x[%t], %mask, %zero : memref<64xf32>, vector<8xi1>, vector<8xf32> into vector<8xf32>
    %acc = vector.fma %v, %v, %zero : vector<8xf32>
    %sum = vector.reduction <add>, %acc fastmath<reassoc> : vector<8xf32> into f32
    memref.store %sum, %out[%t] : memref<8xf32>
  }
  return
}

// -----

// bf16 travels as its 16 bits: widened by a shift on load.
// CHECK-LABEL: llvm.func internal @widen(%arg0: !llvm.ptr, %arg1: !llvm.ptr, %arg2: i64, %arg3: i64)
// CHECK: llvm.load {{.*}} : !llvm.ptr -> vector<16xi16>
// CHECK-NEXT: llvm.zext {{.*}} : vector<16xi16> to vector<16xi32>
// CHECK: llvm.shl
// CHECK-NEXT: llvm.bitcast {{.*}} : vector<16xi32> to vector<16xf32>
// CHECK-LABEL: llvm.func @widen_entry(%arg0: !llvm.ptr, %arg1: i64, %arg2: i64)
func.func @widen(%x: memref<16xi16>, %out: memref<16xf32>, %t0: index, %t1: index) {
  %c0 = arith.constant 0 : index
  %sixteen = arith.constant dense<16> : vector<16xi32>
  %bits = vector.load %x[%c0] : memref<16xi16>, vector<16xi16>
  %wide = arith.extui %bits : vector<16xi16> to vector<16xi32>
  %shifted = arith.shli %wide, %sixteen : vector<16xi32>
  %value = arith.bitcast %shifted : vector<16xi32> to vector<16xf32>
  vector.store %value, %out[%c0] : memref<16xf32>, vector<16xf32>
  return
}

// A whole layer: every kernel lowered, with its entry point.
// LAYER: llvm.func internal @[[WGRAD:ssprop_cpu_wgrad_f32_6x2_gather_c1_v8_[0-9a-f]{8}]](%arg0: !llvm.ptr, %arg1: !llvm.ptr, %arg2: !llvm.ptr, %arg3: !llvm.ptr, %arg4: !llvm.ptr, %arg5: i64, %arg6: i64, %arg7: i64)
// LAYER: llvm.intr.masked.load
// LAYER: llvm.intr.fmuladd
// LAYER: llvm.func @[[WGRAD]]_entry(%arg0: !llvm.ptr, %arg1: i64, %arg2: i64)
// LAYER: llvm.call @[[WGRAD]]({{.*}}) : (!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64) -> ()
// LAYER: llvm.func @ssprop_cpu_dgrad_f32_5x2t_gather_v8_{{[0-9a-f]+}}_entry(
