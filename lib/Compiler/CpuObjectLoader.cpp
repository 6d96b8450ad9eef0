//===- CpuObjectLoader.cpp - CPU kernel objects into the process ----------===//
//
// One LLJIT per loader: objects are linked in process by ORC (JITLink), and
// the few symbols a kernel may call (memcpy, memset) resolve against the
// process. Each object is linked once; its entry point is looked up by name.
//
//===----------------------------------------------------------------------===//

#include "ssprop/Codegen/CpuEmitter.h"
#include "ssprop/Compiler/Compiler.h"

#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/Support/MemoryBuffer.h"

#include <mutex>
#include <set>

namespace ssprop {

struct CpuObjectLoader::Impl {
  std::mutex mutex;
  std::unique_ptr<llvm::orc::LLJIT> jit;
  /// Why `jit` could not be created.
  std::string error;
  /// Entry points of the objects linked so far.
  std::set<std::string> linked;
};

CpuObjectLoader::CpuObjectLoader() : impl(std::make_unique<Impl>()) {
  initializeHostTarget();
  llvm::Expected<std::unique_ptr<llvm::orc::LLJIT>> jit =
      llvm::orc::LLJITBuilder().create();
  if (!jit) {
    impl->error = "cannot create the ORC JIT: " + toString(jit.takeError());
    return;
  }
  auto process = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      (*jit)->getDataLayout().getGlobalPrefix());
  if (!process) {
    impl->error = "cannot search the process for symbols: " +
                  toString(process.takeError());
    return;
  }
  (*jit)->getMainJITDylib().addGenerator(std::move(*process));
  impl->jit = std::move(*jit);
}

CpuObjectLoader::~CpuObjectLoader() = default;

CpuKernelEntry CpuObjectLoader::load(const std::string &object,
                                     const std::string &kernel,
                                     std::string &error) {
  std::lock_guard<std::mutex> lock(impl->mutex);
  if (!impl->jit) {
    error = impl->error;
    return nullptr;
  }
  const std::string entry = kernel + kCpuEntrySuffix;
  auto lookup = [&]() -> CpuKernelEntry {
    llvm::Expected<llvm::orc::ExecutorAddr> address = impl->jit->lookup(entry);
    if (!address) {
      error = "cannot find " + entry + ": " + toString(address.takeError());
      return nullptr;
    }
    return address->toPtr<CpuKernelEntry>();
  };
  // Already linked (two layers share the kernel): the symbol is there.
  if (impl->linked.count(entry))
    return lookup();
  if (llvm::Error failure = impl->jit->addObjectFile(
          llvm::MemoryBuffer::getMemBufferCopy(object, kernel))) {
    error = "cannot link " + kernel + ": " + toString(std::move(failure));
    return nullptr;
  }
  impl->linked.insert(entry);
  return lookup();
}

} // namespace ssprop
