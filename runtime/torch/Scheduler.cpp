//===- Scheduler.cpp - ssprop::DropScheduler ------------------------------===//
//
// The keep schedules of the ssProp paper (/work/shared/SSPROP.md, docs/usage.md);
// python/ssprop/scheduler.py is the same code, expression for expression, so
// both give the same doubles.
//
//===----------------------------------------------------------------------===//

#include "ssprop/Torch/Scheduler.h"
#include "ssprop/Torch/Modules.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>

namespace ssprop {
namespace {

constexpr const char *kWhere = "ssprop::DropScheduler";
constexpr double kPi = 3.14159265358979323846;

bool isSspropLayer(const torch::nn::Module &m) {
  return dynamic_cast<const nn::Conv2dImpl *>(&m) != nullptr ||
         dynamic_cast<const nn::LinearImpl *>(&m) != nullptr;
}

} // namespace

DropScheduler::DropScheduler(DropSchedulerOptions options)
    : options_(std::move(options)) {
  validate();
  minKeep_ = options_.min_keep().value_or(options_.keep());
  current_ = keepAt(0, 0);
}

DropScheduler::DropScheduler(torch::nn::Module &model,
                             DropSchedulerOptions options)
    : DropScheduler(std::move(options)) {
  if (isSspropLayer(model)) {
    std::shared_ptr<torch::nn::Module> self;
    try {
      self = model.shared_from_this();
    } catch (const std::bad_weak_ptr &) {
      TORCH_CHECK(false, kWhere,
                  ": the model is an ssprop layer not held by a shared_ptr; "
                  "pass its holder (ssprop::nn::Conv2d / Linear) instead");
    }
    layers_.push_back(self);
  }
  for (const auto &m : model.modules(/*include_self=*/false))
    if (isSspropLayer(*m))
      layers_.push_back(m);
  TORCH_CHECK(!layers_.empty(), kWhere,
              ": the model has no ssprop layer (ssprop::nn::Conv2d / Linear); "
              "build it with them or call ssprop::convert first");
  apply();
}

DropScheduler::DropScheduler(
    std::vector<std::shared_ptr<torch::nn::Module>> layers,
    DropSchedulerOptions options)
    : DropScheduler(std::move(options)) {
  for (size_t i = 0; i < layers.size(); ++i)
    TORCH_CHECK(layers[i] && isSspropLayer(*layers[i]), kWhere, ": layer ", i,
                " is not an ssprop::nn::Conv2d or ssprop::nn::Linear (got ",
                layers[i] ? layers[i]->name() : std::string("null"), ")");
  layers_ = std::move(layers);
  apply();
}

void DropScheduler::validate() const {
  const DropSchedulerOptions &o = options_;
  const std::string &mode = o.mode();
  TORCH_CHECK(mode == "constant" || mode == "linear" || mode == "cosine" ||
                  mode == "bar",
              kWhere,
              ": mode must be \"constant\", \"linear\", \"cosine\" or \"bar\", "
              "got \"",
              mode, "\"");
  TORCH_CHECK(o.by() == "epoch" || o.by() == "iteration", kWhere,
              ": by must be \"epoch\" or \"iteration\", got \"", o.by(), "\"");
  TORCH_CHECK(o.keep() > 0.0 && o.keep() <= 1.0, kWhere,
              ": keep must be in (0, 1], got ", o.keep());
  if (o.min_keep()) {
    const double mn = *o.min_keep();
    TORCH_CHECK(mn > 0.0 && mn <= 1.0, kWhere,
                ": min_keep must be in (0, 1], got ", mn);
    TORCH_CHECK(mn <= o.keep(), kWhere, ": min_keep must be <= keep, got min_keep ",
                mn, " > keep ", o.keep());
  }
  TORCH_CHECK(o.period() >= 1, kWhere, ": period must be >= 1, got ",
              o.period());
  TORCH_CHECK(o.warmup() >= 0, kWhere, ": warmup must be >= 0, got ",
              o.warmup());
  TORCH_CHECK(o.total_epochs() >= 0, kWhere,
              ": total_epochs must be >= 0, got ", o.total_epochs());
  if (o.by() == "epoch") {
    if (mode == "linear" || mode == "cosine")
      TORCH_CHECK(o.total_epochs() >= 2, kWhere,
                  ": total_epochs must be >= 2 for ", mode, ", got ",
                  o.total_epochs());
    if (mode == "bar")
      TORCH_CHECK(o.total_epochs() >= 1, kWhere,
                  ": total_epochs must be >= 1 for bar, got ",
                  o.total_epochs());
  } else {
    TORCH_CHECK(mode != "constant", kWhere,
                ": mode \"constant\" is not available by iteration (use "
                "by=\"epoch\")");
    TORCH_CHECK(!o.interleave(), kWhere,
                ": interleave applies by epoch only, not by iteration");
  }
}

double DropScheduler::keepAt(int64_t epoch, int64_t iteration) const {
  TORCH_CHECK(epoch >= 0, kWhere, ": epoch must be >= 0, got ", epoch);
  TORCH_CHECK(iteration >= 0, kWhere, ": iteration must be >= 0, got ",
              iteration);
  const DropSchedulerOptions &o = options_;
  const double keep = o.keep(), mn = minKeep_;
  const std::string &mode = o.mode();
  if (epoch < o.warmup())
    return 1.0;
  if (o.by() == "epoch") {
    if (o.interleave() && (epoch - o.warmup()) % 2 == 0)
      return 1.0;
    const double e = static_cast<double>(epoch);
    const double last = static_cast<double>(o.total_epochs() - 1);
    if (mode == "constant")
      return keep;
    if (mode == "linear")
      return std::max(mn, keep - (keep - mn) * e / last);
    if (mode == "cosine")
      return mn + 0.5 * (keep - mn) * (1.0 + std::cos(kPi * e / last));
    return epoch < o.total_epochs() / 2 ? keep : mn; // bar
  }
  const int64_t t = o.period();
  if (mode == "linear")
    return std::max(mn, keep - (keep - mn) * static_cast<double>(iteration % t) /
                                   static_cast<double>(t));
  if (mode == "cosine")
    return mn + 0.5 * (keep - mn) *
                    (1.0 + std::cos(kPi * static_cast<double>(iteration) /
                                    static_cast<double>(t)));
  return iteration % t < t / 2 ? keep : mn; // bar
}

double DropScheduler::averageKeep(int64_t iterationsPerEpoch) const {
  const int64_t epochs = options_.total_epochs();
  TORCH_CHECK(epochs >= 1, kWhere,
              ": average_keep needs total_epochs >= 1, got ", epochs);
  double sum = 0.0;
  if (options_.by() == "epoch") {
    for (int64_t e = 0; e < epochs; ++e)
      sum += keepAt(e, 0);
    return sum / static_cast<double>(epochs);
  }
  TORCH_CHECK(iterationsPerEpoch >= 1, kWhere,
              ": average_keep by iteration needs iterations_per_epoch >= 1, "
              "got ",
              iterationsPerEpoch);
  const int64_t steps = epochs * iterationsPerEpoch;
  for (int64_t i = 0; i < steps; ++i)
    sum += keepAt(i / iterationsPerEpoch, i);
  return sum / static_cast<double>(steps);
}

void DropScheduler::stepEpoch(int64_t epoch) {
  TORCH_CHECK(epoch >= 0, kWhere, ": epoch must be >= 0, got ", epoch);
  epoch_ = epoch;
  apply();
}

void DropScheduler::stepIteration(int64_t iteration) {
  TORCH_CHECK(iteration >= 0, kWhere, ": iteration must be >= 0, got ",
              iteration);
  iteration_ = iteration;
  apply();
}

void DropScheduler::step() {
  if (options_.by() == "epoch")
    ++epoch_;
  else
    ++iteration_;
  apply();
}

void DropScheduler::apply() {
  current_ = keepAt(epoch_, iteration_);
  for (const auto &layer : layers_) {
    if (auto *conv = dynamic_cast<nn::Conv2dImpl *>(layer.get()))
      conv->set_keep(current_);
    else if (auto *lin = dynamic_cast<nn::LinearImpl *>(layer.get()))
      lin->set_keep(current_);
  }
}

} // namespace ssprop
