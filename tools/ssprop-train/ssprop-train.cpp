//===- ssprop-train.cpp - train on Fashion-MNIST with LibTorch + ssProp ---===//
//
// The C++ twin of examples/train.py: the same flags, data, models, schedules,
// per-epoch CSV and summary table. The PNG is drawn by the Python helper
// (python -m ssprop_train.report) when --plot is given; without it only the
// CSV is written.
//
//   ssprop-train --mode ssprop --keep 0.2 --interleave --epochs 2 --subset 6000 \
//       --width 32 --out out/cpp-ssprop
//
//===----------------------------------------------------------------------===//

#include "Data.h"
#include "Models.h"
#include "Report.h"

#include "ssprop/Core/Version.h"
#include "ssprop/Torch/Modules.h"
#include "ssprop/Torch/Ops.h"
#include "ssprop/Torch/Scheduler.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#ifndef SSPROP_TRAIN_PYTHON
#define SSPROP_TRAIN_PYTHON "python3"
#endif
#ifndef SSPROP_TRAIN_PYTHONPATH
#define SSPROP_TRAIN_PYTHONPATH ""
#endif

using namespace ssprop_train;

namespace {

const char *kUsage =
    "usage: ssprop-train [options]\n"
    "\n"
    "Train a CNN / ResNet-18 on Fashion-MNIST, dense or with ssProp (LibTorch).\n"
    "\n"
    "ssProp:\n"
    "  --mode dense|ssprop        (default ssprop)\n"
    "  --keep F                   fraction of output channels kept, (0, 1] (default 0.2)\n"
    "  --min-keep F               the schedule's lowest keep (default 0.2)\n"
    "  --schedule constant|linear|cosine|bar   (default constant)\n"
    "  --by epoch|iteration       evaluate the schedule per epoch or per step (default epoch)\n"
    "  --period T                 by-iteration period in steps (default 10)\n"
    "  --interleave               alternate dense and sparse epochs (by epoch)\n"
    "  --warmup N                 dense epochs at the start (default 0)\n"
    "  --select topk|random       (default topk)\n"
    "  --jit blocking|background  (default blocking: bit-for-bit reproducible runs;\n"
    "                             background: layers run the gathered path while\n"
    "                             their kernels compile)\n"
    "  --weight-only              sparse weight/bias gradients only\n"
    "training:\n"
    "  --model cnn|resnet18       (default cnn)\n"
    "  --width N                  CNN width (128) / ResNet-18 base width (64)\n"
    "  --dropout P                (default 0)\n"
    "  --epochs N                 (default 10)\n"
    "  --batch-size N             (default 128)\n"
    "  --lr F                     Adam learning rate (default 1e-3)\n"
    "  --seed N                   (default 42)\n"
    "  --subset N                 train on the first N images (of those not held out by\n"
    "                             --val), test on the first N/6\n"
    "  --val N                    hold out N training images, drawn at random by --seed,\n"
    "                             for validation (loss and accuracy per epoch)\n"
    "  --zero-bias                start every convolution's bias at zero (the paper's\n"
    "                             own layer; torch::nn::Conv2d draws it at random)\n"
    "  --test-subset N            test on the first N test images\n"
    "  --data DIR                 IDX files (default $SSPROP_FASHION_MNIST, then\n"
    "                             /usr/share/datasets/fashion-mnist)\n"
    "  --device cpu|cuda          (default cpu)\n"
    "  --threads N                torch CPU threads\n"
    "output:\n"
    "  --out DIR                  (default out/train-cpp)\n"
    "  --label NAME               the run's name in the table (default: the mode)\n"
    "  --plot                     also draw DIR/plot.png with the Python helper\n"
    "  --no-progress              no progress bar\n"
    "  --version\n"
    "  -h, --help\n";

struct Args {
  std::string mode = "ssprop";
  double keep = 0.2, minKeep = 0.2;
  std::string schedule = "constant", by = "epoch", select = "topk";
  std::string jit = "blocking";
  int64_t period = 10, warmup = 0;
  bool interleave = false, weightOnly = false, zeroBias = false;
  std::string model = "cnn";
  int64_t width = 0;
  double dropout = 0;
  int64_t epochs = 10, batchSize = 128, seed = 42, threads = 0, val = 0;
  double lr = 1e-3;
  std::optional<int64_t> subset, testSubset;
  std::string data, device = "cpu", out = "out/train-cpp", label;
  bool plot = false, progress = true;
};

[[noreturn]] void usageError(const std::string &msg) {
  std::fprintf(stderr, "%sssprop-train: error: %s\n", kUsage, msg.c_str());
  std::exit(2);
}

double parseDouble(const std::string &flag, const std::string &v) {
  try {
    size_t pos = 0;
    double d = std::stod(v, &pos);
    if (pos == v.size())
      return d;
  } catch (...) {
  }
  usageError("argument " + flag + ": invalid number: '" + v + "'");
}

int64_t parseInt(const std::string &flag, const std::string &v) {
  try {
    size_t pos = 0;
    long long i = std::stoll(v, &pos);
    if (pos == v.size())
      return i;
  } catch (...) {
  }
  usageError("argument " + flag + ": invalid integer: '" + v + "'");
}

std::string choice(const std::string &flag, const std::string &v,
                   const std::set<std::string> &allowed) {
  if (!allowed.count(v)) {
    std::string list;
    for (const auto &a : allowed)
      list += (list.empty() ? "'" : ", '") + a + "'";
    usageError("argument " + flag + ": invalid choice: '" + v + "' (choose from " + list +
               ")");
  }
  return v;
}

Args parseArgs(int argc, char **argv) {
  Args a;
  const std::set<std::string> flags = {"--interleave", "--weight-only", "--zero-bias",
                                       "--plot", "--no-progress"};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i], value;
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (arg == "--version") {
      std::printf("%s\n", ssprop::versionLine().c_str());
      std::exit(0);
    }
    if (arg.rfind("--", 0) != 0)
      usageError("unrecognized argument: " + arg);
    bool hasValue = false;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      hasValue = true;
    }
    if (flags.count(arg)) {
      if (hasValue)
        usageError("argument " + arg + ": takes no value");
      if (arg == "--interleave")
        a.interleave = true;
      else if (arg == "--weight-only")
        a.weightOnly = true;
      else if (arg == "--zero-bias")
        a.zeroBias = true;
      else if (arg == "--plot")
        a.plot = true;
      else
        a.progress = false;
      continue;
    }
    static const std::set<std::string> valued = {
        "--mode",   "--keep",   "--min-keep", "--schedule",   "--by",          "--period",
        "--warmup", "--select", "--jit", "--model",    "--width",      "--dropout",     "--epochs",
        "--batch-size", "--lr", "--seed",     "--subset",     "--test-subset", "--data",
        "--device", "--threads", "--out",     "--label",      "--val"};
    if (!valued.count(arg))
      usageError("unrecognized argument: " + arg);
    if (!hasValue) {
      if (i + 1 >= argc)
        usageError("argument " + arg + ": expected one argument");
      value = argv[++i];
    }
    if (arg == "--mode")
      a.mode = choice(arg, value, {"dense", "ssprop"});
    else if (arg == "--keep")
      a.keep = parseDouble(arg, value);
    else if (arg == "--min-keep")
      a.minKeep = parseDouble(arg, value);
    else if (arg == "--schedule")
      a.schedule = choice(arg, value, {"constant", "linear", "cosine", "bar"});
    else if (arg == "--by")
      a.by = choice(arg, value, {"epoch", "iteration"});
    else if (arg == "--period")
      a.period = parseInt(arg, value);
    else if (arg == "--warmup")
      a.warmup = parseInt(arg, value);
    else if (arg == "--select")
      a.select = choice(arg, value, {"topk", "random"});
    else if (arg == "--jit")
      a.jit = choice(arg, value, {"blocking", "background"});
    else if (arg == "--model")
      a.model = choice(arg, value, {"cnn", "resnet18"});
    else if (arg == "--width")
      a.width = parseInt(arg, value);
    else if (arg == "--dropout")
      a.dropout = parseDouble(arg, value);
    else if (arg == "--epochs")
      a.epochs = parseInt(arg, value);
    else if (arg == "--batch-size")
      a.batchSize = parseInt(arg, value);
    else if (arg == "--lr")
      a.lr = parseDouble(arg, value);
    else if (arg == "--seed")
      a.seed = parseInt(arg, value);
    else if (arg == "--subset")
      a.subset = parseInt(arg, value);
    else if (arg == "--test-subset")
      a.testSubset = parseInt(arg, value);
    else if (arg == "--val")
      a.val = parseInt(arg, value);
    else if (arg == "--data")
      a.data = value;
    else if (arg == "--device")
      a.device = choice(arg, value, {"cpu", "cuda"});
    else if (arg == "--threads")
      a.threads = parseInt(arg, value);
    else if (arg == "--out")
      a.out = value;
    else if (arg == "--label")
      a.label = value;
    else
      usageError("unrecognized argument: " + arg);
  }

  auto in01 = [](double v) { return v > 0.0 && v <= 1.0; };
  if (!in01(a.keep))
    usageError("--keep must be in (0, 1], got " + std::to_string(a.keep));
  if (!in01(a.minKeep))
    usageError("--min-keep must be in (0, 1], got " + std::to_string(a.minKeep));
  if (a.minKeep > a.keep)
    usageError("--min-keep (" + std::to_string(a.minKeep) + ") must not exceed --keep (" +
               std::to_string(a.keep) + ")");
  if (a.epochs < 1)
    usageError("--epochs must be >= 1, got " + std::to_string(a.epochs));
  if (a.period < 1)
    usageError("--period must be >= 1, got " + std::to_string(a.period));
  if (a.warmup < 0)
    usageError("--warmup must be >= 0, got " + std::to_string(a.warmup));
  if (a.seed < 0)
    usageError("--seed must be >= 0, got " + std::to_string(a.seed));
  if (a.batchSize < 1)
    usageError("--batch-size must be >= 1, got " + std::to_string(a.batchSize));
  if (!(a.lr > 0) || !std::isfinite(a.lr))
    usageError("--lr must be a positive number");
  if (a.subset && *a.subset < 1)
    usageError("--subset must be >= 1, got " + std::to_string(*a.subset));
  if (a.testSubset && *a.testSubset < 1)
    usageError("--test-subset must be >= 1, got " + std::to_string(*a.testSubset));
  if (a.val < 0)
    usageError("--val must be >= 0, got " + std::to_string(a.val));
  if (a.zeroBias && a.model == "resnet18")
    usageError("--zero-bias: resnet18's convolutions have no bias (batch norm follows them)");
  if (a.width < 0)
    usageError("--width must be >= 1, got " + std::to_string(a.width));
  if (a.threads < 0)
    usageError("--threads must be >= 1, got " + std::to_string(a.threads));
  if (!(a.dropout >= 0 && a.dropout < 1))
    usageError("--dropout must be in [0, 1), got " + std::to_string(a.dropout));
  if (a.mode == "ssprop") {
    if (a.by == "iteration" && a.schedule == "constant")
      usageError("--schedule constant has no by-iteration form (use --by epoch, or "
                 "linear/cosine/bar)");
    if (a.by == "iteration" && a.interleave)
      usageError("--interleave applies by epoch only (drop it or use --by epoch)");
    if (a.by == "epoch" && (a.schedule == "linear" || a.schedule == "cosine") &&
        a.epochs < 2)
      usageError("--schedule " + a.schedule +
                 " by epoch needs --epochs >= 2 (it divides by epochs - 1)");
  }
  if (a.device == "cuda" && !torch::cuda::is_available())
    usageError("--device cuda: no CUDA device is available to this LibTorch");
  if (a.label.empty())
    a.label = a.mode;
  return a;
}

void makeDirs(const std::string &path) {
  std::string cur;
  std::stringstream ss(path);
  std::string part;
  if (!path.empty() && path[0] == '/')
    cur = "/";
  while (std::getline(ss, part, '/')) {
    if (part.empty())
      continue;
    cur += part + "/";
    ::mkdir(cur.c_str(), 0777);
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw std::runtime_error(path + ": cannot create the output directory");
}

std::string shellQuote(const std::string &s) {
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct Evaluation {
  double loss, accuracy;
};

/// Mean cross-entropy and accuracy in eval mode; NaNs for an empty split (no --val).
Evaluation evaluate(Model &m, const Split &split, const torch::Device &device) {
  if (!split.images.defined())
    return {NAN, NAN};
  torch::NoGradGuard ng;
  m.module->eval();
  const int64_t n = split.images.size(0);
  double loss = 0;
  int64_t correct = 0;
  for (int64_t i = 0; i < n; i += 1000) {
    auto xb = split.images.slice(0, i, std::min(i + 1000, n)).to(device);
    auto yb = split.labels.slice(0, i, std::min(i + 1000, n)).to(device);
    auto out = m.forward(xb);
    loss += torch::nn::functional::cross_entropy(
                out, yb, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                .item<double>();
    correct += out.argmax(1).eq(yb).sum().item<int64_t>();
  }
  m.module->train();
  return {n ? loss / n : 0.0, n ? static_cast<double>(correct) / n : 0.0};
}

int run(const Args &a) {
  if (a.threads > 0)
    torch::set_num_threads(static_cast<int>(a.threads));
  const torch::Device device(a.device == "cuda" ? torch::kCUDA : torch::kCPU);

  TrainVal tv = loadTrainVal(a.data, a.subset, a.val, a.seed);
  const Split &train = tv.train;
  Split test = loadSplit("test", a.data, a.testSubset ? a.testSubset
                                                      : matchingTestSubset(a.subset));
  const int64_t n = train.images.size(0);
  if (a.val > 0)
    std::printf("validation: %lld of %lld training images held out by seed %lld (index sum "
                "%lld); training on %lld\n",
                static_cast<long long>(a.val), static_cast<long long>(tv.total),
                static_cast<long long>(a.seed), static_cast<long long>(tv.valIndexSum),
                static_cast<long long>(n));
  const int64_t steps = (n + a.batchSize - 1) / a.batchSize;

  torch::manual_seed(static_cast<uint64_t>(a.seed));
  ConvFactory factory = denseConvFactory();
  if (a.mode == "ssprop") {
    factory = [&a](const ConvSpec &s) {
      return torch::nn::AnyModule(ssprop::nn::Conv2d(ssprop::nn::Conv2dOptions(
                                                         s.in, s.out, s.kernel)
                                                         .stride(s.stride)
                                                         .padding(s.padding)
                                                         .bias(s.bias)
                                                         .keep(a.keep)
                                                         .select(a.select)
                                                         .weight_only(a.weightOnly)));
    };
  }
  Model model = buildModel(a.model, a.width, a.dropout, factory);
  if (a.zeroBias)
    zeroConvBiases(*model.module);
  model.module->to(device);

  std::optional<ssprop::DropScheduler> sched;
  if (a.mode == "ssprop") {
    ssprop::DropSchedulerOptions o(a.schedule, a.keep);
    o.min_keep(a.minKeep)
        .total_epochs(a.epochs)
        .by(a.by)
        .period(a.period)
        .interleave(a.interleave)
        .warmup(a.warmup);
    sched.emplace(*model.module, o);
  }

  torch::optim::Adam opt(model.module->parameters(),
                         torch::optim::AdamOptions(a.lr).betas({0.9, 0.999}).eps(1e-8));

  makeDirs(a.out);
  CsvLog log(a.out + "/metrics.csv");
  std::vector<EpochRow> rows;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(a.seed));
  const bool bar = a.progress && ::isatty(2);
  int64_t step = 0;
  for (int64_t epoch = 0; epoch < a.epochs; ++epoch) {
    if (sched)
      sched->stepEpoch(epoch);
    ssprop::resetStats();
    takeDenseConvFlops();
    torch::Tensor order = torch::randperm(n, gen, torch::kLong);
    double lossSum = 0, hits = 0, keepSum = 0, secs = 0;
    ProgressBar pb(a.label + " epoch " + std::to_string(epoch + 1) + "/" +
                       std::to_string(a.epochs),
                   steps, bar);
    for (int64_t s = 0; s < steps; ++s) {
      if (sched && a.by == "iteration")
        sched->stepIteration(step);
      const double keep = sched ? sched->currentKeep() : 1.0;
      keepSum += keep;
      auto idx = order.slice(0, s * a.batchSize, std::min(n, (s + 1) * a.batchSize));
      auto t0 = std::chrono::steady_clock::now();
      auto xb = train.images.index_select(0, idx).to(device);
      auto yb = train.labels.index_select(0, idx).to(device);
      opt.zero_grad();
      auto logits = model.forward(xb);
      auto loss = torch::nn::functional::cross_entropy(logits, yb);
      loss.backward();
      opt.step();
      if (device.is_cuda())
        torch::cuda::synchronize();
      secs += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      ++step;
      const double lv = loss.item<double>();
      const double acc = logits.argmax(1).eq(yb).to(torch::kFloat64).mean().item<double>();
      lossSum += lv * xb.size(0);
      hits += acc * xb.size(0);
      pb.step(lv, acc, keep, xb.size(0));
    }
    pb.finish();
    EpochRow r;
    r.epoch = epoch;
    r.keep = keepSum / steps;
    r.trainLoss = lossSum / n;
    r.trainAccuracy = hits / n;
    if (a.mode == "ssprop") {
      ssprop::Stats st = ssprop::stats();
      r.denseBackwardFlops = st.denseBackwardFlops;
      r.actualBackwardFlops = st.actualBackwardFlops;
      takeDenseConvFlops();
    } else {
      r.denseBackwardFlops = r.actualBackwardFlops = takeDenseConvFlops();
    }
    r.seconds = secs;
    const Evaluation v = evaluate(model, tv.val, device), t = evaluate(model, test, device);
    r.valLoss = v.loss;
    r.valAccuracy = v.accuracy;
    r.testLoss = t.loss;
    r.testAccuracy = t.accuracy;
    log.write(r);
    rows.push_back(r);
    char valText[32] = "";
    if (a.val > 0)
      std::snprintf(valText, sizeof valText, "  val acc %.2f%%", 100 * r.valAccuracy);
    std::printf("%s epoch %lld/%lld: keep %.3f  loss %.4f%s  test acc %.2f%%  bwd FLOPs "
                "%.2fG of %.2fG  %.1fs\n",
                a.label.c_str(), static_cast<long long>(epoch + 1),
                static_cast<long long>(a.epochs), r.keep, r.trainLoss, valText,
                100 * r.testAccuracy,
                r.actualBackwardFlops / 1e9, r.denseBackwardFlops / 1e9, r.seconds);
    std::fflush(stdout);
  }

  std::string table = summaryTable(a.label, rows);
  std::printf("\n%s\nwrote %s/metrics.csv\n", table.c_str(), a.out.c_str());
  {
    std::ofstream f(a.out + "/summary.txt");
    f << table;
  }
  if (a.plot) {
    std::string pp = SSPROP_TRAIN_PYTHONPATH;
    if (const char *env = std::getenv("PYTHONPATH"); env && *env)
      pp += std::string(":") + env;
    std::string cmd = "PYTHONPATH=" + shellQuote(pp) + " " + shellQuote(SSPROP_TRAIN_PYTHON) +
                      " -m ssprop_train.report plot " + shellQuote(a.out + "/plot.png") + " " +
                      shellQuote(a.label + "=" + a.out + "/metrics.csv") + " >/dev/null";
    if (std::system(cmd.c_str()) != 0) {
      std::fprintf(stderr, "ssprop-train: error: the plot helper failed: %s\n", cmd.c_str());
      return 1;
    }
    std::printf("wrote %s/plot.png\n", a.out.c_str());
  } else {
    std::printf("(no PNG: pass --plot to draw %s/plot.png with the Python helper)\n",
                a.out.c_str());
  }
  return 0;
}

/// Runs the training; the background compiles stop before exit() destroys
/// the statics they use (ssprop::stopCompiles).
int runAndStopCompiles(const Args &a) {
  ssprop::setJit(a.jit);
  struct StopCompiles {
    ~StopCompiles() { ssprop::stopCompiles(); }
  } stop;
  return run(a);
}

} // namespace

int main(int argc, char **argv) {
  Args a = parseArgs(argc, argv);
  try {
    return runAndStopCompiles(a);
  } catch (const DataError &e) {
    std::fprintf(stderr, "ssprop-train: error: %s\n", e.what());
    return 1;
  } catch (const c10::Error &e) {
    std::fprintf(stderr, "ssprop-train: error: %s\n", e.what_without_backtrace());
    return 1;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "ssprop-train: error: %s\n", e.what());
    return 1;
  }
}
