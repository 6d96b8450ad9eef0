//===- CpuReduceKernels.cpp - CPU scoring, selection and scatter kernels --===//
//
// The small kernels around the two GEMMs: the channel scores and bias sums
// (one pass over dy, partials per chunk of images, then a fixed-order sum),
// the exact top-k or random selection, the kept channels' positions and
// group offsets, and the scatter that sums wgrad's partials into dW.
//
//===----------------------------------------------------------------------===//

#include "CpuKernelBuilder.h"
#include "CpuKernels.h"

#include "ssprop/Core/RandomKey.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>
#include <numeric>

using namespace mlir;
using Pred = mlir::arith::CmpIPredicate;

namespace ssprop::cpu {
namespace {

std::string print(ModuleOp module) {
  std::string text;
  llvm::raw_string_ostream os(text);
  module.print(os);
  return text;
}

MemRefType f32Buffer(MLIRContext *context, int64_t numElements) {
  return getBufferType(context, ElementType::f32, numElements);
}

MemRefType i32Buffer(MLIRContext *context, int64_t numElements) {
  return getBufferType(context, ElementType::i32, numElements);
}

/// |v| of an f32 vector: the sign bit cleared.
Value absolute(KernelBuilder &k, Value vector) {
  OpBuilder &b = k.getBuilder();
  auto i32Vector = VectorType::get({k.getVectorLength()}, b.getI32Type());
  Value bits = k.create<arith::BitcastOp>(i32Vector, vector);
  Value magnitude = k.create<arith::AndIOp>(
      bits, k.create<vector::BroadcastOp>(i32Vector, k.i32(0x7fffffff)));
  return k.create<arith::BitcastOp>(k.getF32Vector(), magnitude);
}

/// The first `count` lanes on.
Value prefixMask(KernelBuilder &k, int64_t count) {
  SmallVector<bool> lanes(k.getVectorLength(), false);
  std::fill(lanes.begin(), lanes.begin() + count, true);
  return k.maskConstant(lanes);
}

/// The order of scores as unsigned integers, as the CUDA kernels'
/// float_order_key: negative floats reversed below positive ones, NaN with
/// the sign bit clear above +inf.
Value scoreKey(KernelBuilder &k, Value score) {
  Value bits = k.create<arith::BitcastOp>(k.getBuilder().getI32Type(), score);
  Value sign = k.create<arith::ShRSIOp>(bits, k.i32(31));
  Value flip = k.create<arith::OrIOp>(sign, k.i32(INT32_MIN));
  return k.create<arith::XOrIOp>(bits, flip);
}

/// getRandomKey(seed, channel) (ssprop/Core/RandomKey.h) in i64 arithmetic.
Value randomKey(KernelBuilder &k, Value seed, Value channel) {
  OpBuilder &b = k.getBuilder();
  auto constant = [&](uint64_t value) {
    return k.i64(static_cast<int64_t>(value));
  };
  auto xorShift = [&](Value z, int64_t shift) {
    return k.create<arith::XOrIOp>(z,
                                   k.create<arith::ShRUIOp>(z, k.i64(shift)));
  };
  Value c64 = k.create<arith::IndexCastOp>(b.getI64Type(), k.add(channel, 1));
  Value z = k.create<arith::AddIOp>(
      seed, k.create<arith::MulIOp>(c64, constant(kRandomKeyIncrement)));
  z = k.create<arith::MulIOp>(xorShift(z, 30), constant(kRandomKeyMultiplier1));
  z = k.create<arith::MulIOp>(xorShift(z, 27), constant(kRandomKeyMultiplier2));
  Value high = k.create<arith::ShRUIOp>(xorShift(z, 31), k.i64(32));
  return k.create<arith::TruncIOp>(b.getI32Type(), high);
}

} // namespace

KernelSource nameKernel(ModuleOp module, const std::string &what) {
  char hash[17];
  std::snprintf(hash, sizeof(hash), "%08x",
                static_cast<unsigned>(codegen::hashText(print(module))));
  const std::string name = "ssprop_cpu_" + what + "_" + hash;
  for (Operation &op : llvm::make_early_inc_range(*module.getBody())) {
    auto symbol = dyn_cast<SymbolOpInterface>(op);
    if (!symbol)
      continue;
    std::string renamed =
        isa<func::FuncOp>(op) ? name : name + "_" + symbol.getName().str();
    if (failed(SymbolTable::replaceAllSymbolUses(
            &op, StringAttr::get(module.getContext(), renamed), module)))
      llvm_unreachable("kernel symbols are used only inside their module");
    symbol.setName(StringAttr::get(module.getContext(), renamed));
  }
  return {name, print(module)};
}

int64_t getReduceChunks(int64_t n) { return std::gcd<int64_t>(8, n); }

CpuKernel emitReducePartials(MLIRContext *context,
                             const ReducePartialsSpec &spec) {
  const int64_t chunks = getReduceChunks(spec.n), vl = spec.vectorLength;
  const int64_t channels = spec.channels, spatial = spec.spatial;
  const int64_t partials = chunks * channels * 2 * vl;
  KernelBuilder k(
      context, "reduce",
      {getBufferType(context, spec.type, spec.n * channels * spatial),
       f32Buffer(context, partials)},
      spec.vectorLength);
  Value dy = k.arg(0), part = k.arg(1);
  const int64_t perChunk = spec.n / chunks, full = spatial / vl,
                tail = spatial % vl;
  k.loop(k.tileBegin(), k.tileEnd(), 1, [&](Value chunk) {
    Value chunkBase = k.mul(chunk, channels * 2 * vl);
    k.loop(0, channels * 2, [&](Value slot) {
      k.storeVector(k.zeroVector(), part, k.add(chunkBase, k.mul(slot, vl)));
    });
    k.loop(0, perChunk, [&](Value image) {
      Value n = k.add(k.mul(chunk, perChunk), image);
      k.loop(0, channels, [&](Value c) {
        Value at = k.add(chunkBase, k.mul(c, 2 * vl));
        Value base = k.mul(k.add(k.mul(n, channels), c), spatial);
        auto accumulate = [&](ValueRange sums, Value d) {
          SmallVector<Value> next(sums);
          if (spec.withAbs)
            next[0] = k.addf(next[0], absolute(k, d));
          if (spec.withSum)
            next[1] = k.addf(next[1], d);
          return next;
        };
        SmallVector<Value> sums = {k.loadVector(part, at),
                                   k.loadVector(part, k.add(at, vl))};
        sums = k.loop(k.index(0), k.index(full), 1, sums,
                      [&](Value v, ValueRange iters) {
                        return accumulate(
                            iters, k.loadVector(dy, k.add(base, k.mul(v, vl))));
                      });
        if (tail)
          sums = accumulate(sums, k.maskedLoadVector(dy, k.add(base, full * vl),
                                                     prefixMask(k, tail)));
        k.storeVector(sums[0], part, at);
        k.storeVector(sums[1], part, k.add(at, vl));
      });
    });
  });
  std::string what = std::string("reduce_") + getElementTypeName(spec.type) +
                     (spec.withAbs ? "_abs" : "") +
                     (spec.withSum ? "_sum" : "");
  return {nameKernel(*k.finish(), what), chunks, 0};
}

CpuKernel emitReduceFinish(MLIRContext *context, const ReduceFinishSpec &spec) {
  const int64_t chunks = getReduceChunks(spec.n), vl = spec.vectorLength;
  const int64_t channels = spec.channels;
  SmallVector<Type> args = {f32Buffer(context, chunks * channels * 2 * vl)};
  if (spec.withScore)
    args.push_back(f32Buffer(context, channels));
  if (spec.withSum)
    args.push_back(getBufferType(context, spec.sumType, channels));
  KernelBuilder k(context, "reduce_finish", args, spec.vectorLength);
  Value part = k.arg(0);
  const double count = static_cast<double>(spec.n * spec.spatial);
  k.loop(0, channels, [&](Value c) {
    Value abs = k.zeroVector(), sum = k.zeroVector();
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
      Value at = k.mul(k.add(c, chunk * channels), 2 * vl);
      abs = k.addf(abs, k.loadVector(part, at));
      sum = k.addf(sum, k.loadVector(part, k.add(at, vl)));
    }
    if (spec.withScore)
      k.storeF32(k.create<arith::DivFOp>(k.sumLanesInOrder(abs), k.f32(count)),
                 k.arg(1), c);
    if (spec.withSum)
      k.storeF32(k.sumLanesInOrder(sum), k.arg(spec.withScore ? 2 : 1), c);
  });
  std::string what =
      std::string("reduce_finish") + (spec.withScore ? "_score" : "") +
      (spec.withSum ? std::string("_sum_") + getElementTypeName(spec.sumType)
                    : "");
  return {nameKernel(*k.finish(), what), 1, 0};
}

CpuKernel emitSelect(MLIRContext *context, const SelectSpec &spec) {
  const int64_t channels = spec.channels, vl = spec.vectorLength;
  const int64_t padded = (channels + vl - 1) / vl * vl;
  OpBuilder types(context);
  Type source = spec.random ? Type(types.getI64Type())
                            : Type(f32Buffer(context, channels));
  KernelBuilder k(context, "select",
                  {source, i32Buffer(context, padded),
                   i32Buffer(context, spec.kBucket), types.getIndexType()},
                  spec.vectorLength);
  Value keys = k.arg(1), kept = k.arg(2), numKept = k.toI32(k.arg(3));
  k.loop(0, channels, [&](Value c) {
    k.storeI32(spec.random ? randomKey(k, k.arg(0), c)
                           : scoreKey(k, k.loadF32(k.arg(0), c)),
               keys, c);
  });
  // Channel c is kept when fewer than k channels come before it: a larger
  // key, or an equal key and a lower index.
  OpBuilder &b = k.getBuilder();
  auto laneType = VectorType::get({vl}, b.getI32Type());
  SmallVector<int32_t> iota(vl);
  std::iota(iota.begin(), iota.end(), 0);
  Value lanes = k.create<arith::ConstantOp>(cast<TypedAttr>(
      DenseElementsAttr::get(laneType, ArrayRef<int32_t>(iota))));
  Value channelsVector =
      k.create<vector::BroadcastOp>(laneType, k.i32(channels));
  k.loop(
      k.index(0), k.index(channels), 1, {k.index(0)},
      [&](Value c, ValueRange count) -> SmallVector<Value> {
        Value key = k.create<vector::BroadcastOp>(laneType, k.loadI32(keys, c));
        Value self = k.create<vector::BroadcastOp>(laneType, k.toI32(c));
        Value zeros = k.create<vector::BroadcastOp>(laneType, k.i32(0));
        Value before = k.loop(
            k.index(0), k.index(padded), vl, {zeros},
            [&](Value o, ValueRange acc) -> SmallVector<Value> {
              Value other = k.create<vector::LoadOp>(laneType, keys, o);
              Value index = k.create<arith::AddIOp>(
                  k.create<vector::BroadcastOp>(laneType, k.toI32(o)), lanes);
              Value valid = k.cmp(Pred::slt, index, channelsVector);
              Value tie = k.create<arith::AndIOp>(
                  k.cmp(Pred::eq, other, key), k.cmp(Pred::slt, index, self));
              Value earlier = k.create<arith::AndIOp>(
                  valid,
                  k.create<arith::OrIOp>(k.cmp(Pred::ugt, other, key), tie));
              return {k.create<arith::SubIOp>(
                  acc[0], k.create<arith::ExtSIOp>(laneType, earlier))};
            })[0];
        Value rank =
            k.create<vector::ReductionOp>(vector::CombiningKind::ADD, before);
        Value isKept = k.cmp(Pred::slt, rank, numKept);
        k.ifThen(isKept, [&] { k.storeI32(k.toI32(c), kept, count[0]); });
        return {k.add(count[0], k.toIndex(k.create<arith::ExtUIOp>(
                                    b.getI32Type(), isKept)))};
      });
  std::string what = std::string("select_") +
                     (spec.random ? "random" : "topk") + "_c" +
                     std::to_string(channels);
  return {nameKernel(*k.finish(), what), 1, 0};
}

CpuKernel emitPositions(MLIRContext *context, int64_t channels,
                        int64_t kBucket) {
  OpBuilder types(context);
  KernelBuilder k(context, "positions",
                  {i32Buffer(context, kBucket), i32Buffer(context, channels),
                   types.getIndexType()},
                  8);
  Value kept = k.arg(0), positions = k.arg(1);
  k.loop(0, channels, [&](Value c) { k.storeI32(k.i32(-1), positions, c); });
  k.loop(k.index(0), k.arg(2), 1, [&](Value j) {
    k.storeI32(k.toI32(j), positions, k.toIndex(k.loadI32(kept, j)));
  });
  return {nameKernel(*k.finish(), "positions_c" + std::to_string(channels)), 1,
          0};
}

CpuKernel emitGroupOffsets(MLIRContext *context, int64_t groups,
                           int64_t groupSize, int64_t kBucket) {
  OpBuilder types(context);
  KernelBuilder k(context, "group_offsets",
                  {i32Buffer(context, kBucket), i32Buffer(context, groups + 1),
                   types.getIndexType()},
                  8);
  Value kept = k.arg(0), offsets = k.arg(1);
  k.loop(0, groups + 1, [&](Value g) { k.storeI32(k.i32(0), offsets, g); });
  // The last kept channel of each group marks where the next one starts;
  // groups without kept channels inherit the offset before them.
  k.loop(k.index(0), k.arg(2), 1, [&](Value j) {
    Value group = k.div(k.toIndex(k.loadI32(kept, j)), groupSize);
    k.storeI32(k.toI32(k.add(j, 1)), offsets, k.add(group, 1));
  });
  k.loop(1, groups + 1, [&](Value g) {
    Value previous = k.loadI32(offsets, k.sub(g, k.index(1)));
    Value own = k.loadI32(offsets, g);
    k.storeI32(k.create<arith::MaxSIOp>(previous, own), offsets, g);
  });
  return {nameKernel(*k.finish(), "group_offsets_g" + std::to_string(groups)),
          1, 0};
}

CpuKernel emitScatter(MLIRContext *context, const ScatterSpec &spec) {
  using Source = codegen::ScatterKernelSpec::Source;
  const int64_t inner = spec.inner, vl = spec.vectorLength;
  SmallVector<Type> args = {
      f32Buffer(context, spec.splits * spec.rowsPerSplit * inner)};
  if (spec.source != Source::AllRows)
    args.push_back(i32Buffer(context, spec.channels));
  args.push_back(getBufferType(context, spec.outType, spec.channels * inner));
  KernelBuilder k(context, "scatter", args, spec.vectorLength);
  Value rows = k.arg(0), out = k.arg(args.size() - 1);
  const int64_t full = inner / vl;
  k.loop(k.tileBegin(), k.tileEnd(), 1, [&](Value c) {
    Value outBase = k.mul(c, inner);
    auto place = [&](Value row) {
      auto sum = [&](Value at, bool asVector) {
        Value total;
        for (int64_t split = 0; split < spec.splits; ++split) {
          Value from =
              k.add(k.mul(k.add(row, split * spec.rowsPerSplit), inner), at);
          Value part =
              asVector ? k.loadVector(rows, from) : k.loadF32(rows, from);
          total = total ? k.addf(total, part) : part;
        }
        return total;
      };
      k.loop(0, full, [&](Value v) {
        Value at = k.mul(v, vl);
        k.storeVector(sum(at, true), out, k.add(outBase, at));
      });
      k.loop(full * vl, inner, [&](Value e) {
        k.storeF32(sum(e, false), out, k.add(outBase, e));
      });
    };
    if (spec.source == Source::AllRows)
      return place(c);
    Value position = k.loadI32(k.arg(1), c);
    k.ifThenElse(
        k.cmp(Pred::sge, position, k.i32(0)),
        [&] {
          place(spec.source == Source::KeptRows ? k.toIndex(position) : c);
        },
        [&] {
          k.loop(0, full, [&](Value v) {
            k.storeVector(k.zeroVector(), out, k.add(outBase, k.mul(v, vl)));
          });
          k.loop(full * vl, inner, [&](Value e) {
            k.storeF32(k.f32(0), out, k.add(outBase, e));
          });
        });
  });
  const char *source = spec.source == Source::KeptRows      ? "kept"
                       : spec.source == Source::ChannelRows ? "channels"
                                                            : "all";
  std::string what = std::string("scatter_") +
                     getElementTypeName(spec.outType) + "_" + source + "_s" +
                     std::to_string(spec.splits);
  return {nameKernel(*k.finish(), what), spec.channels, 0};
}

} // namespace ssprop::cpu
