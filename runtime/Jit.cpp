//===- Jit.cpp - layer keys to launchable kernels -------------------------===//

#include "ssprop/Runtime/Jit.h"

#include "ssprop/Runtime/Driver.h"
#include "ssprop/Runtime/PackedParams.h"

#include <algorithm>

namespace ssprop {

std::string getLayerKey(const ConvLayerSpec &spec,
                        const CodegenOptions &options) {
  // Built by appending (no streams): this runs on every launch.
  std::string key;
  key.reserve(160);
  auto add = [&](int64_t value) {
    key += std::to_string(value);
    key += ',';
  };
  for (const auto *shape : {&spec.inputShape, &spec.weightShape})
    for (int64_t dim : *shape)
      add(dim);
  for (const auto *pair : {&spec.stride, &spec.padding, &spec.dilation})
    for (int64_t value : *pair)
      add(value);
  add(spec.groups);
  add(static_cast<int64_t>(spec.dtype));
  // k, not keep: a schedule that moves keep every step must not compile a
  // plan per value.
  add(spec.getNumKept());
  add(static_cast<int64_t>(spec.select));
  add(spec.weightOnly);
  add(spec.needInputGrad);
  add(static_cast<int64_t>(options.arch));
  key += options.dgradTile.getName() + "," + options.wgradTile.getName() + ",";
  add(options.wgradSplitK);
  add(options.numSMs);
  return key;
}

Jit::Jit(KernelCache::Options cacheOptions, LayerCompiler layerCompiler,
         KernelCache::Compiler kernelCompiler)
    : layerCompiler(std::move(layerCompiler)),
      cache(std::move(cacheOptions), std::move(kernelCompiler)) {}

int64_t Jit::getLayerHits() const {
  std::lock_guard<std::mutex> lock(mutex);
  return layerHits;
}

std::shared_ptr<const CompiledLayer>
Jit::getLayer(const ConvLayerSpec &spec, const CodegenOptions &options) {
  bool hit = false;
  auto layer = layers.get(
      getLayerKey(spec, options),
      [&] {
        CompileResult result = layerCompiler(spec, options);
        if (!result.ok())
          throw CompileError("ssprop: cannot compile the layer:\n" +
                             result.error);
        auto compiled = std::make_shared<CompiledLayer>();
        compiled->arch = options.arch;
        for (const KernelSource &kernel : result.plan.kernels)
          compiled->cubins.push_back(cache.getCubin(kernel, options.arch));
        compiled->plan = std::move(result.plan);
        return std::shared_ptr<const CompiledLayer>(std::move(compiled));
      },
      &hit);
  if (hit) {
    std::lock_guard<std::mutex> lock(mutex);
    ++layerHits;
  }
  return layer;
}

CUfunction Jit::getFunction(const CompiledLayer &layer, int kernel) {
  const Driver &driver = Driver::get();
  CUcontext context = nullptr;
  driver.check(driver.cuCtxGetCurrent(&context), "cuCtxGetCurrent");
  if (!context)
    throw DriverError("ssprop: no current CUDA context; initialise CUDA "
                      "(e.g. allocate a tensor on the device) first");
  const std::string &name = layer.plan.kernels[kernel].name;
  std::lock_guard<std::mutex> lock(mutex);
  CUfunction &function = functions[{context, name}];
  if (!function) {
    CUmodule module = nullptr;
    driver.check(driver.cuModuleLoadData(&module, layer.cubins[kernel]->data()),
                 "loading " + name);
    driver.check(driver.cuModuleGetFunction(&function, module, name.c_str()),
                 "finding " + name);
  }
  return function;
}

void Jit::launch(const CompiledLayer &layer, const std::vector<void *> &buffers,
                 const std::vector<uint64_t> &seeds, CUstream stream,
                 size_t first, size_t last) {
  const Driver &driver = Driver::get();
  const std::vector<KernelLaunch> &launches = layer.plan.launches;
  for (size_t i = first; i < std::min(last, launches.size()); ++i) {
    const KernelLaunch &launch = launches[i];
    CUfunction function = getFunction(layer, launch.kernel);
    PackedParams params(launch, buffers, seeds);
    driver.check(driver.cuLaunchKernel(
                     function, launch.grid[0], launch.grid[1], launch.grid[2],
                     launch.block[0], launch.block[1], launch.block[2],
                     /*sharedMemBytes=*/0, stream, params.get(), nullptr),
                 "launching " + layer.plan.kernels[launch.kernel].name);
  }
}

} // namespace ssprop
