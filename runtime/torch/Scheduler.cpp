//===- Scheduler.cpp - the keep schedules for C++ and Python --------------===//
//
// Both compute through ssprop::KeepSchedule (ssprop/Core/KeepSchedule.h):
// DropScheduler drives the C++ layers; the custom class KeepSchedule gives
// the schedule to Python's ssprop.DropScheduler, which drives its own layers.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include "ssprop/Torch/Scheduler.h"
#include "ssprop/Torch/Modules.h"

#include <c10/util/Exception.h>
#include <torch/custom_class.h>
#include <torch/library.h>

#include <algorithm>

namespace ssprop {
namespace {

using torch_bridge::checked;

constexpr const char *kWhere = "ssprop::DropScheduler";
constexpr const char *kPythonWhere = "ssprop.DropScheduler";

KeepSchedule makeSchedule(const DropSchedulerOptions &o) {
  return checked(kWhere, [&] {
    return KeepSchedule({o.mode(), o.keep(), o.min_keep(), o.total_epochs(),
                         o.by(), o.period(), o.interleave(), o.warmup()});
  });
}

/// torch.classes.ssprop.KeepSchedule: the schedule of Python's
/// ssprop.DropScheduler, whose name its errors carry.
struct KeepScheduleHolder : torch::CustomClassHolder {
  explicit KeepScheduleHolder(KeepSchedule schedule)
      : schedule(std::move(schedule)) {}
  KeepSchedule schedule;
};

bool isSspropLayer(const torch::nn::Module &m) {
  return dynamic_cast<const nn::Conv2dImpl *>(&m) != nullptr ||
         dynamic_cast<const nn::LinearImpl *>(&m) != nullptr;
}

} // namespace

DropScheduler::DropScheduler(DropSchedulerOptions options)
    : options_(std::move(options)), schedule_(makeSchedule(options_)) {
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
  moveTo(0, 0);
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
  moveTo(0, 0);
}

double DropScheduler::keepAt(int64_t epoch, int64_t iteration) const {
  return checked(kWhere, [&] { return schedule_.keepAt(epoch, iteration); });
}

double DropScheduler::averageKeep(int64_t iterationsPerEpoch) const {
  return checked(kWhere,
                 [&] { return schedule_.averageKeep(iterationsPerEpoch); });
}

std::vector<double> DropScheduler::distinctKeeps() const {
  return checked(kWhere, [&] { return schedule_.distinctKeeps(); });
}

bool DropScheduler::drives(const torch::nn::Module &layer) const {
  return std::any_of(layers_.begin(), layers_.end(), [&](const auto &driven) {
    return driven.get() == &layer;
  });
}

void DropScheduler::stepEpoch(int64_t epoch) { moveTo(epoch, iteration_); }

void DropScheduler::stepIteration(int64_t iteration) {
  moveTo(epoch_, iteration);
}

void DropScheduler::step() {
  if (options_.by() == "epoch")
    moveTo(epoch_ + 1, iteration_);
  else
    moveTo(epoch_, iteration_ + 1);
}

void DropScheduler::moveTo(int64_t epoch, int64_t iteration) {
  current_ = keepAt(epoch, iteration);
  epoch_ = epoch;
  iteration_ = iteration;
  for (const auto &layer : layers_) {
    if (auto *conv = dynamic_cast<nn::Conv2dImpl *>(layer.get()))
      conv->set_keep(current_);
    else if (auto *lin = dynamic_cast<nn::LinearImpl *>(layer.get()))
      lin->set_keep(current_);
  }
}

} // namespace ssprop

//===----------------------------------------------------------------------===//
// Registration
//===----------------------------------------------------------------------===//

TORCH_LIBRARY_FRAGMENT(ssprop, m) {
  using ssprop::KeepScheduleHolder;
  using ssprop::torch_bridge::checked;
  using Self = c10::intrusive_ptr<KeepScheduleHolder>;
  m.class_<KeepScheduleHolder>("KeepSchedule")
      .def(torch::init([](std::string mode, double keep,
                          std::optional<double> minKeep, int64_t totalEpochs,
                          std::string by, int64_t period, bool interleave,
                          int64_t warmup) {
        return checked(ssprop::kPythonWhere, [&] {
          return c10::make_intrusive<KeepScheduleHolder>(ssprop::KeepSchedule(
              {std::move(mode), keep, minKeep, totalEpochs, std::move(by),
               period, interleave, warmup}));
        });
      }))
      .def("keep_at",
           [](const Self &self, int64_t epoch, int64_t iteration) {
             return checked(ssprop::kPythonWhere, [&] {
               return self->schedule.keepAt(epoch, iteration);
             });
           })
      .def("average_keep",
           [](const Self &self, int64_t iterationsPerEpoch) {
             return checked(ssprop::kPythonWhere, [&] {
               return self->schedule.averageKeep(iterationsPerEpoch);
             });
           })
      .def("distinct_keeps", [](const Self &self) {
        return checked(ssprop::kPythonWhere,
                       [&] { return self->schedule.distinctKeeps(); });
      });
}
