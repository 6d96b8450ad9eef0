//===- Nvrtc.cpp - compiling kernel sources with NVRTC --------------------===//

#include "ssprop/Runtime/Nvrtc.h"

#include <nvrtc.h>

#include <cstdlib>
#include <memory>
#include <regex>

namespace ssprop {
namespace {

/// CUDA's headers (cuda_fp16.h, ...) for NVRTC: SSPROP_CUDA_INCLUDE, or the
/// toolkit ssprop was built with.
std::vector<std::string> getCudaIncludeDirs() {
  const char *env = std::getenv("SSPROP_CUDA_INCLUDE");
  std::string base = env && *env ? env : SSPROP_CUDA_INCLUDE_DIR;
  return {base, base + "/cccl"};
}

void check(nvrtcResult result, const KernelSource &kernel, const char *what,
           const std::string &log = "") {
  if (result == NVRTC_SUCCESS)
    return;
  throw NvrtcError("NVRTC " + std::string(what) + " failed for kernel " +
                   kernel.name + ": " + nvrtcGetErrorString(result) +
                   (log.empty() ? "" : "\n" + log));
}

struct ProgramDeleter {
  void operator()(nvrtcProgram program) const {
    nvrtcDestroyProgram(&program);
  }
};
using Program = std::unique_ptr<_nvrtcProgram, ProgramDeleter>;

std::string getLog(nvrtcProgram program) {
  size_t size = 0;
  nvrtcGetProgramLogSize(program, &size);
  std::string log(size, '\0');
  nvrtcGetProgramLog(program, log.data());
  while (!log.empty() && (log.back() == '\0' || log.back() == '\n'))
    log.pop_back();
  return log;
}

int matchInt(const std::string &text, const std::regex &pattern) {
  std::smatch match;
  return std::regex_search(text, match, pattern) ? std::stoi(match[1]) : -1;
}

} // namespace

int getNvrtcVersion() {
  int major = 0, minor = 0;
  nvrtcVersion(&major, &minor);
  return major * 1000 + minor * 10;
}

std::vector<std::string> getNvrtcOptions(Arch arch) {
  // -default-device spares __device__ on the prelude's helpers; --minimal
  // skips NVRTC's implicit headers (6% faster compiles, measured with
  // ssprop-jit-bench); ptxas' report feeds the resource checks.
  std::vector<std::string> options = {
      std::string("-arch=sm_") + std::to_string(getArchNumber(arch)),
      "-std=c++17", "-default-device", "--minimal", "--ptxas-options=-v"};
  for (const std::string &dir : getCudaIncludeDirs())
    options.push_back("-I" + dir);
  return options;
}

CompiledKernel compileWithNvrtc(const KernelSource &kernel, Arch arch,
                                const std::vector<std::string> &extraOptions) {
  nvrtcProgram raw = nullptr;
  check(nvrtcCreateProgram(&raw, kernel.code.c_str(),
                           (kernel.name + ".cu").c_str(), 0, nullptr, nullptr),
        kernel, "program creation");
  Program program(raw);
  std::vector<std::string> options = getNvrtcOptions(arch);
  options.insert(options.end(), extraOptions.begin(), extraOptions.end());
  std::vector<const char *> argv;
  for (const std::string &option : options)
    argv.push_back(option.c_str());
  nvrtcResult compiled = nvrtcCompileProgram(
      raw, static_cast<int>(argv.size()), argv.data());
  CompiledKernel result;
  result.log = getLog(raw);
  check(compiled, kernel, "compilation", result.log);
  size_t size = 0;
  check(nvrtcGetCUBINSize(raw, &size), kernel, "cubin size query");
  result.cubin.resize(size);
  check(nvrtcGetCUBIN(raw, result.cubin.data()), kernel, "cubin read");
  result.usage = parsePtxasReport(result.log, kernel.name);
  return result;
}

ResourceUsage parsePtxasReport(const std::string &log,
                               const std::string &kernelName) {
  // ptxas prints, per function:
  //   Function properties for NAME
  //       N bytes stack frame, N bytes spill stores, N bytes spill loads
  //   Used N registers, used N barriers, N bytes smem, N bytes cmem[0]
  ResourceUsage usage;
  size_t start = log.find("Function properties for " + kernelName);
  if (start == std::string::npos)
    start = log.find(kernelName);
  if (start == std::string::npos)
    return usage;
  size_t end = log.find("Compiling entry function", start + 1);
  std::string section = log.substr(start, end == std::string::npos
                                              ? std::string::npos
                                              : end - start);
  usage.stackBytes = matchInt(section, std::regex(R"((\d+) bytes stack frame)"));
  usage.spillStoreBytes =
      matchInt(section, std::regex(R"((\d+) bytes spill stores)"));
  usage.spillLoadBytes =
      matchInt(section, std::regex(R"((\d+) bytes spill loads)"));
  usage.registers = matchInt(section, std::regex(R"(Used (\d+) registers)"));
  usage.sharedBytes = matchInt(section, std::regex(R"((\d+) bytes smem)"));
  if (usage.sharedBytes < 0 && usage.registers >= 0)
    usage.sharedBytes = 0; // ptxas omits smem when a kernel uses none
  return usage;
}

} // namespace ssprop
