//===- Scheduler.h - the keep fraction over training ------------*- C++ -*-===//
//
// ssprop::DropScheduler sets `keep` on every ssprop layer of a model as
// training goes, with the schedules of the ssProp paper (docs/usage.md),
// which ssprop::KeepSchedule (ssprop/Core/KeepSchedule.h) computes. Python:
// ssprop.DropScheduler, on the same KeepSchedule.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_TORCH_SCHEDULER_H
#define SSPROP_TORCH_SCHEDULER_H

#include "ssprop/Core/KeepSchedule.h"
#include "ssprop/Torch/Export.h"

#include <torch/arg.h>
#include <torch/nn/module.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ssprop {

struct DropSchedulerOptions {
  DropSchedulerOptions(std::string mode, double keep)
      : mode_(std::move(mode)), keep_(keep) {}
  /// "constant", "linear", "cosine" or "bar".
  TORCH_ARG(std::string, mode);
  /// The keep fraction at the start (and of constant).
  TORCH_ARG(double, keep);
  /// The smallest keep of linear/cosine/bar; unset: equal to keep.
  TORCH_ARG(std::optional<double>, min_keep) = std::nullopt;
  /// E: the number of epochs of the training (linear/cosine by epoch need 2+).
  TORCH_ARG(int64_t, total_epochs) = 0;
  /// "epoch" or "iteration".
  TORCH_ARG(std::string, by) = "epoch";
  /// T: the period in iterations of the by-iteration schedules.
  TORCH_ARG(int64_t, period) = 10;
  /// Alternate dense epochs with the mode (by epoch only).
  TORCH_ARG(bool, interleave) = false;
  /// Dense epochs at the start.
  TORCH_ARG(int64_t, warmup) = 0;
};

class SSPROP_TORCH_API DropScheduler {
public:
  /// A scheduler of no layer: keepAt / averageKeep only. Validates options.
  explicit DropScheduler(DropSchedulerOptions options);
  /// Drives every ssprop::nn::Conv2d / Linear inside `model` (and `model`
  /// itself if it is one); throws if there is none.
  DropScheduler(torch::nn::Module &model, DropSchedulerOptions options);
  /// Drives the given ssprop layers.
  DropScheduler(std::vector<std::shared_ptr<torch::nn::Module>> layers,
                DropSchedulerOptions options);

  /// The keep fraction at (epoch, global iteration): a pure function.
  double keepAt(int64_t epoch, int64_t iteration = 0) const;
  /// Mean keep over the E epochs (by iteration: over E * iterationsPerEpoch
  /// steps, which must then be given).
  double averageKeep(int64_t iterationsPerEpoch = 0) const;
  /// Every keep the training takes, largest first, each once
  /// (ssprop::KeepSchedule::distinctKeeps).
  std::vector<double> distinctKeeps() const;

  /// Sets the epoch (call at the start of each epoch) and applies keepAt.
  void stepEpoch(int64_t epoch);
  /// Sets the global iteration and applies keepAt.
  void stepIteration(int64_t iteration);
  /// Like torch's schedulers: advances the epoch (by epoch, call after each
  /// epoch) or the iteration (by iteration, call after each step) by one.
  void step();

  int64_t epoch() const { return epoch_; }
  int64_t iteration() const { return iteration_; }
  /// The keep last applied.
  double currentKeep() const { return current_; }
  const DropSchedulerOptions &options() const { return options_; }
  size_t numLayers() const { return layers_.size(); }
  /// Whether `layer` is one of the layers the scheduler sets.
  bool drives(const torch::nn::Module &layer) const;

private:
  /// Sets (epoch, iteration) and applies its keep to the layers; throws,
  /// changing nothing, if it is invalid.
  void moveTo(int64_t epoch, int64_t iteration);

  DropSchedulerOptions options_;
  KeepSchedule schedule_;
  std::vector<std::shared_ptr<torch::nn::Module>> layers_;
  int64_t epoch_ = 0, iteration_ = 0;
  double current_ = 1.0;
};

} // namespace ssprop

#endif // SSPROP_TORCH_SCHEDULER_H
