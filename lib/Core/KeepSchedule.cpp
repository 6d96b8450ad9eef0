//===- KeepSchedule.cpp - the keep fraction over training -----------------===//
//
// The formulas of KeepSchedule.h, term for term, and the checks of its
// options.
//
//===----------------------------------------------------------------------===//

#include "ssprop/Core/KeepSchedule.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace ssprop {
namespace {

constexpr double kPi = 3.14159265358979323846;

template <typename... Args> [[noreturn]] void fail(const Args &...args) {
  std::ostringstream message;
  (message << ... << args);
  throw std::invalid_argument(message.str());
}

} // namespace

KeepSchedule::KeepSchedule(KeepScheduleOptions o) : options(std::move(o)) {
  const std::string &name = options.mode;
  if (name == "constant")
    mode = Mode::constant;
  else if (name == "linear")
    mode = Mode::linear;
  else if (name == "cosine")
    mode = Mode::cosine;
  else if (name == "bar")
    mode = Mode::bar;
  else
    fail("mode must be \"constant\", \"linear\", \"cosine\" or \"bar\", got \"",
         name, "\"");
  if (options.by != "epoch" && options.by != "iteration")
    fail("by must be \"epoch\" or \"iteration\", got \"", options.by, "\"");
  byEpoch = options.by == "epoch";
  const double keep = options.keep;
  if (!(keep > 0.0 && keep <= 1.0))
    fail("keep must be in (0, 1], got ", keep);
  minKeep = options.minKeep.value_or(keep);
  if (!(minKeep > 0.0 && minKeep <= 1.0))
    fail("min_keep must be in (0, 1], got ", minKeep);
  if (minKeep > keep)
    fail("min_keep must be <= keep, got min_keep ", minKeep, " > keep ", keep);
  if (options.period < 1)
    fail("period must be >= 1, got ", options.period);
  if (options.warmup < 0)
    fail("warmup must be >= 0, got ", options.warmup);
  const int64_t epochs = options.totalEpochs;
  if (epochs < 0)
    fail("total_epochs must be >= 0, got ", epochs);
  if (byEpoch) {
    if ((mode == Mode::linear || mode == Mode::cosine) && epochs < 2)
      fail("total_epochs must be >= 2 for ", name, ", got ", epochs);
    if (mode == Mode::bar && epochs < 1)
      fail("total_epochs must be >= 1 for bar, got ", epochs);
    return;
  }
  if (mode == Mode::constant)
    fail("mode \"constant\" is not available by iteration (use by=\"epoch\")");
  if (options.interleave)
    fail("interleave applies by epoch only, not by iteration");
}

double KeepSchedule::keepAt(int64_t epoch, int64_t iteration) const {
  if (epoch < 0)
    fail("epoch must be >= 0, got ", epoch);
  if (iteration < 0)
    fail("iteration must be >= 0, got ", iteration);
  if (epoch < options.warmup)
    return 1.0;
  if (!byEpoch)
    return keepAtIteration(iteration);
  if (options.interleave && (epoch - options.warmup) % 2 == 0)
    return 1.0;
  return keepAtEpoch(epoch);
}

double KeepSchedule::keepAtEpoch(int64_t epoch) const {
  const double keep = options.keep, mn = minKeep;
  const double e = static_cast<double>(epoch);
  const double last = static_cast<double>(options.totalEpochs - 1);
  switch (mode) {
  case Mode::constant:
    return keep;
  case Mode::linear:
    return std::max(mn, keep - (keep - mn) * e / last);
  case Mode::cosine:
    return mn + 0.5 * (keep - mn) * (1.0 + std::cos(kPi * e / last));
  case Mode::bar:
    return epoch < options.totalEpochs / 2 ? keep : mn;
  }
  return keep;
}

double KeepSchedule::keepAtIteration(int64_t iteration) const {
  const double keep = options.keep, mn = minKeep;
  const int64_t t = options.period;
  switch (mode) {
  case Mode::linear:
    return std::max(mn, keep - (keep - mn) *
                                   static_cast<double>(iteration % t) /
                                   static_cast<double>(t));
  case Mode::cosine:
    return mn + 0.5 * (keep - mn) *
                    (1.0 + std::cos(kPi * static_cast<double>(iteration) /
                                    static_cast<double>(t)));
  case Mode::bar:
    return iteration % t < t / 2 ? keep : mn;
  case Mode::constant: // rejected by the constructor
    break;
  }
  return keep;
}

double KeepSchedule::averageKeep(int64_t iterationsPerEpoch) const {
  const int64_t epochs = options.totalEpochs;
  if (epochs < 1)
    fail("average_keep needs total_epochs >= 1, got ", epochs);
  double sum = 0.0;
  if (byEpoch) {
    for (int64_t e = 0; e < epochs; ++e)
      sum += keepAt(e, 0);
    return sum / static_cast<double>(epochs);
  }
  if (iterationsPerEpoch < 1)
    fail("average_keep by iteration needs iterations_per_epoch >= 1, got ",
         iterationsPerEpoch);
  const int64_t steps = epochs * iterationsPerEpoch;
  for (int64_t i = 0; i < steps; ++i)
    sum += keepAt(i / iterationsPerEpoch, i);
  return sum / static_cast<double>(steps);
}

} // namespace ssprop
