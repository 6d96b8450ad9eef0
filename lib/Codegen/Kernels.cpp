//===- Kernels.cpp - CUDA kernel templates of the emitter -----------------===//
//
// Each kernel is written once below as CUDA C++ with `${NAME}` placeholders
// for its specialisation constants. Every kernel reads and accumulates in f32;
// the index arithmetic is 32-bit and offsets into tensors 64-bit.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <map>
#include <sstream>

namespace ssprop::codegen {

/// The prelude's text (Prelude.cuh), embedded at build time.
extern const char *const kPreludeSource;

namespace {

const char *getCudaTypeName(ElementType type) {
  switch (type) {
  case ElementType::f32:
    return "float";
  case ElementType::f16:
    return "__half";
  case ElementType::bf16:
    return "__nv_bfloat16";
  case ElementType::i32:
    return "int";
  }
  return "";
}

/// FNV-1a: a stable name suffix that differs whenever the source does.
uint64_t hashText(const std::string &text) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : text)
    hash = (hash ^ c) * 0x100000001b3ull;
  return hash;
}

/// Replaces every `${NAME}` in `text` by its value; a placeholder without a
/// value is a bug in a template.
std::string substitute(const std::string &text,
                       const std::map<std::string, std::string> &values) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t start = text.find("${", pos);
    if (start == std::string::npos)
      break;
    size_t end = text.find('}', start);
    auto it = values.find(text.substr(start + 2, end - start - 2));
    assert(it != values.end() && "kernel template placeholder without value");
    out.append(text, pos, start - pos).append(it->second);
    pos = end + 1;
  }
  return out.append(text, pos, std::string::npos);
}

/// A parameter type without `__restrict__`, which a cast cannot carry.
std::string withoutRestrict(std::string type) {
  const std::string restrict = " *__restrict__";
  if (size_t pos = type.find(restrict); pos != std::string::npos)
    type.replace(pos, restrict.size(), " *");
  return type;
}

/// Assembles one self-contained kernel source: header comment, feature
/// macros, prelude, the `extern "C"` kernel with its constants, and the entry
/// point the host emulation calls.
class KernelBuilder {
public:
  KernelBuilder(std::string kind, std::string description, Arch arch)
      : kind(std::move(kind)), description(std::move(description)),
        arch(arch) {}

  KernelBuilder &nameTag(const std::string &tag) {
    tags.push_back(tag);
    return *this;
  }
  KernelBuilder &constant(const std::string &name, int64_t value) {
    assert(value >= INT32_MIN && value <= INT32_MAX && "constant exceeds int");
    constants << "  constexpr int " << name << " = " << value << ";\n";
    values[name] = std::to_string(value);
    return *this;
  }
  KernelBuilder &flag(const std::string &name, bool value) {
    constants << "  constexpr bool " << name << " = "
              << (value ? "true" : "false") << ";\n";
    return *this;
  }
  /// An element type the kernel is specialised on, written `${name}` in
  /// parameter types and `name` in the body.
  KernelBuilder &typeAlias(const std::string &name, ElementType type) {
    usesF16 |= type == ElementType::f16;
    usesBF16 |= type == ElementType::bf16;
    constants << "  typedef " << getCudaTypeName(type) << " " << name << ";\n";
    values[name] = getCudaTypeName(type);
    return *this;
  }
  /// A typedef of the body, e.g. of a prelude template instance.
  KernelBuilder &typedefName(const std::string &name, const std::string &type) {
    constants << "  typedef " << type << " " << name << ";\n";
    return *this;
  }
  /// A kernel parameter; `type` may name type aliases as `${T}`.
  KernelBuilder &param(const std::string &type, const std::string &name) {
    params.push_back({type, name});
    return *this;
  }

  EmittedKernel build(const std::string &body, std::array<unsigned, 3> grid,
                      unsigned threads) {
    // The name ends in a hash of everything else, so that different
    // specialisations never share a name.
    const std::string marker = "@KERNEL_NAME@";
    values["KERNEL_NAME"] = marker;
    std::string code = substitute(assemble(body, threads), values);
    char suffix[9];
    std::snprintf(suffix, sizeof(suffix), "%08x",
                  static_cast<unsigned>(hashText(code)));
    std::string name = "ssprop_" + kind;
    for (const std::string &tag : tags)
      name += "_" + tag;
    name += std::string("_sm") + std::to_string(getArchNumber(arch)) + "_" +
            suffix;
    for (size_t pos; (pos = code.find(marker)) != std::string::npos;)
      code.replace(pos, marker.size(), name);
    return {{name, std::move(code)}, grid, {threads, 1, 1}};
  }

private:
  std::string assemble(const std::string &body, unsigned threads) {
    std::ostringstream os;
    os << "// ${KERNEL_NAME}: " << description << "\n"
       << "// Generated by the ssprop CUDA emitter. Self-contained for NVRTC;\n"
       << "// compiles as host C++ with ssprop/Codegen/HostEmulation.h.\n"
       << "#define SSPROP_ARCH " << getArchNumber(arch) * 10 << "\n";
    if (usesF16)
      os << "#define SSPROP_USE_F16 1\n";
    if (usesBF16)
      os << "#define SSPROP_USE_BF16 1\n";
    os << kPreludeSource << "\n";
    // At least one block per SM: ptxas may then use up to 255 registers,
    // which keeps the register-blocked GEMMs free of spills.
    os << "extern \"C\" __global__ void __launch_bounds__(" << threads
       << ", 1)\n${KERNEL_NAME}(";
    for (size_t i = 0; i < params.size(); ++i)
      os << (i ? ",\n    " : "") << params[i].first << " " << params[i].second;
    os << ") {\n" << constants.str() << body << "}\n\n";
    os << "#if !defined(__CUDACC__)\n"
       << "extern \"C\" void ${KERNEL_NAME}_host(void **params) {\n"
       << "  ${KERNEL_NAME}(";
    for (size_t i = 0; i < params.size(); ++i)
      os << (i ? ",\n      " : "") << "*static_cast<"
         << withoutRestrict(params[i].first) << " *>(params[" << i << "])";
    os << ");\n}\n#endif\n";
    return os.str();
  }

  std::string kind, description;
  Arch arch;
  std::vector<std::string> tags;
  bool usesF16 = false, usesBF16 = false;
  std::map<std::string, std::string> values;
  std::ostringstream constants;
  std::vector<std::pair<std::string, std::string>> params;
};

unsigned ceilDiv(int64_t a, int64_t b) {
  return static_cast<unsigned>((a + b - 1) / b);
}

/// Threads of a single-block kernel with one thread per item: whole warps,
/// at most 1024.
int singleBlockThreads(int64_t items) {
  return static_cast<int>(std::min<int64_t>(1024, ceilDiv(items, 32) * 32));
}

/// Adds the geometry constants shared by the GEMM kernels.
void addConvConstants(KernelBuilder &builder, const ConvShape &c) {
  builder.constant("N", c.n)
      .constant("CIN", c.inChannels)
      .constant("H", c.height)
      .constant("W", c.width)
      .constant("COUT", c.outChannels)
      .constant("HO", c.outHeight)
      .constant("WO", c.outWidth)
      .constant("KH", c.kernelHeight)
      .constant("KW", c.kernelWidth)
      .constant("SH", c.strideH)
      .constant("SW", c.strideW)
      .constant("PH", c.padH)
      .constant("PW", c.padW)
      .constant("DH", c.dilationH)
      .constant("DW", c.dilationW)
      .constant("GROUPS", c.groups)
      .constant("CIN_G", c.inChannels / c.groups)
      .constant("COUT_G", c.outChannels / c.groups)
      .flag("PLAIN", c.plain);
}

/// What the dgrad and wgrad kernels share: name tags, element type, the
/// geometry and tile constants, GATHER and the k bucket.
KernelBuilder startGemmKernel(const char *kind, const char *description,
                              ElementType type, const ConvShape &conv,
                              const TileConfig &tile, bool gather,
                              int kBucket, Arch arch) {
  KernelBuilder builder(kind, description, arch);
  builder.nameTag(getElementTypeName(type))
      .nameTag(tile.getName())
      .nameTag(gather ? "gather" : "dense")
      .typeAlias("T", type);
  addConvConstants(builder, conv);
  builder.constant("BM", tile.bm)
      .constant("BN", tile.bn)
      .constant("BK", tile.getKStep(type))
      .constant("THREADS", tile.getNumThreads())
      .flag("GATHER", gather)
      .constant("K_BUCKET", kBucket);
  // The GEMM engine (Prelude.cuh) the body runs as Gemm::run<...>(...).
  if (tile.kind == TileKind::simt) {
    builder.constant("TM", tile.tm)
        .constant("TN", tile.tn)
        .typedefName("Gemm",
                     "ssprop_rt::SimtGemm<T, BM, BN, BK, TM, TN, THREADS>");
  } else {
    builder.constant("WM", tile.tm)
        .constant("WN", tile.tn)
        .constant("STAGES", tile.stages)
        .typedefName("Gemm", "ssprop_rt::TensorCoreGemm<T, BM, BN, BK, WM, "
                             "WN, STAGES, THREADS>");
  }
  return builder;
}

//===----------------------------------------------------------------------===//
// Kernel bodies
//===----------------------------------------------------------------------===//

const char *const kReduceBody = R"(  __shared__ float scratch[THREADS / 32];
  const int row = blockIdx.x;
  if (GATHER && row >= k)
    return; // past k in the bucket: the whole block leaves together
  const int c = GATHER ? kept[row] : row;
  float sum = 0.0f, abs_sum = 0.0f;
  // Consecutive threads read consecutive pixels of one (n, c) plane.
  for (int i = threadIdx.x; i < N * HW; i += THREADS) {
    const int n = i / HW, p = i - n * HW;
    const float v = ssprop_rt::load(dy + ((long long)n * C + c) * HW + p);
    sum += v;
    abs_sum += fabsf(v);
  }
  if (WITH_SCORE)
    abs_sum = ssprop_rt::block_sum<THREADS>(abs_sum, scratch);
  if (WITH_SUM)
    sum = ssprop_rt::block_sum<THREADS>(sum, scratch);
  if (threadIdx.x == 0) {
    if (WITH_SCORE)
      score[c] = abs_sum / (float)(N * HW);
    if (WITH_SUM)
      ssprop_rt::store(sums + (GATHER ? row : c), sum);
  }
)";

const char *const kSelectBody = R"(  constexpr int PER_THREAD = (C + THREADS - 1) / THREADS;
  __shared__ unsigned int keys[C];
  __shared__ int scratch[THREADS / 32];
  for (int c = threadIdx.x; c < C; c += THREADS)
    keys[c] = RANDOM ? ssprop_rt::random_key(seed, c)
                     : ssprop_rt::float_order_key(score[c]);
  __syncthreads();
  // Channel c is kept when fewer than k channels come before it (larger key
  // first, lower channel on ties): exactly k are kept. Each thread owns
  // consecutive channels so that the kept list comes out ascending.
  const int first = threadIdx.x * PER_THREAD;
  bool keep[PER_THREAD];
  int count = 0;
#pragma unroll
  for (int i = 0; i < PER_THREAD; ++i) {
    const int c = first + i;
    keep[i] = false;
    if (c < C) {
      const unsigned int key = keys[c];
      int rank = 0;
      for (int j = 0; j < C; ++j) {
        const unsigned int other = keys[j];
        rank += other > key || (other == key && j < c);
      }
      keep[i] = rank < k;
      count += keep[i];
    }
  }
  int total;
  int pos = ssprop_rt::block_exclusive_scan<THREADS>(count, scratch, total);
#pragma unroll
  for (int i = 0; i < PER_THREAD; ++i)
    if (keep[i])
      kept[pos++] = first + i;
)";

const char *const kGroupOffsetsBody = R"(  for (int g = threadIdx.x; g <= GROUPS; g += THREADS)
    offsets[g] = ssprop_rt::lower_bound(kept, k, g * GROUP_SIZE);
)";

const char *const kScatterBody = R"(  const long long i = (long long)blockIdx.x * THREADS + threadIdx.x;
  if (i >= (long long)C * INNER)
    return;
  const int c = (int)(i / INNER), j = (int)(i - (long long)c * INNER);
  int row = c;
  if (SOURCE != ALL_ROWS) {
    const int pos = ssprop_rt::find_kept(kept, k, c);
    if (pos < 0) { // a dropped channel: its gradient is exactly zero
      ssprop_rt::store(out + i, 0.0f);
      return;
    }
    if (SOURCE == KEPT_ROWS)
      row = pos;
  }
  float v = 0.0f;
  for (int s = 0; s < SPLITS; ++s) // the split-K reduction, in a fixed order
    v += rows[((long long)s * ROWS_PER_SPLIT + row) * INNER + j];
  ssprop_rt::store(out + i, v);
)";

// The GEMM kernels give the engine (Gemm, a SIMT or tensor-core instance of
// Prelude.cuh) their operands as addr(row, k) -> element pointer or null, and
// take the result through write(row, col, value).
const char *const kWgradBody = R"(  constexpr int NCOL = CIN_G * KH * KW; // GEMM N
  constexpr int KDIM = N * HO * WO;      // GEMM K
  // A CTA computes a tile of one group's rows: rows are positions in the kept
  // list (gathered) or output channels (dense).
  const int group = blockIdx.x / ROW_TILES_PER_GROUP;
  const int tile = blockIdx.x % ROW_TILES_PER_GROUP;
  int lo = group * COUT_G, hi = lo + COUT_G;
  if (GATHER) {
    lo = GROUPS == 1 ? 0 : ssprop_rt::lower_bound(kept, k, group * COUT_G);
    hi = GROUPS == 1 ? k : ssprop_rt::lower_bound(kept, k, (group + 1) * COUT_G);
  }
  const int row0 = lo + tile * BM;
  if (row0 >= hi)
    return;
  const int col0 = blockIdx.y * BN;
  const int kBegin = blockIdx.z * K_PER_SPLIT;
  const int kEnd = min(KDIM, kBegin + K_PER_SPLIT);

  // A = dy[n, kept[row], oh, ow]: the gather is fused into the loads, so
  // dy[:, kept] never exists in memory. Loads walk K, i.e. (oh, ow).
  auto addrA = [&](int m, int kidx) -> const T * {
    const int row = row0 + m;
    if (row >= hi)
      return nullptr;
    const int channel = GATHER ? kept[row] : row;
    const int n = kidx / (HO * WO), pq = kidx - n * (HO * WO);
    return dy + ((long long)n * COUT + channel) * (HO * WO) + pq;
  };
  // B = im2col(x)[(n, oh, ow), (ci, kh, kw)] of the CTA's group.
  auto addrB = [&](int j, int kidx) -> const T * {
    const int col = col0 + j;
    if (col >= NCOL)
      return nullptr;
    const int n = kidx / (HO * WO), pq = kidx - n * (HO * WO);
    const int oh = pq / WO, ow = pq - oh * WO;
    const int ci = col / (KH * KW), t = col - ci * (KH * KW);
    const int kh = t / KW, kw = t - kh * KW;
    const int ih = oh * SH - PH + kh * DH, iw = ow * SW - PW + kw * DW;
    if (!PLAIN && (ih < 0 || ih >= H || iw < 0 || iw >= W))
      return nullptr;
    return x + (((long long)n * CIN + group * CIN_G + ci) * H + ih) * W + iw;
  };
  // f32 partial sums of this split; the scatter kernel adds the splits.
  auto write = [&](int m, int j, float v) {
    const int row = row0 + m, col = col0 + j;
    if (row < hi && col < NCOL)
      partials[((long long)blockIdx.z * ROWS_PER_SPLIT + row) * NCOL + col] = v;
  };
  Gemm::run<true, true>(kBegin, kEnd, dy, addrA, x, addrB, write);
)";

const char *const kDgradBody = R"(  constexpr int TAPS = KH * KW;
  constexpr int MDIM = N * H * W; // GEMM M
  // This group's kept channels: kept[lo .. lo + count) (gathered) or all of
  // the group's channels (dense). GEMM K = count * TAPS <= KMAX.
  const int group = blockIdx.z;
  int lo = group * COUT_G, count = COUT_G;
  if (GATHER) {
    lo = GROUPS == 1 ? 0 : offsets[group];
    count = GROUPS == 1 ? k : offsets[group + 1] - lo;
  }
  const int kdim = count * TAPS;
  const int m0 = blockIdx.x * BM, col0 = blockIdx.y * BN;

  // A = dy[n, kept[lo + jj], oh, ow] for the output pixel that input pixel
  // (h, w) reaches through tap (kh, kw); zero where no pixel does. The
  // gather is fused into the loads. Loads walk M, i.e. (h, w).
  auto addrA = [&](int m, int kidx) -> const T * {
    const int mi = m0 + m;
    if (mi >= MDIM)
      return nullptr;
    const int jj = kidx / TAPS, t = kidx - jj * TAPS;
    const int kh = t / KW, kw = t - kh * KW;
    const int channel = GATHER ? kept[lo + jj] : lo + jj;
    const int n = mi / (H * W), hw = mi - n * (H * W);
    if (PLAIN)
      return dy + ((long long)n * COUT + channel) * (HO * WO) + hw;
    const int h = hw / W, w = hw - h * W;
    const int ohs = h + PH - kh * DH, ows = w + PW - kw * DW;
    if (ohs < 0 || ows < 0 || ohs % SH != 0 || ows % SW != 0)
      return nullptr;
    const int oh = ohs / SH, ow = ows / SW;
    if (oh >= HO || ow >= WO)
      return nullptr;
    return dy + (((long long)n * COUT + channel) * HO + oh) * WO + ow;
  };
  // B = weight[kept[lo + jj], ci, kh, kw]: the kept rows of W, read in place.
  auto addrB = [&](int j, int kidx) -> const T * {
    const int col = col0 + j;
    if (col >= CIN_G)
      return nullptr;
    const int jj = kidx / TAPS, t = kidx - jj * TAPS;
    const int channel = GATHER ? kept[lo + jj] : lo + jj;
    return weight + ((long long)channel * CIN_G + col) * TAPS + t;
  };
  // Every element of dx is written: a group without kept channels gets zero.
  auto write = [&](int m, int j, float v) {
    const int mi = m0 + m, col = col0 + j;
    if (mi >= MDIM || col >= CIN_G)
      return;
    const int n = mi / (H * W), hw = mi - n * (H * W);
    ssprop_rt::store(
        dx + ((long long)n * CIN + group * CIN_G + col) * (H * W) + hw, v);
  };
  Gemm::run<false, false>(0, min(kdim, KMAX), dy, addrA, weight, addrB, write);
)";

} // namespace

//===----------------------------------------------------------------------===//
// Emitters
//===----------------------------------------------------------------------===//

EmittedKernel emitReduceKernel(const ReduceKernelSpec &spec) {
  constexpr int threads = 256;
  std::string what = spec.withScore && spec.withSum ? "score_sum"
                     : spec.withScore              ? "score"
                                                   : "sum";
  KernelBuilder builder(
      "reduce", "per-channel mean |dy| and/or sum over (N, Ho, Wo)", spec.arch);
  builder.nameTag(what).nameTag(getElementTypeName(spec.type));
  if (spec.gather)
    builder.nameTag("gather");
  builder.typeAlias("T", spec.type)
      .typeAlias("S", spec.sumType)
      .param("const ${T} *__restrict__", "dy")
      .param("const int *__restrict__", "kept")
      .param("int", "k")
      .param("float *__restrict__", "score")
      .param("${S} *__restrict__", "sums")
      .constant("N", spec.n)
      .constant("C", spec.channels)
      .constant("HW", spec.spatial)
      .constant("THREADS", threads)
      .flag("GATHER", spec.gather)
      .flag("WITH_SCORE", spec.withScore)
      .flag("WITH_SUM", spec.withSum);
  unsigned rows = spec.gather ? spec.kBucket : spec.channels;
  return builder.build(kReduceBody, {rows, 1, 1}, threads);
}

EmittedKernel emitSelectKernel(const SelectKernelSpec &spec) {
  assert(spec.channels <= kMaxSelectChannels && "checked by the emitter");
  int threads = singleBlockThreads(spec.channels);
  KernelBuilder builder(
      "select", spec.random ? "k random channels, ascending"
                            : "the k channels with the largest scores, ascending",
      spec.arch);
  builder.nameTag(spec.random ? "random" : "topk")
      .nameTag("c" + std::to_string(spec.channels))
      .param("const float *__restrict__", "score")
      .param("unsigned long long", "seed")
      .param("int", "k")
      .param("int *__restrict__", "kept")
      .constant("C", spec.channels)
      .constant("THREADS", threads)
      .flag("RANDOM", spec.random);
  return builder.build(kSelectBody, {1, 1, 1}, threads);
}

EmittedKernel emitGroupOffsetsKernel(const GroupOffsetsKernelSpec &spec) {
  int threads = singleBlockThreads(spec.groups + 1);
  KernelBuilder builder("group_offsets",
                        "where each group's kept channels start", spec.arch);
  builder.nameTag("g" + std::to_string(spec.groups))
      .param("const int *__restrict__", "kept")
      .param("int", "k")
      .param("int *__restrict__", "offsets")
      .constant("GROUPS", spec.groups)
      .constant("GROUP_SIZE", spec.groupSize)
      .constant("THREADS", threads);
  return builder.build(kGroupOffsetsBody, {1, 1, 1}, threads);
}

EmittedKernel emitScatterKernel(const ScatterKernelSpec &spec) {
  constexpr int threads = 256;
  using Source = ScatterKernelSpec::Source;
  KernelBuilder builder(
      "scatter", "dense rows from f32 partials, zero for dropped channels",
      spec.arch);
  builder.nameTag(spec.source == Source::AllRows ? "dense" : "kept")
      .nameTag(getElementTypeName(spec.outType))
      .typeAlias("T", spec.outType)
      .param("const float *__restrict__", "rows")
      .param("const int *__restrict__", "kept")
      .param("int", "k")
      .param("${T} *__restrict__", "out")
      .constant("C", spec.channels)
      .constant("INNER", spec.inner)
      .constant("SPLITS", spec.splits)
      .constant("ROWS_PER_SPLIT", spec.rowsPerSplit)
      .constant("THREADS", threads)
      .constant("KEPT_ROWS", 0)
      .constant("CHANNEL_ROWS", 1)
      .constant("ALL_ROWS", 2)
      .constant("SOURCE", static_cast<int>(spec.source));
  return builder.build(kScatterBody,
                       {ceilDiv(spec.channels * spec.inner, threads), 1, 1},
                       threads);
}

std::pair<int64_t, int64_t>
chooseWgradSplit(const ConvShape &conv, int64_t rows, const TileConfig &tile,
                 ElementType type, const CodegenOptions &options) {
  const int64_t kStep = tile.getKStep(type);
  int64_t kdim = conv.n * conv.outHeight * conv.outWidth;
  int64_t ncol = conv.inChannels / conv.groups * conv.kernelHeight *
                 conv.kernelWidth;
  int64_t tiles = ((rows + tile.bm - 1) / tile.bm) * ceilDiv(ncol, tile.bn);
  int64_t splits = options.wgradSplitK;
  if (splits <= 0) {
    // Enough CTAs for two waves, but at least 8 K-steps of work per split.
    int64_t wanted = (2 * options.numSMs + tiles - 1) / tiles;
    splits = std::max<int64_t>(1, std::min(wanted, kdim / (8 * kStep)));
  }
  int64_t kPerSplit = ceilDiv(ceilDiv(kdim, splits), kStep) * kStep;
  return {ceilDiv(kdim, kPerSplit), kPerSplit};
}

EmittedKernel emitWgradKernel(const WgradKernelSpec &spec) {
  const ConvShape &c = spec.conv;
  int64_t groupRows = spec.gather
                          ? std::min<int64_t>(spec.kBucket, c.outChannels / c.groups)
                          : c.outChannels / c.groups;
  int64_t rowTiles = (groupRows + spec.tile.bm - 1) / spec.tile.bm;
  int64_t ncol = c.inChannels / c.groups * c.kernelHeight * c.kernelWidth;
  KernelBuilder builder = startGemmKernel(
      "wgrad",
      "weight gradient of the kept channels, split-K implicit GEMM into f32 "
      "partials",
      spec.type, c, spec.tile, spec.gather, spec.kBucket, spec.arch);
  builder.param("const ${T} *__restrict__", "x")
      .param("const ${T} *__restrict__", "dy")
      .param("const int *__restrict__", "kept")
      .param("int", "k")
      .param("float *__restrict__", "partials")
      .constant("ROWS_PER_SPLIT", spec.gather ? spec.kBucket : c.outChannels)
      .constant("ROW_TILES_PER_GROUP", rowTiles)
      .constant("K_PER_SPLIT", spec.kPerSplit);
  return builder.build(kWgradBody,
                       {static_cast<unsigned>(c.groups * rowTiles),
                        ceilDiv(ncol, spec.tile.bn),
                        static_cast<unsigned>(spec.splits)},
                       spec.tile.getNumThreads());
}

EmittedKernel emitDgradKernel(const DgradKernelSpec &spec) {
  const ConvShape &c = spec.conv;
  int64_t groupChannels = c.outChannels / c.groups;
  int64_t maxKept = spec.gather ? std::min<int64_t>(spec.kBucket, groupChannels)
                                : groupChannels;
  KernelBuilder builder = startGemmKernel(
      "dgrad", "input gradient from the kept channels, implicit GEMM",
      spec.type, c, spec.tile, spec.gather, spec.kBucket, spec.arch);
  builder.param("const ${T} *__restrict__", "dy")
      .param("const ${T} *__restrict__", "weight")
      .param("const int *__restrict__", "kept")
      .param("const int *__restrict__", "offsets")
      .param("int", "k")
      .param("${T} *__restrict__", "dx")
      .constant("KMAX", maxKept * c.kernelHeight * c.kernelWidth);
  return builder.build(kDgradBody,
                       {ceilDiv(c.n * c.height * c.width, spec.tile.bm),
                        ceilDiv(c.inChannels / c.groups, spec.tile.bn),
                        static_cast<unsigned>(c.groups)},
                       spec.tile.getNumThreads());
}

} // namespace ssprop::codegen
