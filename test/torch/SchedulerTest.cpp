//===- SchedulerTest.cpp - ssprop::DropScheduler against hand tables ------===//

#include "ExpectMessage.h"
#include "ssprop/Torch/Modules.h"
#include "ssprop/Torch/Scheduler.h"

#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cmath>
#include <functional>

using ssprop::DropScheduler;
using ssprop::DropSchedulerOptions;

namespace {

using ssprop::test::expectMessage;

const double kPi = 3.14159265358979323846;

std::vector<double> epochTable(const DropScheduler &s, int64_t epochs) {
  std::vector<double> out;
  for (int64_t e = 0; e < epochs; ++e)
    out.push_back(s.keepAt(e, 0));
  return out;
}

void expectTable(const std::vector<double> &got, const std::vector<double> &want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], 1e-12) << "at " << i;
}


} // namespace

TEST(Scheduler, ByEpochTables) {
  // constant
  expectTable(epochTable(DropScheduler(DropSchedulerOptions("constant", 0.4).total_epochs(4)), 4),
              {0.4, 0.4, 0.4, 0.4});
  // linear: keep 1 -> min 0.2 over E = 5: steps of 0.2; clamped at min after E - 1.
  expectTable(epochTable(DropScheduler(DropSchedulerOptions("linear", 1.0).min_keep(0.2).total_epochs(5)), 7),
              {1.0, 0.8, 0.6, 0.4, 0.2, 0.2, 0.2});
  // cosine: 0.2 + 0.4 (1 + cos(pi e / 4)).
  expectTable(epochTable(DropScheduler(DropSchedulerOptions("cosine", 1.0).min_keep(0.2).total_epochs(5)), 5),
              {1.0, 0.2 + 0.4 * (1 + std::cos(kPi / 4)), 0.6, 0.2 + 0.4 * (1 + std::cos(3 * kPi / 4)),
               0.2});
  // bar: keep while e < E div 2.
  expectTable(epochTable(DropScheduler(DropSchedulerOptions("bar", 0.8).min_keep(0.3).total_epochs(5)), 5),
              {0.8, 0.8, 0.3, 0.3, 0.3});
  // warmup: dense first.
  expectTable(epochTable(DropScheduler(DropSchedulerOptions("linear", 1.0).min_keep(0.2).total_epochs(5).warmup(2)), 5),
              {1.0, 1.0, 0.6, 0.4, 0.2});
  // interleave after warmup 1: dense, mode, dense, mode...; the mode value
  // uses the current e.
  expectTable(epochTable(DropScheduler(DropSchedulerOptions("linear", 1.0).min_keep(0.2).total_epochs(5)
                                           .warmup(1).interleave(true)), 5),
              {1.0, 1.0, 0.6, 1.0, 0.2});
  expectTable(epochTable(DropScheduler(DropSchedulerOptions("constant", 0.2).total_epochs(6).interleave(true)), 6),
              {1.0, 0.2, 1.0, 0.2, 1.0, 0.2});
}

TEST(Scheduler, ByIterationTables) {
  auto table = [](const DropScheduler &s, int64_t n, int64_t epoch = 5) {
    std::vector<double> out;
    for (int64_t i = 0; i < n; ++i)
      out.push_back(s.keepAt(epoch, i));
    return out;
  };
  // linear sawtooth with T = 4.
  DropScheduler lin(DropSchedulerOptions("linear", 1.0).min_keep(0.2).by("iteration").period(4));
  expectTable(table(lin, 9), {1.0, 0.8, 0.6, 0.4, 1.0, 0.8, 0.6, 0.4, 1.0});
  // cosine, period 2T.
  DropScheduler cosine(DropSchedulerOptions("cosine", 1.0).min_keep(0.2).by("iteration").period(4));
  expectTable(table(cosine, 9), {1.0, 0.2 + 0.4 * (1 + std::cos(kPi / 4)), 0.6,
                                 0.2 + 0.4 * (1 + std::cos(3 * kPi / 4)), 0.2,
                                 0.2 + 0.4 * (1 + std::cos(5 * kPi / 4)), 0.6,
                                 0.2 + 0.4 * (1 + std::cos(7 * kPi / 4)), 1.0});
  // bar: keep while (i mod T) < T div 2.
  DropScheduler bar(DropSchedulerOptions("bar", 0.9).min_keep(0.1).by("iteration").period(5));
  expectTable(table(bar, 6), {0.9, 0.9, 0.1, 0.1, 0.1, 0.9});
  // warmup is counted in epochs.
  DropScheduler warm(DropSchedulerOptions("linear", 1.0).min_keep(0.2).by("iteration").period(4).warmup(1));
  EXPECT_EQ(warm.keepAt(0, 3), 1.0);
  EXPECT_NEAR(warm.keepAt(1, 3), 0.4, 1e-12);
}

TEST(Scheduler, AverageKeep) {
  // The headline: constant 0.2 + interleave over an even E averages 0.6.
  for (int64_t epochs : {2, 10, 100})
    EXPECT_NEAR(DropScheduler(DropSchedulerOptions("constant", 0.2).total_epochs(epochs).interleave(true))
                    .averageKeep(),
                0.6, 1e-12);
  EXPECT_NEAR(DropScheduler(DropSchedulerOptions("constant", 0.2).total_epochs(3).interleave(true)).averageKeep(),
              (1 + 0.2 + 1) / 3.0, 1e-12);
  EXPECT_NEAR(DropScheduler(DropSchedulerOptions("linear", 1.0).min_keep(0.2).total_epochs(5)).averageKeep(),
              0.6, 1e-12);
  EXPECT_NEAR(DropScheduler(DropSchedulerOptions("linear", 1.0).min_keep(0.2).by("iteration").period(4)
                                .total_epochs(2))
                  .averageKeep(4),
              0.7, 1e-12);
}

TEST(Scheduler, AverageKeepInClosedForm) {
  // Its time does not depend on the epochs (issue 20: 10^18 epochs looped).
  const int64_t e18 = 1000000000000000000;
  EXPECT_NEAR(DropScheduler(DropSchedulerOptions("constant", 0.2)
                                .total_epochs(e18)
                                .interleave(true))
                  .averageKeep(),
              0.6, 1e-12);
  EXPECT_NEAR(
      DropScheduler(
          DropSchedulerOptions("cosine", 1.0).min_keep(0.2).total_epochs(e18))
          .averageKeep(),
      0.6, 1e-12);
  // 10^18 steps of bar by iteration, T = 5: 2 steps of keep, 3 of min.
  EXPECT_NEAR(DropScheduler(DropSchedulerOptions("bar", 0.9)
                                .min_keep(0.1)
                                .by("iteration")
                                .period(5)
                                .total_epochs(1000000000))
                  .averageKeep(1000000000),
              0.42, 1e-12);
}

TEST(Scheduler, DistinctKeeps) {
  using O = DropSchedulerOptions;
  EXPECT_EQ(DropScheduler(O("constant", 0.2)).distinctKeeps(),
            std::vector<double>{0.2});
  EXPECT_EQ(DropScheduler(O("constant", 0.2).interleave(true)).distinctKeeps(),
            (std::vector<double>{1.0, 0.2}));
  EXPECT_EQ(DropScheduler(O("bar", 0.5).min_keep(0.25).total_epochs(4).warmup(1))
                .distinctKeeps(),
            (std::vector<double>{1.0, 0.5, 0.25}));
  // linear over 5 epochs: 1.0, 0.8, 0.6, 0.4, 0.2 (as keepAt computes them).
  const DropScheduler linear(O("linear", 1.0).min_keep(0.2).total_epochs(5));
  EXPECT_EQ(linear.distinctKeeps(),
            (std::vector<double>{linear.keepAt(0), linear.keepAt(1), linear.keepAt(2),
                                 linear.keepAt(3), linear.keepAt(4)}));
  // By iteration, warmup spent: one period of the step, no dense keep.
  EXPECT_EQ(DropScheduler(O("bar", 0.5).min_keep(0.25).by("iteration").period(4)
                              .total_epochs(3).warmup(3))
                .distinctKeeps(),
            std::vector<double>{1.0});
  EXPECT_EQ(DropScheduler(O("bar", 0.5).min_keep(0.25).by("iteration").period(4))
                .distinctKeeps(),
            (std::vector<double>{0.5, 0.25}));
  expectMessage([&] { DropScheduler(O("constant", 0.5).total_epochs(2000000)).distinctKeeps(); },
                "ssprop::DropScheduler: distinct_keeps lists at most 1048576 epochs, got "
                "total_epochs 2000000");
  expectMessage([&] { DropScheduler(O("linear", 0.5).by("iteration").period(1048576)).distinctKeeps(); },
                "ssprop::DropScheduler: distinct_keeps by iteration lists period + 1 <= 1048576 "
                "steps, got period 1048576");
}

TEST(Scheduler, DrivesLayers) {
  torch::nn::Sequential model(ssprop::nn::Conv2d(ssprop::nn::Conv2dOptions(1, 2, 3)), torch::nn::ReLU(),
                              torch::nn::Flatten(), ssprop::nn::Linear(2, 2));
  DropScheduler s(*model, DropSchedulerOptions("constant", 0.2).total_epochs(4).interleave(true));
  EXPECT_EQ(s.numLayers(), 2u);
  auto keeps = [&] {
    return std::make_pair(model->ptr<ssprop::nn::Conv2dImpl>(0)->options.keep(),
                          model->ptr<ssprop::nn::LinearImpl>(3)->options.keep());
  };
  EXPECT_EQ(keeps(), std::make_pair(1.0, 1.0)); // epoch 0 applied on construction
  s.step();
  EXPECT_EQ(keeps(), std::make_pair(0.2, 0.2));
  EXPECT_EQ(s.epoch(), 1);
  s.stepEpoch(2);
  EXPECT_EQ(s.currentKeep(), 1.0);
  EXPECT_EQ(keeps(), std::make_pair(1.0, 1.0));
  // By iteration.
  DropScheduler it(std::vector<std::shared_ptr<torch::nn::Module>>{model->ptr(0)},
                   DropSchedulerOptions("linear", 1.0).min_keep(0.5).by("iteration").period(2));
  it.stepIteration(1);
  EXPECT_EQ(model->ptr<ssprop::nn::Conv2dImpl>(0)->options.keep(), 0.75);
  it.step();
  EXPECT_EQ(it.iteration(), 2);
  EXPECT_EQ(model->ptr<ssprop::nn::Conv2dImpl>(0)->options.keep(), 1.0);
}

TEST(Scheduler, Errors) {
  using O = DropSchedulerOptions;
  auto make = [](O o) { DropScheduler s(std::move(o)); };
  expectMessage([&] { make(O("exp", 0.5)); },
                "ssprop::DropScheduler: mode must be \"constant\", \"linear\", \"cosine\" or \"bar\", got \"exp\"");
  expectMessage([&] { make(O("constant", 0.5).by("step")); },
                "ssprop::DropScheduler: by must be \"epoch\" or \"iteration\", got \"step\"");
  expectMessage([&] { make(O("constant", 0.0)); }, "ssprop::DropScheduler: keep must be in (0, 1], got 0");
  expectMessage([&] { make(O("constant", 1.5)); }, "ssprop::DropScheduler: keep must be in (0, 1], got 1.5");
  expectMessage([&] { make(O("linear", 0.5).min_keep(0.0).total_epochs(3)); },
                "ssprop::DropScheduler: min_keep must be in (0, 1], got 0");
  expectMessage([&] { make(O("linear", 0.2).min_keep(0.5).total_epochs(3)); },
                "ssprop::DropScheduler: min_keep must be <= keep, got min_keep 0.5 > keep 0.2");
  expectMessage([&] { make(O("linear", 0.5).by("iteration").period(0)); },
                "ssprop::DropScheduler: period must be >= 1, got 0");
  expectMessage([&] { make(O("constant", 0.5).warmup(-1)); },
                "ssprop::DropScheduler: warmup must be >= 0, got -1");
  expectMessage([&] { make(O("constant", 0.5).total_epochs(-2)); },
                "ssprop::DropScheduler: total_epochs must be >= 0, got -2");
  expectMessage([&] { make(O("linear", 0.5).total_epochs(1)); },
                "ssprop::DropScheduler: total_epochs must be >= 2 for linear, got 1");
  expectMessage([&] { make(O("cosine", 0.5)); },
                "ssprop::DropScheduler: total_epochs must be >= 2 for cosine, got 0");
  expectMessage([&] { make(O("bar", 0.5)); },
                "ssprop::DropScheduler: total_epochs must be >= 1 for bar, got 0");
  expectMessage([&] { make(O("constant", 0.5).by("iteration")); },
                "ssprop::DropScheduler: mode \"constant\" is not available by iteration (use by=\"epoch\")");
  expectMessage([&] { make(O("linear", 0.5).by("iteration").interleave(true)); },
                "ssprop::DropScheduler: interleave applies by epoch only, not by iteration");
  expectMessage([&] { DropScheduler(O("constant", 0.5)).keepAt(-1); },
                "ssprop::DropScheduler: epoch must be >= 0, got -1");
  expectMessage([&] { DropScheduler(O("constant", 0.5)).averageKeep(); },
                "ssprop::DropScheduler: average_keep needs total_epochs >= 1, got 0");
  expectMessage([&] { DropScheduler(O("linear", 0.5).by("iteration").total_epochs(2)).averageKeep(); },
                "ssprop::DropScheduler: average_keep by iteration needs iterations_per_epoch >= 1, got 0");
  expectMessage(
      [&] {
        DropScheduler(
            O("linear", 0.5).by("iteration").total_epochs(10000000000))
            .averageKeep(10000000000);
      },
      "ssprop::DropScheduler: average_keep by iteration needs total_epochs * "
      "iterations_per_epoch <= 2^63 - 1 steps, got 10000000000 * 10000000000");
  torch::nn::Sequential dense(torch::nn::Linear(2, 2));
  expectMessage([&] { DropScheduler(*dense, O("constant", 0.5)); },
                "ssprop::DropScheduler: the model has no ssprop layer (ssprop::nn::Conv2d / Linear); build "
                "it with them or call ssprop::convert first");
  expectMessage([&] { DropScheduler({dense->ptr(0)}, O("constant", 0.5)); },
                "ssprop::DropScheduler: layer 0 is not an ssprop::nn::Conv2d or ssprop::nn::Linear (got "
                "torch::nn::LinearImpl)");
}
