//===- PtxWrappers.h - the prelude's PTX wrappers on the host ---*- C++ -*-===//
//
// Plain functions that launch one emulated warp calling one PTX wrapper of
// Prelude.cuh (as the emulation defines it on the host), so that
// PtxEmulationTest.cpp sees no CUDA names.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_TEST_CODEGEN_PTXWRAPPERS_H
#define SSPROP_TEST_CODEGEN_PTXWRAPPERS_H

#include <cstdint>

namespace ssprop::test {

enum class MmaKind { tf32m16n8k8, f16m16n8k16, bf16m16n8k16 };

/// One warp-wide mma: lane l holds a[l], b[l] and c[l]; d[l] is its result.
void runMma(MmaKind kind, const uint32_t (*a)[4], const uint32_t (*b)[2],
            const float (*c)[4], float (*d)[4]);

/// ldmatrix.x4 in which lane l names `shared + rowOffset[l]` (in words).
void runLdmatrix(const uint32_t *shared, const int *rowOffset,
                 uint32_t (*regs)[4]);

/// cvt.rna.tf32.f32 of each value.
void runToTf32(const float *values, uint32_t *out, int count);

/// One thread: copies src[0] and, zero-filled, src[1] to dst[0..1] in one
/// commit group, src[2] to dst[2] in a second. snapshots[0..3] hold dst
/// after the first issues, after both commits, after cp.async.wait_group 1
/// and after cp.async.wait_group 0.
void runCpAsync(const uint32_t *src, uint32_t (*snapshots)[3]);

} // namespace ssprop::test

#endif // SSPROP_TEST_CODEGEN_PTXWRAPPERS_H
