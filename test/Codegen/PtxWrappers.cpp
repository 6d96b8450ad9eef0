//===- PtxWrappers.cpp - the prelude's PTX wrappers under emulation -------===//
//
// The prelude as a kernel source sees it, with the host emulation in front
// (the generated sources get it by -include), which defines the wrappers.
//
//===----------------------------------------------------------------------===//

#include "HostEmulation.h"

#include "Prelude.cuh"

#include "PtxWrappers.h"

namespace ssprop::test {
namespace {

__global__ void mmaKernel(MmaKind kind, const uint32_t (*a)[4],
                          const uint32_t (*b)[2], const float (*c)[4],
                          float (*d)[4]) {
  const int lane = threadIdx.x;
  float acc[4] = {c[lane][0], c[lane][1], c[lane][2], c[lane][3]};
  if (kind == MmaKind::tf32m16n8k8)
    ssprop_rt::mma_tf32_m16n8k8(acc, a[lane], b[lane]);
  else if (kind == MmaKind::f16m16n8k16)
    ssprop_rt::mma_f16_m16n8k16(acc, a[lane], b[lane]);
  else
    ssprop_rt::mma_bf16_m16n8k16(acc, a[lane], b[lane]);
  for (int i = 0; i < 4; ++i)
    d[lane][i] = acc[i];
}

__global__ void ldmatrixKernel(const uint32_t *shared, const int *rowOffset,
                               uint32_t (*regs)[4]) {
  ssprop_rt::ldmatrix_x4(regs[threadIdx.x], shared + rowOffset[threadIdx.x]);
}

__global__ void toTf32Kernel(const float *values, uint32_t *out) {
  out[threadIdx.x] = ssprop_rt::to_tf32(values[threadIdx.x]);
}

__global__ void cpAsyncKernel(const uint32_t *src, uint32_t (*snapshots)[3]) {
  __shared__ uint32_t dst[3];
  for (int i = 0; i < 3; ++i)
    dst[i] = 0xdeadbeefu;
  auto snapshot = [&](int step) {
    for (int i = 0; i < 3; ++i)
      snapshots[step][i] = dst[i];
  };
  ssprop_rt::cp_async4(&dst[0], &src[0], true);
  ssprop_rt::cp_async4(&dst[1], &src[1], false);
  snapshot(0);
  ssprop_rt::cp_async_commit();
  ssprop_rt::cp_async4(&dst[2], &src[2], true);
  ssprop_rt::cp_async_commit();
  snapshot(1);
  ssprop_rt::cp_async_wait<1>();
  snapshot(2);
  ssprop_rt::cp_async_wait<0>();
  snapshot(3);
}

} // namespace

void runMma(MmaKind kind, const uint32_t (*a)[4], const uint32_t (*b)[2],
            const float (*c)[4], float (*d)[4]) {
  ssprop::emu::launch<mmaKernel>(dim3(1), dim3(32), kind, a, b, c, d);
}

void runLdmatrix(const uint32_t *shared, const int *rowOffset,
                 uint32_t (*regs)[4]) {
  ssprop::emu::launch<ldmatrixKernel>(dim3(1), dim3(32), shared, rowOffset,
                                      regs);
}

void runToTf32(const float *values, uint32_t *out, int count) {
  ssprop::emu::launch<toTf32Kernel>(dim3(1), dim3(count), values, out);
}

void runCpAsync(const uint32_t *src, uint32_t (*snapshots)[3]) {
  ssprop::emu::launch<cpAsyncKernel>(dim3(1), dim3(1), src, snapshots);
}

} // namespace ssprop::test
