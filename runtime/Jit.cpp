//===- Jit.cpp - layer keys to launchable kernels -------------------------===//

#include "ssprop/Runtime/Jit.h"

#include "ssprop/Runtime/Driver.h"
#include "ssprop/Runtime/PackedParams.h"

#include <algorithm>

namespace ssprop {

namespace {
/// The fields of `spec` every kernel depends on, comma-separated.
std::string getSpecKey(const ConvLayerSpec &spec) {
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
  return key;
}
} // namespace

std::string getLayerKey(const ConvLayerSpec &spec,
                        const CodegenOptions &options) {
  std::string key = getSpecKey(spec);
  auto add = [&](int64_t value) {
    key += std::to_string(value);
    key += ',';
  };
  add(static_cast<int64_t>(options.arch));
  key += options.dgradTile.getName() + "," + options.wgradTile.getName() + ",";
  add(options.wgradSplitK);
  add(options.numSMs);
  return key;
}

std::string getCpuLayerKey(const ConvLayerSpec &spec,
                           const CpuCodegenOptions &options) {
  return getSpecKey(spec) + "cpu," + getIsaName(options.isa) + "," +
         options.tile.getName() + "," + std::to_string(options.threads);
}

Jit::Jit(KernelCache::Options cacheOptions, LayerCompiler layerCompiler,
         KernelCache::Compiler kernelCompiler, CpuToolchain cpu)
    : layerCompiler(std::move(layerCompiler)), cpu(std::move(cpu)),
      cache(std::move(cacheOptions), std::move(kernelCompiler),
            this->cpu.compileKernel) {}

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

std::shared_ptr<const CompiledCpuLayer>
Jit::getCpuLayer(const ConvLayerSpec &spec, const CpuCodegenOptions &options) {
  if (!cpu.target)
    throw CompileError("ssprop: no CPU kernels on this machine (the CPU "
                       "backend needs AVX2 and FMA)");
  bool hit = false;
  auto layer = cpuLayers.get(
      getCpuLayerKey(spec, options),
      [&] {
        CompileResult result = cpu.compileLayer(spec, options);
        if (!result.ok())
          throw CompileError("ssprop: cannot compile the layer for the CPU:\n" +
                             result.error);
        auto compiled = std::make_shared<CompiledCpuLayer>();
        for (const KernelSource &kernel : result.plan.kernels)
          compiled->entries.push_back(getCpuEntry(kernel));
        compiled->plan = std::move(result.plan);
        return std::shared_ptr<const CompiledCpuLayer>(std::move(compiled));
      },
      &hit);
  if (hit) {
    std::lock_guard<std::mutex> lock(mutex);
    ++layerHits;
  }
  return layer;
}

CpuKernelEntry Jit::getCpuEntry(const KernelSource &kernel) {
  return cpuEntries.get(kernel.name, [&] {
    std::shared_ptr<const std::string> object =
        cache.getObject(kernel, *cpu.target);
    return cpu.load(*object, kernel.name);
  });
}

void Jit::runCpu(const CompiledCpuLayer &layer,
                 const std::vector<void *> &buffers,
                 const std::vector<uint64_t> &seeds,
                 const ParallelFor &parallelFor, size_t first, size_t last) {
  const KernelPlan &plan = layer.plan;
  for (size_t i = first; i < std::min(last, plan.launches.size()); ++i) {
    const KernelLaunch &launch = plan.launches[i];
    PackedParams packed(launch, buffers, seeds);
    // Scratch parameters point at the worker's own part.
    std::vector<std::pair<size_t, int64_t>> scratch;
    for (size_t p = 0; p < launch.params.size(); ++p) {
      const KernelParam &param = launch.params[p];
      if (param.kind != KernelParam::Kind::Buffer || param.value < 0)
        continue;
      const BufferSpec &buffer = plan.buffers[param.value];
      if (buffer.role == BufferSpec::Role::Scratch)
        scratch.push_back(
            {p, buffer.numElements * getElementSize(buffer.type)});
    }
    CpuKernelEntry entry = layer.entries[launch.kernel];
    parallelFor(launch.getNumTiles(),
                [&](int64_t begin, int64_t end, int worker) {
                  std::vector<uint64_t> slots = packed.getValues();
                  for (auto [slot, bytes] : scratch)
                    slots[slot] += static_cast<uint64_t>(worker * bytes);
                  entry(slots.data(), begin, end);
                });
  }
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
