//===- ToCudaTranslation.cpp - ssprop-translate --ssprop-to-cuda ----------===//
//
// Prints, for every function of lowered ssprop IR, its kernel plan (buffers
// and launches) and the CUDA source of each kernel.
//
//===----------------------------------------------------------------------===//

#include "CheckedTranslation.h"

#include "ssprop/Codegen/CudaEmitter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/CommandLine.h"

#include <sstream>

using namespace mlir;

namespace ssprop {
namespace {
struct ToCudaOptions {
  llvm::cl::opt<std::string> arch{"ssprop-arch",
                                  llvm::cl::desc("target: sm_80 or sm_90"),
                                  llvm::cl::init("sm_90")};
  llvm::cl::opt<std::string> dgradTile{
      "ssprop-dgrad-tile",
      llvm::cl::desc("dgrad tile, e.g. tc64x64_w4s4 or 64x64x16_4x4"),
      llvm::cl::init(getDefaultTileConfig().getName())};
  llvm::cl::opt<std::string> wgradTile{
      "ssprop-wgrad-tile",
      llvm::cl::desc("wgrad tile, e.g. tc128x64_w4s3 or 128x128x8_8x8"),
      llvm::cl::init(getDefaultTileConfig().getName())};
  llvm::cl::opt<int> splitK{"ssprop-wgrad-split-k",
                            llvm::cl::desc("wgrad split-K factor (0: auto)"),
                            llvm::cl::init(0)};
  llvm::cl::opt<bool> printPrelude{
      "ssprop-print-prelude",
      llvm::cl::desc("print each kernel's prelude instead of eliding it"),
      llvm::cl::init(false)};
};

ToCudaOptions &getOptions() {
  static ToCudaOptions options;
  return options;
}

FailureOr<CodegenOptions> parseOptions(Operation *op) {
  ToCudaOptions &cl = getOptions();
  CodegenOptions options;
  std::optional<Arch> arch = parseArch(cl.arch);
  if (!arch)
    return op->emitError() << "unknown --ssprop-arch '" << cl.arch
                           << "', expected sm_80 or sm_90";
  options.arch = *arch;
  for (auto [flag, target] : {std::pair{&cl.dgradTile, &options.dgradTile},
                              std::pair{&cl.wgradTile, &options.wgradTile}}) {
    std::optional<TileConfig> tile = parseTileConfig(*flag);
    if (!tile) {
      std::string known;
      for (const TileConfig &config : getTileConfigs(ElementType::f32))
        known += (known.empty() ? "" : ", ") + config.getName();
      return op->emitError() << "unknown tile '" << flag->getValue()
                             << "' for --" << flag->ArgStr
                             << ", expected one of: " << known;
    }
    *target = *tile;
  }
  options.wgradSplitK = cl.splitK;
  return options;
}

/// The kernel source with its prelude replaced by a one-line marker.
std::string elidePrelude(const std::string &code) {
  size_t begin = code.find("#ifndef SSPROP_PRELUDE");
  const std::string endMarker = "#endif // SSPROP_PRELUDE";
  size_t end = code.find(endMarker);
  if (begin == std::string::npos || end == std::string::npos)
    return code;
  return code.substr(0, begin) + "// ssprop prelude elided\n" +
         code.substr(end + endMarker.size());
}

LogicalResult translateToCuda(Operation *op, raw_ostream &os) {
  FailureOr<CodegenOptions> options = parseOptions(op);
  if (failed(options))
    return failure();
  for (auto func : op->getRegion(0).getOps<func::FuncOp>()) {
    FailureOr<KernelPlan> plan = emitCudaPlan(func, *options);
    if (failed(plan))
      return failure();
    os << "// ===== @" << func.getSymName() << " for "
       << getArchName(options->arch) << ", dgrad tile "
       << options->dgradTile.getName() << ", wgrad tile "
       << options->wgradTile.getName() << "\n";
    std::istringstream listing(printPlan(*plan));
    for (std::string line; std::getline(listing, line);)
      os << "// " << line << "\n";
    for (const KernelSource &kernel : plan->kernels)
      os << "// ----- kernel " << kernel.name << "\n"
         << (getOptions().printPrelude ? kernel.code
                                       : elidePrelude(kernel.code));
  }
  return success();
}

} // namespace

void registerToCudaTranslation() {
  getOptions(); // register the options before the command line is parsed
  registerCheckedTranslation(
      "ssprop-to-cuda", "lowered ssprop IR to CUDA kernels and launch plans",
      translateToCuda);
}

} // namespace ssprop
