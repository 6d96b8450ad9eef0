//===- KeepSchedule.cpp - the keep fraction over training -----------------===//
//
// keepAt evaluates the formulas of KeepSchedule.h term for term. averageKeep
// sums them in closed form, in a time independent of the number of epochs or
// steps: arithmetic series for linear, counts for bar, the Dirichlet kernel
// for cosine. linear's max(min, ...) only acts beyond the averaged range
// (e <= E - 1, (i mod T) < T), so there its sum is that of a line.
//
//===----------------------------------------------------------------------===//

#include "ssprop/Core/KeepSchedule.h"

#include <algorithm>
#include <cmath>
#include <functional>
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

/// sum_{j < count} cos(angle * (first + j * stride)) = sin(count * h) /
/// sin(h) * cos(angle * middle), h = angle * stride / 2, middle the mean of
/// the terms. With count >= 2, h <= pi / 2 for every caller.
double sumCosines(double angle, int64_t first, int64_t stride, int64_t count) {
  if (count < 2)
    return count == 0 ? 0.0 : std::cos(angle * static_cast<double>(first));
  const double half = 0.5 * angle * static_cast<double>(stride);
  const double middle =
      static_cast<double>(first) +
      0.5 * static_cast<double>(count - 1) * static_cast<double>(stride);
  return std::sin(static_cast<double>(count) * half) / std::sin(half) *
         std::cos(angle * middle);
}

/// sum_{i < end} (i mod period).
double sumOfResidues(int64_t end, int64_t period) {
  const double q = static_cast<double>(end / period);
  const double r = static_cast<double>(end % period);
  const double t = static_cast<double>(period);
  return q * t * (t - 1.0) / 2.0 + r * (r - 1.0) / 2.0;
}

/// The number of i < end with (i mod period) < period div 2.
int64_t countFirstHalves(int64_t end, int64_t period) {
  const int64_t half = period / 2;
  return end / period * half + std::min(end % period, half);
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
  if (byEpoch)
    return sumOverEpochs() / static_cast<double>(epochs);
  if (iterationsPerEpoch < 1)
    fail("average_keep by iteration needs iterations_per_epoch >= 1, got ",
         iterationsPerEpoch);
  int64_t steps;
  if (__builtin_mul_overflow(epochs, iterationsPerEpoch, &steps))
    fail("average_keep by iteration needs total_epochs * iterations_per_epoch "
         "<= 2^63 - 1 steps, got ",
         epochs, " * ", iterationsPerEpoch);
  // The warmup epochs' steps are dense; the others follow the mode.
  const int64_t dense = std::min(options.warmup, epochs) * iterationsPerEpoch;
  return (static_cast<double>(dense) + sumOverIterations(dense, steps)) /
         static_cast<double>(steps);
}

std::vector<double> KeepSchedule::distinctKeeps() const {
  const int64_t epochs = options.totalEpochs, period = options.period;
  std::vector<double> keeps;
  if (byEpoch && epochs == 0) {
    // Constant (the only mode without E): the warmup's or interleave's 1,
    // and the mode's keep.
    keeps = {keepAt(0, 0), keepAt(options.warmup, 0), keepAtEpoch(0)};
  } else if (byEpoch) {
    if (epochs > kMaxListedSteps)
      fail("distinct_keeps lists at most ", kMaxListedSteps,
           " epochs, got total_epochs ", epochs);
    for (int64_t e = 0; e < epochs; ++e)
      keeps.push_back(keepAt(e, 0));
  } else {
    if (period >= kMaxListedSteps)
      fail("distinct_keeps by iteration lists period + 1 <= ", kMaxListedSteps,
           " steps, got period ", period);
    if (options.warmup > 0)
      keeps.push_back(1.0);
    // Steps 0..T: linear and bar repeat every T, cosine is symmetric about T.
    if (epochs == 0 || options.warmup < epochs)
      for (int64_t i = 0; i <= period; ++i)
        keeps.push_back(keepAtIteration(i));
  }
  std::sort(keeps.begin(), keeps.end(), std::greater<double>());
  keeps.erase(std::unique(keeps.begin(), keeps.end()), keeps.end());
  return keeps;
}

double KeepSchedule::sumOverEpochs() const {
  const int64_t epochs = options.totalEpochs;
  if (options.warmup >= epochs)
    return static_cast<double>(epochs);
  // The mode's epochs: first, first + stride, ... <= E - 1; the rest (warmup,
  // interleave's) are dense.
  const int64_t stride = options.interleave ? 2 : 1;
  const int64_t first = options.warmup + stride - 1;
  const int64_t count = first < epochs ? (epochs - 1 - first) / stride + 1 : 0;
  const double keep = options.keep, mn = minKeep,
               n = static_cast<double>(count);
  const double dense = static_cast<double>(epochs - count);
  switch (mode) {
  case Mode::constant:
    return dense + n * keep;
  case Mode::linear: {
    const double sumOfEpochs =
        n * static_cast<double>(first) +
        static_cast<double>(stride) * n * (n - 1.0) / 2.0;
    return dense + n * keep -
           (keep - mn) * sumOfEpochs / static_cast<double>(epochs - 1);
  }
  case Mode::cosine: {
    const double angle = kPi / static_cast<double>(epochs - 1);
    return dense + n * mn +
           0.5 * (keep - mn) * (n + sumCosines(angle, first, stride, count));
  }
  case Mode::bar: {
    const int64_t half = epochs / 2;
    const int64_t high =
        first < half ? std::min(count, (half - 1 - first) / stride + 1) : 0;
    return dense + static_cast<double>(high) * keep +
           static_cast<double>(count - high) * mn;
  }
  }
  return dense;
}

double KeepSchedule::sumOverIterations(int64_t begin, int64_t end) const {
  const double keep = options.keep, mn = minKeep;
  const int64_t t = options.period, count = end - begin;
  const double n = static_cast<double>(count);
  switch (mode) {
  case Mode::linear:
    return n * keep - (keep - mn) *
                          (sumOfResidues(end, t) - sumOfResidues(begin, t)) /
                          static_cast<double>(t);
  case Mode::cosine: {
    // cos(pi i / T) has period 2T, over which it sums to 0.
    const uint64_t cycle = 2 * static_cast<uint64_t>(t);
    const auto first =
        static_cast<int64_t>(static_cast<uint64_t>(begin) % cycle);
    const auto rest =
        static_cast<int64_t>(static_cast<uint64_t>(count) % cycle);
    const double angle = kPi / static_cast<double>(t);
    return n * mn + 0.5 * (keep - mn) * (n + sumCosines(angle, first, 1, rest));
  }
  case Mode::bar: {
    const int64_t high = countFirstHalves(end, t) - countFirstHalves(begin, t);
    return static_cast<double>(high) * keep +
           static_cast<double>(count - high) * mn;
  }
  case Mode::constant: // rejected by the constructor
    break;
  }
  return n * keep;
}

} // namespace ssprop
