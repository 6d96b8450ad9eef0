//===- ToCpuTranslation.cpp - ssprop-translate --ssprop-to-cpu ------------===//
//
// Prints, for every function of lowered ssprop IR, its CPU kernel plan (as
// comments) and each kernel's module, separated by `// -----` so that
// `ssprop-opt -split-input-file --ssprop-cpu-to-llvm` lowers them.
//
//===----------------------------------------------------------------------===//

#include "CheckedTranslation.h"

#include "ssprop/Codegen/CpuEmitter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/CommandLine.h"

#include <sstream>

using namespace mlir;

namespace ssprop {
namespace {
struct ToCpuOptions {
  llvm::cl::opt<std::string> isa{"ssprop-isa",
                                 llvm::cl::desc("target: avx2 or avx512"),
                                 llvm::cl::init("avx2")};
  llvm::cl::opt<std::string> tile{
      "ssprop-cpu-tile", llvm::cl::desc("CPU register tiles, e.g. w6x2_d5x2t"),
      llvm::cl::init(getDefaultCpuTileConfig().getName())};
  llvm::cl::opt<int> threads{
      "ssprop-threads",
      llvm::cl::desc("worker threads wgrad splits its reduction for"),
      llvm::cl::init(1)};
};

ToCpuOptions &getOptions() {
  static ToCpuOptions options;
  return options;
}

FailureOr<CpuCodegenOptions> parseOptions(Operation *op) {
  ToCpuOptions &cl = getOptions();
  CpuCodegenOptions options;
  std::optional<Isa> isa = parseIsa(cl.isa);
  if (!isa)
    return op->emitError() << "unknown --ssprop-isa '" << cl.isa
                           << "', expected avx2 or avx512";
  options.isa = *isa;
  std::optional<CpuTileConfig> tile = parseCpuTileConfig(cl.tile);
  if (!tile) {
    std::string known;
    for (Isa each : {Isa::avx2, Isa::avx512})
      for (const CpuTileConfig &config : getCpuTileConfigs(each))
        if (known.find(config.getName()) == std::string::npos)
          known += (known.empty() ? "" : ", ") + config.getName();
    return op->emitError() << "unknown --ssprop-cpu-tile '" << cl.tile
                           << "', expected one of: " << known;
  }
  options.tile = *tile;
  if (cl.threads < 1)
    return op->emitError() << "--ssprop-threads must be >= 1, got "
                           << cl.threads.getValue();
  options.threads = cl.threads;
  return options;
}

LogicalResult translateToCpu(Operation *op, raw_ostream &os) {
  FailureOr<CpuCodegenOptions> options = parseOptions(op);
  if (failed(options))
    return failure();
  bool first = true;
  for (auto func : op->getRegion(0).getOps<func::FuncOp>()) {
    FailureOr<KernelPlan> plan = emitCpuPlan(func, *options);
    if (failed(plan))
      return failure();
    std::ostringstream header;
    header << "===== @" << func.getSymName().str() << " for "
           << getIsaName(options->isa) << ", tile " << options->tile.getName()
           << ", " << options->threads << " thread(s)\n"
           << printPlan(*plan);
    std::istringstream listing(header.str());
    for (std::string line; std::getline(listing, line);)
      os << "// " << line << "\n";
    for (const KernelSource &kernel : plan->kernels) {
      os << (first ? "" : "// -----\n") << "// kernel " << kernel.name << "\n"
         << kernel.code;
      first = false;
    }
  }
  return success();
}
} // namespace

void registerToCpuTranslation() {
  getOptions(); // register the options before the command line is parsed
  registerCheckedTranslation(
      "ssprop-to-cpu", "lowered ssprop IR to CPU kernels and call plans",
      translateToCpu, registerCpuKernelDialects);
}

} // namespace ssprop
