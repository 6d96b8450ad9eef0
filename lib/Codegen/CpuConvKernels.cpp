//===- CpuConvKernels.cpp - CPU wgrad and dgrad kernels
//--------------------===//
//
// The two implicit GEMMs of the backward, vectorised along flattened planes:
//
// - Every plane a GEMM reads is packed, per tile, into an L2-resident
//   scratch with a common row pitch `pitch` (the widest of the output width
//   and the input's phase widths). A strided convolution is split into phase
//   planes (x[s*p + a, s*q + b]); a tap then reads one packed plane at a
//   constant shift, and the lanes whose source falls outside (padding, or
//   positions past a row) are switched off by a mask from a constant table,
//   so no zero is ever multiplied in from memory and nothing is im2col'ed.
// - wgrad (tile = a chunk of images): per block of images, the kept rows of
//   dy are packed once; per block of input channels, x's phase planes; a
//   rows x cols register tile of vector accumulators runs along the
//   reduction, and the lane sums go to f32 partials per chunk.
// - dgrad (tile = a block of images): the kept rows of dy are packed once;
//   per block of input channels and group of vectors of an output phase
//   plane, a channels x vectors tile of accumulators sums broadcast packed
//   weights times masked dy vectors over the taps of the phase and the kept
//   channels; results go to dx directly (stride 1, same pitch) or through
//   the scratch, interleaved into dx.
//
// Kept rows past a group's end reuse its last row and are not stored; input
// channels past a group's end likewise. docs/codegen.md has the loop nests.
//
//===----------------------------------------------------------------------===//

#include "CpuKernelBuilder.h"
#include "CpuKernels.h"

#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <algorithm>
#include <map>
#include <tuple>

using namespace mlir;
using Pred = mlir::arith::CmpIPredicate;

namespace ssprop::cpu {
namespace {

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t roundUp(int64_t a, int64_t b) { return ceilDiv(a, b) * b; }
/// Floor division and its non-negative remainder.
int64_t floorDiv(int64_t a, int64_t b) {
  return a >= 0 ? a / b : -ceilDiv(-a, b);
}
int64_t floorMod(int64_t a, int64_t b) { return a - floorDiv(a, b) * b; }

/// Floats added to every packed row: rows a multiple of 4 KiB apart would
/// share L1 sets (4K aliasing).
constexpr int64_t kRowPad = 16;

/// The packed planes of a convolution.
struct PlaneGeometry {
  int64_t vl;
  /// Row pitch of every packed plane.
  int64_t pitch;
  /// Rows and columns of the phase planes (phase a of the rows, b of the
  /// columns) of the input (and of dx).
  std::vector<int64_t> phaseRows, phaseCols;
  int64_t rows;
  /// Floats per image of a packed dy plane and of a packed phase plane,
  /// whole vectors.
  int64_t dyImage, planeImage;

  PlaneGeometry(const ConvShape &c, int64_t vl) : vl(vl) {
    for (int64_t a = 0; a < c.strideH; ++a)
      phaseRows.push_back(a < c.height ? ceilDiv(c.height - a, c.strideH) : 0);
    for (int64_t b = 0; b < c.strideW; ++b)
      phaseCols.push_back(b < c.width ? ceilDiv(c.width - b, c.strideW) : 0);
    pitch = std::max(c.outWidth,
                     *std::max_element(phaseCols.begin(), phaseCols.end()));
    rows = *std::max_element(phaseRows.begin(), phaseRows.end());
    dyImage = roundUp(c.outHeight * pitch, vl);
    planeImage = roundUp(rows * pitch, vl);
  }
};

/// A tap's read of a packed plane: rows and columns moved by (dr, dc), i.e.
/// a constant shift of the flattened plane.
struct Shift {
  int64_t dr, dc;
  int64_t flat(int64_t pitch) const { return dr * pitch + dc; }
};

/// A wgrad tap: x's phase plane (a, b) at a shift.
struct WgradTap {
  int64_t a, b;
  Shift shift;
  int maskRow;
};

std::vector<WgradTap> getWgradTaps(const ConvShape &c) {
  std::vector<WgradTap> taps;
  std::map<std::tuple<int64_t, int64_t, int64_t, int64_t>, int> rows;
  for (int64_t r = 0; r < c.kernelHeight; ++r)
    for (int64_t s = 0; s < c.kernelWidth; ++s) {
      int64_t row = r * c.dilationH - c.padH, col = s * c.dilationW - c.padW;
      WgradTap tap{floorMod(row, c.strideH),
                   floorMod(col, c.strideW),
                   {floorDiv(row, c.strideH), floorDiv(col, c.strideW)},
                   0};
      auto key = std::make_tuple(tap.a, tap.b, tap.shift.dr, tap.shift.dc);
      tap.maskRow =
          rows.emplace(key, static_cast<int>(rows.size())).first->second;
      taps.push_back(tap);
    }
  return taps;
}

/// A dgrad tap of an output phase: dy at a shift.
struct DgradTap {
  int64_t tap;
  Shift shift;
  int maskRow;
};

/// Per output phase (a * strideW + b), the taps that reach it.
std::vector<std::vector<DgradTap>> getDgradPhases(const ConvShape &c,
                                                  int &numMaskRows) {
  std::vector<std::vector<DgradTap>> phases(c.strideH * c.strideW);
  std::map<std::pair<int64_t, int64_t>, int> rows;
  for (int64_t a = 0; a < c.strideH; ++a)
    for (int64_t b = 0; b < c.strideW; ++b)
      for (int64_t r = 0; r < c.kernelHeight; ++r)
        for (int64_t s = 0; s < c.kernelWidth; ++s) {
          int64_t row = a + c.padH - r * c.dilationH;
          int64_t col = b + c.padW - s * c.dilationW;
          if (floorMod(row, c.strideH) || floorMod(col, c.strideW))
            continue;
          Shift shift{floorDiv(row, c.strideH), floorDiv(col, c.strideW)};
          int maskRow = rows.emplace(std::make_pair(shift.dr, shift.dc),
                                     static_cast<int>(rows.size()))
                            .first->second;
          phases[a * c.strideW + b].push_back(
              {r * c.kernelWidth + s, shift, maskRow});
        }
  numMaskRows = static_cast<int>(rows.size());
  return phases;
}

/// Mask table entries of a plane of `vectors` vectors per row: -1 where
/// `valid(p, q)` holds for the lane's position (p, q) of the flattened plane.
template <typename Valid>
void appendMasks(std::vector<int32_t> &table, const PlaneGeometry &g,
                 int64_t vectors, Valid valid) {
  for (int64_t f = 0; f < vectors * g.vl; ++f)
    table.push_back(valid(f / g.pitch, f % g.pitch) ? -1 : 0);
}

std::vector<int32_t> getWgradMasks(const ConvShape &c, const PlaneGeometry &g,
                                   const std::vector<WgradTap> &taps) {
  std::vector<const WgradTap *> byRow;
  for (const WgradTap &tap : taps)
    if (tap.maskRow == static_cast<int>(byRow.size()))
      byRow.push_back(&tap);
  std::vector<int32_t> table;
  for (const WgradTap *tap : byRow)
    appendMasks(table, g, g.dyImage / g.vl, [&](int64_t p, int64_t q) {
      int64_t xp = p + tap->shift.dr, xq = q + tap->shift.dc;
      return p < c.outHeight && q < c.outWidth && xp >= 0 &&
             xp < g.phaseRows[tap->a] && xq >= 0 && xq < g.phaseCols[tap->b];
    });
  return table;
}

std::vector<int32_t>
getDgradMasks(const ConvShape &c, const PlaneGeometry &g,
              const std::vector<std::vector<DgradTap>> &phases, int numRows) {
  std::vector<const Shift *> byRow(numRows);
  for (const auto &phase : phases)
    for (const DgradTap &tap : phase)
      byRow[tap.maskRow] = &tap.shift;
  std::vector<int32_t> table;
  for (const Shift *shift : byRow)
    appendMasks(table, g, g.planeImage / g.vl, [&](int64_t p, int64_t q) {
      int64_t yp = p + shift->dr, yq = q + shift->dc;
      return yp >= 0 && yp < c.outHeight && yq >= 0 && yq < c.outWidth;
    });
  return table;
}

/// Floats of guard before and after packed planes: shifted reads (masked
/// lanes included) stay inside the scratch.
/// A GEMM walks the vectors of one plane (dy's for wgrad, a phase plane for
/// dgrad) and reads the other at the same offsets: past its end too.
int64_t getGuard(const PlaneGeometry &g, const std::vector<Shift> &shifts) {
  int64_t reach = 0;
  for (const Shift &shift : shifts)
    reach = std::max(reach, std::abs(shift.flat(g.pitch)));
  return roundUp(reach + g.vl + std::abs(g.dyImage - g.planeImage), 16);
}

/// The largest divisor of n that is at most `limit` (at least 1).
int64_t largestDivisorAtMost(int64_t n, int64_t limit) {
  for (int64_t d = std::max<int64_t>(1, std::min(n, limit)); d > 1; --d)
    if (n % d == 0)
      return d;
  return 1;
}

/// Copies and converts runs of elements between buffers with vectors, the
/// remainder element by element.
class Runs {
public:
  explicit Runs(KernelBuilder &k) : k(k), vl(k.getVectorLength()) {}

  /// dst[i] = src[i] for i < count.
  void copy(Value dst, Value dstAt, Value src, Value srcAt, int64_t count) {
    const int64_t full = count / vl;
    auto body = [&](Value v) {
      Value offset = k.mul(v, vl);
      k.storeVector(k.loadVector(src, k.add(srcAt, offset)), dst,
                    k.add(dstAt, offset));
    };
    if (full <= 4)
      for (int64_t v = 0; v < full; ++v)
        body(k.index(v));
    else
      k.loop(0, full, body);
    scalarCopy(dst, dstAt, src, srcAt, full * vl, count, 1, 1);
  }

  /// dst[i] = 0 for i < count.
  void zero(Value dst, Value dstAt, int64_t count) {
    for (int64_t i = 0; i < count / vl; ++i)
      k.storeVector(k.zeroVector(), dst, k.add(dstAt, i * vl));
    for (int64_t i = count / vl * vl; i < count; ++i)
      k.storeF32(k.f32(0), dst, k.add(dstAt, i));
  }

  /// dst[i] = src[2 * i] for i < count: reads src[0 .. 2 * count - 2] only.
  void deinterleave(Value dst, Value dstAt, Value src, Value srcAt,
                    int64_t count) {
    SmallVector<int64_t> evens;
    for (int64_t i = 0; i < vl; ++i)
      evens.push_back(2 * i);
    const int64_t full = count / vl;
    // Vector v reads src[2 v vl, 2 v vl + 2 vl): the very last element may
    // lie past the run, so the last vector leaves its last lane off.
    auto chunk = [&](Value v, bool last) {
      Value from = k.add(srcAt, k.mul(v, 2 * vl));
      Value low = k.loadVector(src, from);
      Value high = last ? k.maskedLoadVector(src, k.add(from, vl), allButLast())
                        : k.loadVector(src, k.add(from, vl));
      k.storeVector(k.shuffle(low, high, evens), dst,
                    k.add(dstAt, k.mul(v, vl)));
    };
    if (full > 1)
      k.loop(0, full - 1, [&](Value v) { chunk(v, false); });
    if (full > 0)
      chunk(k.index(full - 1), 2 * full * vl > 2 * count - 1);
    int64_t done = full * vl;
    if (count - done >= vl / 2) {
      Value from = k.add(srcAt, 2 * done);
      Value both = count - done == vl / 2
                       ? k.maskedLoadVector(src, from, allButLast())
                       : k.loadVector(src, from);
      k.storeNarrowVector(
          k.shuffle(both, both, ArrayRef<int64_t>(evens).take_front(vl / 2)),
          dst, k.add(dstAt, done));
      done += vl / 2;
    }
    scalarCopy(dst, dstAt, src, srcAt, done, count, 1, 2);
  }

  /// dst[2 i] = even[i], dst[2 i + 1] = odd[i]: `count` elements of dst, from
  /// sources with (count + 1) / 2 and count / 2 elements; a null source
  /// reads as zeros.
  void interleave(Value dst, Value dstAt, Value even, Value evenAt, Value odd,
                  Value oddAt, int64_t count) {
    const int64_t pairs = count / 2;
    // A null source has no position either: no address is computed for it.
    auto load = [&](Value src, Value srcAt, Value offset, int64_t width) {
      if (!src)
        return k.zeroVector(width);
      Value at = k.add(srcAt, offset);
      return width == vl ? k.loadVector(src, at)
                         : k.loadNarrowVector(src, at, width);
    };
    auto zip = [&](int64_t width, int64_t from, int64_t lanes) {
      SmallVector<int64_t> order;
      for (int64_t i = from; i < from + lanes / 2; ++i)
        order.append({i, i + width});
      return order;
    };
    const int64_t full = pairs / vl;
    auto chunk = [&](Value v) {
      Value at = k.mul(v, vl);
      Value e = load(even, evenAt, at, vl);
      Value o = load(odd, oddAt, at, vl);
      Value out = k.add(dstAt, k.mul(v, 2 * vl));
      k.storeVector(k.shuffle(e, o, zip(vl, 0, vl)), dst, out);
      k.storeVector(k.shuffle(e, o, zip(vl, vl / 2, vl)), dst, k.add(out, vl));
    };
    if (full <= 2)
      for (int64_t v = 0; v < full; ++v)
        chunk(k.index(v));
    else
      k.loop(0, full, chunk);
    int64_t done = full * vl;
    if (pairs - done >= vl / 2) {
      Value e = load(even, evenAt, k.index(done), vl / 2);
      Value o = load(odd, oddAt, k.index(done), vl / 2);
      k.storeVector(k.shuffle(e, o, zip(vl / 2, 0, vl)), dst,
                    k.add(dstAt, 2 * done));
      done += vl / 2;
    }
    for (int64_t i = done; i < (count + 1) / 2; ++i) {
      k.storeF32(even ? k.loadF32(even, k.add(evenAt, i)) : k.f32(0), dst,
                 k.add(dstAt, 2 * i));
      if (2 * i + 1 < count)
        k.storeF32(odd ? k.loadF32(odd, k.add(oddAt, i)) : k.f32(0), dst,
                   k.add(dstAt, 2 * i + 1));
    }
  }

  /// dst[i * dstStride] = src[i * srcStride] for i in [begin, end).
  void scalarCopy(Value dst, Value dstAt, Value src, Value srcAt, int64_t begin,
                  int64_t end, int64_t dstStride, int64_t srcStride) {
    auto element = [&](Value i) {
      Value value =
          src ? k.loadF32(src, k.add(srcAt, k.mul(i, srcStride))) : k.f32(0);
      k.storeF32(value, dst, k.add(dstAt, k.mul(i, dstStride)));
    };
    if (end - begin <= 8)
      for (int64_t i = begin; i < end; ++i)
        element(k.index(i));
    else
      k.loop(begin, end, element);
  }

private:
  Value allButLast() {
    SmallVector<bool> lanes(vl, true);
    lanes.back() = false;
    return k.maskConstant(lanes);
  }

  KernelBuilder &k;
  int64_t vl;
};

/// The kept rows of a group: [begin, end) of the kept list.
struct RowRange {
  Value begin, end;
};

/// What the GEMM kernels share: the group slices of the kept list, the
/// channel of a row, and packing dy.
class ConvKernel {
public:
  ConvKernel(KernelBuilder &k, const ConvShape &c, bool gather, Value kept,
             Value offsets, Value numKept)
      : k(k), c(c), gather(gather), kept(kept), offsets(offsets),
        numKept(numKept) {}

  /// The rows of group `group` (a value, or a constant for one group).
  RowRange rowsOf(Value group) {
    const int64_t perGroup = c.outChannels / c.groups;
    if (!gather)
      return {k.mul(group, perGroup), k.mul(k.add(group, 1), perGroup)};
    if (c.groups == 1)
      return {k.index(0), numKept};
    return {k.toIndex(k.loadI32(offsets, group)),
            k.toIndex(k.loadI32(offsets, k.add(group, 1)))};
  }

  /// The output channel of kept row j.
  Value channelOf(Value j) {
    return gather ? k.toIndex(k.loadI32(kept, j)) : j;
  }

  /// Packs dy[n0 + i, channel of row j] for rows j < k and images i < images
  /// into scratch[base + j * rowStride + i * g.dyImage], rows at g.pitch,
  /// zeros in the columns past the output width and after the plane.
  void packDy(Value dy, Value scratch, Value base, Value n0, Value images,
              int64_t rowStride, const PlaneGeometry &g) {
    Runs runs(k);
    const int64_t plane = c.outHeight * c.outWidth;
    k.loop(k.index(0), numKept, 1, [&](Value j) {
      Value channel = channelOf(j);
      k.loop(k.index(0), images, 1, [&](Value i) {
        Value src =
            k.mul(k.add(k.mul(k.add(n0, i), c.outChannels), channel), plane);
        Value dst =
            k.add(k.add(base, k.mul(j, rowStride)), k.mul(i, g.dyImage));
        if (g.pitch == c.outWidth) {
          runs.copy(scratch, dst, dy, src, plane);
        } else {
          k.loop(0, c.outHeight, [&](Value p) {
            Value row = k.add(dst, k.mul(p, g.pitch));
            runs.copy(scratch, row, dy, k.add(src, k.mul(p, c.outWidth)),
                      c.outWidth);
            runs.zero(scratch, k.add(row, c.outWidth), g.pitch - c.outWidth);
          });
        }
        int64_t used = c.outHeight * g.pitch;
        runs.zero(scratch, k.add(dst, used), g.dyImage - used);
      });
    });
  }

protected:
  KernelBuilder &k;
  const ConvShape &c;
  bool gather;
  Value kept, offsets, numKept;
};

/// The arguments of a GEMM kernel: two operands, the kept list and the group
/// offsets where it gathers, then its output, an f32 scratch and k.
SmallVector<Type> getGemmKernelArgs(MLIRContext *context, Type first,
                                    Type second, Type output,
                                    int64_t scratchFloats, bool gather,
                                    int64_t kBucket, int64_t groups) {
  SmallVector<Type> args = {first, second};
  if (gather)
    args.push_back(getBufferType(context, ElementType::i32, kBucket));
  if (gather && groups > 1)
    args.push_back(getBufferType(context, ElementType::i32, groups + 1));
  args.append({output, getBufferType(context, ElementType::f32, scratchFloats),
               OpBuilder(context).getIndexType()});
  return args;
}

/// A GEMM kernel's view of those arguments.
struct GemmKernelArgs {
  Value first, second, output, scratch;
  ConvKernel conv;

  GemmKernelArgs(KernelBuilder &k, const ConvShape &c, bool gather)
      : GemmKernelArgs(k, c, gather, gather ? 1 : 0,
                       gather && c.groups > 1 ? 1 : 0) {}

private:
  GemmKernelArgs(KernelBuilder &k, const ConvShape &c, bool gather,
                 unsigned kept, unsigned offsets)
      : first(k.arg(0)), second(k.arg(1)), output(k.arg(2 + kept + offsets)),
        scratch(k.arg(3 + kept + offsets)),
        conv(k, c, gather, kept ? k.arg(2) : Value(),
             offsets ? k.arg(3) : Value(), k.arg(4 + kept + offsets)) {}
};

/// wgrad's register tile for `spec`: rows x cols, cols at most the group's
/// input channels (all of them when there are few and cols do not divide
/// them), rows raised to keep the accumulator count.
std::pair<int64_t, int64_t> getWgradTile(const WgradSpec &spec) {
  const int64_t channels = spec.conv.inChannels / spec.conv.groups;
  int64_t cols = std::min<int64_t>(spec.cols, channels);
  if (channels % cols && channels <= 4)
    cols = channels;
  int64_t rows = std::min<int64_t>(
      8, std::max<int64_t>(spec.rows, spec.rows * spec.cols / cols));
  return {rows, cols};
}

} // namespace

std::string checkConvSupported(const ConvShape &c, int vectorLength) {
  // First, as the tables below are sized by the stride and the kernel.
  if (std::string why = checkCpuKernelGeometry({c.strideH, c.strideW},
                                               {c.kernelHeight, c.kernelWidth});
      !why.empty())
    return why;
  PlaneGeometry g(c, vectorLength);
  std::vector<WgradTap> taps = getWgradTaps(c);
  int dgradRows = 0;
  getDgradPhases(c, dgradRows);
  int wgradRows = 0;
  for (const WgradTap &tap : taps)
    wgradRows = std::max(wgradRows, tap.maskRow + 1);
  int64_t entries = std::max(wgradRows * g.dyImage, dgradRows * g.planeImage);
  if (entries > kMaxMaskEntries)
    return "its planes need " + std::to_string(entries) +
           " mask entries, more than the " + std::to_string(kMaxMaskEntries) +
           " the CPU kernels carry";
  return "";
}

int64_t getWgradRows(const WgradSpec &spec) {
  return spec.gather ? spec.kBucket : spec.conv.outChannels;
}

CpuKernel emitWgrad(MLIRContext *context, const WgradSpec &spec) {
  const ConvShape &c = spec.conv;
  const int64_t vl = spec.vectorLength;
  const PlaneGeometry g(c, vl);
  const std::vector<WgradTap> taps = getWgradTaps(c);
  const int64_t groups = c.groups, channelsG = c.inChannels / groups;
  const int64_t rs = c.kernelHeight * c.kernelWidth;
  const int64_t rows = getWgradRows(spec);
  const std::pair<int64_t, int64_t> tile = getWgradTile(spec);
  const int64_t mj = tile.first, nc = tile.second;
  const int64_t blocks = ceilDiv(channelsG, nc);
  // Each used phase plane of x gets a slot in the packed block.
  std::vector<int> slotOf(c.strideH * c.strideW, -1);
  int slots = 0;
  std::vector<Shift> shifts;
  for (const WgradTap &tap : taps) {
    int &slot = slotOf[tap.a * c.strideW + tap.b];
    if (slot < 0)
      slot = slots++;
    shifts.push_back(tap.shift);
  }
  // About 2 KiB of dy per row and block of images: streams that stay in L1.
  const int64_t images = std::clamp<int64_t>(512 / g.dyImage, 1, c.n);
  const int64_t dyRow = images * g.dyImage + kRowPad;
  const int64_t xPlane = images * g.planeImage + kRowPad;
  const int64_t xChannel = slots * xPlane;
  const int64_t guard = getGuard(g, shifts);
  const int64_t dyBase = guard, xBase = guard + rows * dyRow + guard;
  const int64_t scratchFloats = xBase + nc * xChannel + guard;
  const int64_t vectors = g.dyImage / vl;
  const int64_t partials = spec.chunks * rows * channelsG * rs;

  KernelBuilder k(
      context, "wgrad",
      getGemmKernelArgs(
          context,
          getBufferType(context, spec.type,
                        c.n * c.inChannels * c.height * c.width),
          getBufferType(context, spec.type,
                        c.n * c.outChannels * c.outHeight * c.outWidth),
          getBufferType(context, ElementType::f32, partials), scratchFloats,
          spec.gather, spec.kBucket, groups),
      vl);
  GemmKernelArgs a(k, c, spec.gather);
  Value x = a.first, dy = a.second, out = a.output, scratch = a.scratch;
  ConvKernel &conv = a.conv;
  Runs runs(k);
  Value masks = k.table("masks", getWgradMasks(c, g, taps));
  const int64_t inPlane = c.height * c.width;

  // Packs x[n, channel] into its phase planes at scratch[at + slot * xPlane].
  auto packX = [&](Value n, Value channel, Value at) {
    Value src = k.mul(k.add(k.mul(n, c.inChannels), channel), inPlane);
    if (c.strideH == 1 && c.strideW == 1 && g.pitch == c.width)
      return runs.copy(scratch, at, x, src, inPlane);
    for (int64_t a = 0; a < c.strideH; ++a)
      for (int64_t b = 0; b < c.strideW; ++b) {
        int slot = slotOf[a * c.strideW + b];
        if (slot < 0)
          continue;
        k.loop(0, g.phaseRows[a], [&](Value p) {
          Value from = k.add(
              src, k.add(k.mul(k.add(k.mul(p, c.strideH), a), c.width), b));
          Value to = k.add(k.add(at, slot * xPlane), k.mul(p, g.pitch));
          if (c.strideW == 1)
            runs.copy(scratch, to, x, from, g.phaseCols[b]);
          else if (c.strideW == 2)
            runs.deinterleave(scratch, to, x, from, g.phaseCols[b]);
          else
            runs.scalarCopy(scratch, to, x, from, 0, g.phaseCols[b], 1,
                            c.strideW);
        });
      }
  };

  k.loop(k.tileBegin(), k.tileEnd(), 1, [&](Value chunk) {
    Value first = k.div(k.mul(chunk, c.n), spec.chunks);
    Value last = k.div(k.mul(k.add(chunk, 1), c.n), spec.chunks);
    k.loop(first, last, images, [&](Value n0) {
      Value count = k.min(k.index(images), k.sub(last, n0));
      Value firstBlock = k.cmp(Pred::eq, n0, first);
      conv.packDy(dy, scratch, k.index(dyBase), n0, count, dyRow, g);
      auto group = [&](Value grp) {
        RowRange range = conv.rowsOf(grp);
        k.ifThen(k.cmp(Pred::ult, range.begin, range.end), [&] {
          k.loop(0, blocks, [&](Value block) {
            SmallVector<Value> channels;
            for (int64_t i = 0; i < nc; ++i)
              channels.push_back(
                  k.min(k.add(k.mul(block, nc), i), k.index(channelsG - 1)));
            for (int64_t i = 0; i < nc; ++i)
              k.loop(k.index(0), count, 1, [&](Value image) {
                packX(k.add(n0, image),
                      k.add(k.mul(grp, channelsG), channels[i]),
                      k.add(k.index(xBase + i * xChannel),
                            k.mul(image, g.planeImage)));
              });
            Value lastRow = k.sub(range.end, k.index(1));
            k.loop(range.begin, range.end, mj, [&](Value j0) {
              SmallVector<Value> rowAt;
              for (int64_t a = 0; a < mj; ++a)
                rowAt.push_back(
                    k.add(k.index(dyBase),
                          k.mul(k.min(k.add(j0, a), lastRow), dyRow)));
              for (size_t t = 0; t < taps.size(); ++t) {
                const WgradTap &tap = taps[t];
                const int64_t xAt = xBase +
                                    slotOf[tap.a * c.strideW + tap.b] * xPlane +
                                    tap.shift.flat(g.pitch);
                auto step = [&](Value image, Value v, ValueRange acc) {
                  Value offset =
                      k.add(k.mul(image, g.planeImage), k.mul(v, vl));
                  Value mask = k.maskFromTable(
                      masks, k.mul(k.add(v, tap.maskRow * vectors), vl));
                  SmallVector<Value> xs;
                  for (int64_t i = 0; i < nc; ++i)
                    xs.push_back(k.maskedLoadVector(
                        scratch, k.add(offset, xAt + i * xChannel), mask));
                  SmallVector<Value> next(acc);
                  Value dyOffset = k.add(k.mul(image, g.dyImage), k.mul(v, vl));
                  for (int64_t a = 0; a < mj; ++a) {
                    Value d = k.loadVector(scratch, k.add(rowAt[a], dyOffset));
                    for (int64_t i = 0; i < nc; ++i)
                      next[a * nc + i] = k.fma(d, xs[i], next[a * nc + i]);
                  }
                  return next;
                };
                SmallVector<Value> zeros(mj * nc, k.zeroVector());
                SmallVector<Value> acc = k.loop(
                    k.index(0), count, 1, zeros,
                    [&](Value image, ValueRange acc) -> SmallVector<Value> {
                      if (vectors <= 4) {
                        SmallVector<Value> next(acc);
                        for (int64_t v = 0; v < vectors; ++v)
                          next = step(image, k.index(v), next);
                        return next;
                      }
                      return k.loop(k.index(0), k.index(vectors), 1, acc,
                                    [&](Value v, ValueRange inner) {
                                      return step(image, v, inner);
                                    });
                    });
                for (int64_t a = 0; a < mj; ++a)
                  for (int64_t i = 0; i < nc; ++i) {
                    auto store = [&] {
                      Value at =
                          k.add(k.mul(k.add(k.mul(k.add(k.mul(chunk, rows),
                                                        k.add(j0, a)),
                                                  channelsG),
                                            k.add(k.mul(block, nc), i)),
                                      rs),
                                t);
                      Value sum = k.sumLanes(acc[a * nc + i]);
                      Value old =
                          k.select(firstBlock, k.f32(0), k.loadF32(out, at));
                      k.storeF32(k.addf(old, sum), out, at);
                    };
                    Value inRows =
                        a ? k.cmp(Pred::ult, k.add(j0, a), range.end) : Value();
                    Value inChannels =
                        channelsG % nc && i
                            ? k.cmp(Pred::ult, k.add(k.mul(block, nc), i),
                                    k.index(channelsG))
                            : Value();
                    Value ok = inRows && inChannels
                                   ? k.create<arith::AndIOp>(inRows, inChannels)
                               : inRows ? inRows
                                        : inChannels;
                    if (ok)
                      k.ifThen(ok, store);
                    else
                      store();
                  }
              }
            });
          });
        });
      };
      if (groups == 1)
        group(k.index(0));
      else
        k.loop(0, groups, group);
    });
  });
  std::string what = std::string("wgrad_") + getElementTypeName(spec.type) +
                     "_" + std::to_string(mj) + "x" + std::to_string(nc) +
                     (spec.gather ? "_gather" : "") + "_c" +
                     std::to_string(spec.chunks) + "_v" + std::to_string(vl);
  return {nameKernel(*k.finish(), what), spec.chunks, scratchFloats};
}

namespace {
int64_t getBlockChannels(int channels, const ConvShape &c) {
  return std::min<int64_t>(channels, c.inChannels / c.groups);
}
} // namespace

int64_t getPackedWeightFloats(const PackWeightSpec &spec) {
  const ConvShape &c = spec.conv;
  const int64_t mc = getBlockChannels(spec.blockChannels, c);
  const int64_t blocks = ceilDiv(c.inChannels / c.groups, mc);
  const int64_t rows = spec.gather ? spec.kBucket : c.outChannels;
  return blocks * rows * c.kernelHeight * c.kernelWidth * mc;
}

namespace {
/// Where block `block` of a group's packed weights starts: the blocks of a
/// group follow each other, each holding the group's rows.
Value packedWeightBase(KernelBuilder &k, RowRange range, Value block,
                       int64_t blocks, int64_t rowFloats) {
  return k.mul(k.add(k.mul(range.begin, blocks),
                     k.mul(block, k.sub(range.end, range.begin))),
               rowFloats);
}
} // namespace

CpuKernel emitPackWeight(MLIRContext *context, const PackWeightSpec &spec) {
  const ConvShape &c = spec.conv;
  const int64_t channelsG = c.inChannels / c.groups;
  const int64_t rs = c.kernelHeight * c.kernelWidth;
  const int64_t mc = getBlockChannels(spec.blockChannels, c);
  const int64_t blocks = ceilDiv(channelsG, mc);
  OpBuilder types(context);
  SmallVector<Type> args = {
      getBufferType(context, spec.type, c.outChannels * channelsG * rs)};
  if (spec.gather)
    args.push_back(getBufferType(context, ElementType::i32, spec.kBucket));
  const bool withOffsets = spec.gather && c.groups > 1;
  if (withOffsets)
    args.push_back(getBufferType(context, ElementType::i32, c.groups + 1));
  args.append(
      {getBufferType(context, ElementType::f32, getPackedWeightFloats(spec)),
       types.getIndexType()});
  KernelBuilder k(context, "pack_weight", args, 8);
  unsigned next = 1;
  Value weight = k.arg(0);
  Value kept = spec.gather ? k.arg(next++) : Value();
  Value offsets = withOffsets ? k.arg(next++) : Value();
  Value packed = k.arg(next), numKept = k.arg(next + 1);
  ConvKernel conv(k, c, spec.gather, kept, offsets, numKept);
  k.loop(k.tileBegin(), k.tileEnd(), 1, [&](Value tile) {
    Value block = k.rem(tile, blocks);
    RowRange range = conv.rowsOf(k.div(tile, blocks));
    Value base = packedWeightBase(k, range, block, blocks, rs * mc);
    k.loop(range.begin, range.end, 1, [&](Value j) {
      Value channel = conv.channelOf(j);
      Value rowAt = k.add(base, k.mul(k.sub(j, range.begin), rs * mc));
      for (int64_t i = 0; i < mc; ++i) {
        Value input = k.add(k.mul(block, mc), i);
        Value inside = k.cmp(Pred::ult, input, k.index(channelsG));
        Value from = k.mul(k.add(k.mul(channel, channelsG),
                                 k.min(input, k.index(channelsG - 1))),
                           rs);
        for (int64_t t = 0; t < rs; ++t) {
          Value value = k.loadF32(weight, k.add(from, t));
          if (channelsG % mc)
            value = k.select(inside, value, k.f32(0));
          k.storeF32(value, packed, k.add(rowAt, t * mc + i));
        }
      }
    });
  });
  std::string what = std::string("pack_weight_") +
                     getElementTypeName(spec.type) + "_" + std::to_string(mc) +
                     (spec.gather ? "_gather" : "");
  return {nameKernel(*k.finish(), what), c.groups * blocks, 0};
}

CpuKernel emitDgrad(MLIRContext *context, const DgradSpec &spec) {
  const ConvShape &c = spec.conv;
  const int64_t vl = spec.vectorLength;
  const PlaneGeometry g(c, vl);
  int maskRows = 0;
  const std::vector<std::vector<DgradTap>> phases = getDgradPhases(c, maskRows);
  const int64_t groups = c.groups, channelsG = c.inChannels / groups;
  const int64_t rs = c.kernelHeight * c.kernelWidth;
  const int64_t rows = spec.gather ? spec.kBucket : c.outChannels;
  const int64_t mc = getBlockChannels(spec.channels, c);
  const int64_t blocks = ceilDiv(channelsG, mc), tailChannels = channelsG % mc;
  const int64_t numPhases = c.strideH * c.strideW;
  const bool direct = c.strideH == 1 && c.strideW == 1 && g.pitch == c.width &&
                      g.rows == c.height;
  std::vector<Shift> shifts;
  for (const auto &phase : phases)
    for (const DgradTap &tap : phase)
      shifts.push_back(tap.shift);
  // Small planes: several images per tile, so that a vector group spans more
  // than one plane's few vectors.
  const int64_t images =
      largestDivisorAtMost(c.n, std::max<int64_t>(1, 64 / g.planeImage));
  const int64_t vectors = g.planeImage / vl, total = images * vectors;
  const int64_t dyRow = images * g.dyImage + kRowPad;
  const int64_t dxPlane = images * g.planeImage + kRowPad;
  const int64_t guard = getGuard(g, shifts);
  const int64_t dyBase = guard, dxBase = guard + rows * dyRow + guard;
  const int64_t scratchFloats =
      direct ? dxBase : dxBase + mc * numPhases * dxPlane + guard;
  const int64_t inPlane = c.height * c.width;

  KernelBuilder k(
      context, "dgrad",
      getGemmKernelArgs(
          context,
          getBufferType(context, spec.type,
                        c.n * c.outChannels * c.outHeight * c.outWidth),
          getBufferType(context, ElementType::f32,
                        getPackedWeightFloats({spec.type, c, spec.gather,
                                               spec.kBucket, spec.channels})),
          getBufferType(context, spec.type, c.n * c.inChannels * inPlane),
          scratchFloats, spec.gather, spec.kBucket, groups),
      vl);
  GemmKernelArgs a(k, c, spec.gather);
  Value dy = a.first, packed = a.second, dx = a.output, scratch = a.scratch;
  ConvKernel &conv = a.conv;
  Runs runs(k);
  Value masks = k.table("masks", getDgradMasks(c, g, phases, maskRows));
  // Lanes past the plane of a direct store belong to the next channel.
  Value storeMasks;
  if (direct && inPlane % vl) {
    std::vector<int32_t> lanes;
    for (int64_t f = 0; f < vectors * vl; ++f)
      lanes.push_back(f < inPlane ? -1 : 0);
    storeMasks = k.table("store_masks", lanes);
  }
  std::vector<int> slotOf(numPhases, -1);
  int slots = 0;
  for (int64_t p = 0; p < numPhases; ++p)
    if (!phases[p].empty())
      slotOf[p] = slots++;

  k.loop(k.tileBegin(), k.tileEnd(), 1, [&](Value tile) {
    Value n0 = k.mul(tile, images);
    conv.packDy(dy, scratch, k.index(dyBase), n0, k.index(images), dyRow, g);
    auto block = [&](Value grp, Value blockIndex, RowRange range, int64_t mcx) {
      Value weightBase =
          packedWeightBase(k, range, blockIndex, blocks, rs * mc);
      Value channel0 = k.add(k.mul(grp, channelsG), k.mul(blockIndex, mc));
      auto vectorGroup = [&](Value u0, int64_t vwx) {
        SmallVector<Value> image, inPlaneAt;
        for (int64_t v = 0; v < vwx; ++v) {
          Value u = k.add(u0, v);
          image.push_back(images == 1 ? k.index(0) : k.div(u, vectors));
          inPlaneAt.push_back(k.mul(images == 1 ? u : k.rem(u, vectors), vl));
        }
        for (int64_t phase = 0; phase < numPhases; ++phase) {
          const std::vector<DgradTap> &taps = phases[phase];
          if (taps.empty())
            continue;
          auto tapMasks = [&](const DgradTap &tap) {
            SmallVector<Value> masksOfTap;
            for (int64_t v = 0; v < vwx; ++v)
              masksOfTap.push_back(k.maskFromTable(
                  masks, k.add(inPlaneAt[v], tap.maskRow * vectors * vl)));
            return masksOfTap;
          };
          auto step = [&](Value j, const DgradTap &tap, ArrayRef<Value> m,
                          ValueRange acc) {
            Value rowAt = k.add(k.index(dyBase + tap.shift.flat(g.pitch)),
                                k.mul(j, dyRow));
            SmallVector<Value> d;
            for (int64_t v = 0; v < vwx; ++v)
              d.push_back(k.maskedLoadVector(
                  scratch,
                  k.add(rowAt, k.add(k.mul(image[v], g.dyImage), inPlaneAt[v])),
                  m[v]));
            Value weightAt = k.add(
                weightBase,
                k.mul(k.add(k.mul(k.sub(j, range.begin), rs), tap.tap), mc));
            SmallVector<Value> next(acc);
            for (int64_t i = 0; i < mcx; ++i) {
              Value w = k.broadcast(k.loadF32(packed, k.add(weightAt, i)));
              for (int64_t v = 0; v < vwx; ++v)
                next[i * vwx + v] = k.fma(w, d[v], next[i * vwx + v]);
            }
            return next;
          };
          SmallVector<Value> acc(mcx * vwx, k.zeroVector());
          if (spec.tapsOuter) {
            for (const DgradTap &tap : taps) {
              SmallVector<Value> m = tapMasks(tap);
              acc = k.loop(range.begin, range.end, 1, acc,
                           [&](Value j, ValueRange iters) {
                             return step(j, tap, m, iters);
                           });
            }
          } else {
            acc = k.loop(range.begin, range.end, 1, acc,
                         [&](Value j, ValueRange iters) {
                           SmallVector<Value> next(iters);
                           for (const DgradTap &tap : taps)
                             next = step(j, tap, tapMasks(tap), next);
                           return next;
                         });
          }
          for (int64_t i = 0; i < mcx; ++i)
            for (int64_t v = 0; v < vwx; ++v) {
              Value value = acc[i * vwx + v];
              if (direct) {
                Value at =
                    k.add(k.mul(k.add(k.mul(k.add(n0, image[v]), c.inChannels),
                                      k.add(channel0, i)),
                                inPlane),
                          inPlaneAt[v]);
                if (storeMasks)
                  k.maskedStoreVector(
                      value, dx, at, k.maskFromTable(storeMasks, inPlaneAt[v]));
                else
                  k.storeVector(value, dx, at);
              } else {
                Value at = k.add(
                    k.index(dxBase + (i * numPhases + slotOf[phase]) * dxPlane),
                    k.add(k.mul(image[v], g.planeImage), inPlaneAt[v]));
                k.storeVector(value, scratch, at);
              }
            }
        }
      };
      const int64_t vw = spec.vectors, full = total / vw, tail = total % vw;
      if (full)
        k.loop(0, full,
               [&](Value group) { vectorGroup(k.mul(group, vw), vw); });
      if (tail)
        vectorGroup(k.index(full * vw), tail);
      if (direct)
        return;
      // Interleave the phase planes of each channel into dx.
      k.loop(0, images, [&](Value image) {
        for (int64_t i = 0; i < mcx; ++i) {
          Value dst = k.mul(
              k.add(k.mul(k.add(n0, image), c.inChannels), k.add(channel0, i)),
              inPlane);
          auto phaseRow = [&](int64_t a, int64_t b, Value p) -> Value {
            int slot = slotOf[a * c.strideW + b];
            if (slot < 0)
              return Value();
            return k.add(k.index(dxBase + (i * numPhases + slot) * dxPlane),
                         k.add(k.mul(image, g.planeImage), k.mul(p, g.pitch)));
          };
          for (int64_t a = 0; a < c.strideH; ++a)
            k.loop(0, g.phaseRows[a], [&](Value p) {
              Value row =
                  k.add(dst, k.mul(k.add(k.mul(p, c.strideH), a), c.width));
              if (c.strideW == 1) {
                Value from = phaseRow(a, 0, p);
                if (from)
                  runs.copy(dx, row, scratch, from, c.width);
                else
                  runs.zero(dx, row, c.width);
              } else if (c.strideW == 2) {
                Value even = phaseRow(a, 0, p), odd = phaseRow(a, 1, p);
                runs.interleave(dx, row, even ? scratch : Value(), even,
                                odd ? scratch : Value(), odd, c.width);
              } else {
                for (int64_t b = 0; b < c.strideW; ++b) {
                  Value from = phaseRow(a, b, p);
                  runs.scalarCopy(dx, k.add(row, b), from ? scratch : Value(),
                                  from, 0, g.phaseCols[b], c.strideW, 1);
                }
              }
            });
        }
      });
    };
    k.loop(0, groups * blocks, [&](Value index) {
      Value grp = k.div(index, blocks), blockIndex = k.rem(index, blocks);
      RowRange range = conv.rowsOf(grp);
      if (!tailChannels)
        return block(grp, blockIndex, range, mc);
      k.ifThenElse(
          k.cmp(Pred::ult, blockIndex, k.index(blocks - 1)),
          [&] { block(grp, blockIndex, range, mc); },
          [&] { block(grp, blockIndex, range, tailChannels); });
    });
  });
  std::string what = std::string("dgrad_") + getElementTypeName(spec.type) +
                     "_" + std::to_string(mc) + "x" +
                     std::to_string(spec.vectors) +
                     (spec.tapsOuter ? "t" : "j") +
                     (spec.gather ? "_gather" : "") + "_v" + std::to_string(vl);
  return {nameKernel(*k.finish(), what), c.n / images, scratchFloats};
}

} // namespace ssprop::cpu
