//===- KeepSchedule.h - the keep fraction over training ---------*- C++ -*-===//
//
// The schedules of the ssProp paper, defined once (docs/usage.md): the C++
// ssprop::DropScheduler and, through the torch.classes.ssprop.KeepSchedule
// of the bridge, Python's ssprop.DropScheduler call this class.
//
//   by epoch e (0-based, at the start of each epoch):
//     e < warmup -> 1; interleave: dense on even (e - warmup), else the mode;
//     constant -> keep; linear -> max(min, keep - (keep - min) e / (E - 1));
//     cosine -> min + (keep - min) (1 + cos(pi e / (E - 1))) / 2;
//     bar -> keep while e < E div 2, then min.
//   by iteration i (global step; warmup still counted in epochs):
//     linear -> max(min, keep - (keep - min) (i mod T) / T);
//     cosine -> min + (keep - min) (1 + cos(pi i / T)) / 2;
//     bar -> keep while (i mod T) < T div 2, then min; constant: error.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_CORE_KEEPSCHEDULE_H
#define SSPROP_CORE_KEEPSCHEDULE_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ssprop {

/// The parameters of a schedule, as the user gives them.
struct KeepScheduleOptions {
  /// "constant", "linear", "cosine" or "bar".
  std::string mode;
  /// The keep fraction at the start (and of constant).
  double keep = 1.0;
  /// The smallest keep of linear/cosine/bar; unset: equal to keep.
  std::optional<double> minKeep;
  /// E: the epochs of the training (linear/cosine by epoch need 2+).
  int64_t totalEpochs = 0;
  /// "epoch" or "iteration".
  std::string by = "epoch";
  /// T: the period in iterations of the by-iteration schedules.
  int64_t period = 10;
  /// Alternate dense epochs with the mode (by epoch only).
  bool interleave = false;
  /// Dense epochs at the start.
  int64_t warmup = 0;
};

/// A validated schedule. Every error is a std::invalid_argument whose
/// message names the option or argument, what was expected and what was
/// given, e.g. "total_epochs must be >= 2 for linear, got 1"; the callers
/// prefix it with their own name.
class KeepSchedule {
public:
  explicit KeepSchedule(KeepScheduleOptions options);

  /// The keep fraction at (epoch, global iteration): a pure function.
  double keepAt(int64_t epoch, int64_t iteration) const;
  /// The mean of keepAt over the E epochs (by iteration: over the
  /// E * iterationsPerEpoch steps, which must then be given), in closed
  /// form: its time does not depend on E.
  double averageKeep(int64_t iterationsPerEpoch) const;
  /// Every keep fraction keepAt takes during the training, largest first,
  /// each once: the keeps an engine must build kernels for. By epoch: over
  /// the E epochs (E = 0, constant only: its warmup, dense and mode keeps).
  /// By iteration: over the steps 0..T (linear and bar repeat every T,
  /// cosine is symmetric about T), plus the warmup's 1; a superset when
  /// training is shorter. Evaluates keepAt at most kMaxListedSteps times and
  /// fails beyond.
  std::vector<double> distinctKeeps() const;

  static constexpr int64_t kMaxListedSteps = int64_t(1) << 20;

private:
  enum class Mode { constant, linear, cosine, bar };

  double keepAtEpoch(int64_t epoch) const;
  double keepAtIteration(int64_t iteration) const;
  double sumOverEpochs() const;
  double sumOverIterations(int64_t begin, int64_t end) const;

  KeepScheduleOptions options;
  Mode mode;
  bool byEpoch;
  double minKeep;
};

} // namespace ssprop

#endif // SSPROP_CORE_KEEPSCHEDULE_H
