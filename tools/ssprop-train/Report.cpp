//===- Report.cpp - CSV log, progress bar and summary of a run ------------===//

#include "Report.h"

#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>

namespace ssprop_train {

namespace {

std::string num(double v) {
  std::ostringstream os;
  os << std::setprecision(17) << v;
  return os.str();
}

std::string fixed(double v, int digits) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(digits) << v;
  return os.str();
}

} // namespace

CsvLog::CsvLog(const std::string &path) : path_(path), out_(path) {
  if (!out_)
    throw std::runtime_error(path + ": cannot write");
  out_ << "epoch,keep,train_loss,train_accuracy,val_loss,val_accuracy,test_loss,"
          "test_accuracy,dense_backward_flops,actual_backward_flops,seconds\n";
  out_.flush();
}

void CsvLog::write(const EpochRow &r) {
  out_ << r.epoch << ',' << num(r.keep) << ',' << num(r.trainLoss) << ','
       << num(r.trainAccuracy) << ',' << num(r.valLoss) << ',' << num(r.valAccuracy) << ','
       << num(r.testLoss) << ',' << num(r.testAccuracy) << ',' << num(r.denseBackwardFlops)
       << ',' << num(r.actualBackwardFlops) << ',' << num(r.seconds) << '\n';
  out_.flush();
  if (!out_)
    throw std::runtime_error(path_ + ": write failed");
}

ProgressBar::ProgressBar(std::string desc, int64_t total, bool enabled)
    : desc_(std::move(desc)), total_(total), enabled_(enabled),
      start_(std::chrono::steady_clock::now()), last_(start_) {}

void ProgressBar::step(double loss, double acc, double keep, int64_t count) {
  ++done_;
  lossSum_ += loss * count;
  accSum_ += acc * count;
  seen_ += count;
  keep_ = keep;
  draw(done_ == total_);
}

void ProgressBar::draw(bool force) {
  if (!enabled_)
    return;
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_ < std::chrono::milliseconds(100))
    return;
  last_ = now;
  const int width = 24;
  const int filled = total_ > 0 ? static_cast<int>(width * done_ / total_) : width;
  const double secs = std::chrono::duration<double>(now - start_).count();
  std::fprintf(stderr, "\r%s [%s%s] %lld/%lld %.1fs loss=%.4f acc=%.3f keep=%.2f",
               desc_.c_str(), std::string(filled, '#').c_str(),
               std::string(width - filled, '.').c_str(), static_cast<long long>(done_),
               static_cast<long long>(total_), secs, seen_ ? lossSum_ / seen_ : 0.0,
               seen_ ? accSum_ / seen_ : 0.0, keep_);
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (!enabled_)
    return;
  draw(true);
  std::fprintf(stderr, "\n");
}

std::string summaryTable(const std::string &label, const std::vector<EpochRow> &rows) {
  double dense = 0, actual = 0, secs = 0, keep = 0, best = 0;
  for (const auto &r : rows) {
    dense += r.denseBackwardFlops;
    actual += r.actualBackwardFlops;
    secs += r.seconds;
    keep += r.keep;
    best = std::max(best, r.testAccuracy);
  }
  const double n = rows.empty() ? 1 : static_cast<double>(rows.size());
  std::vector<std::string> head = {"run",       "epochs",    "final acc %",
                                   "best acc %", "mean keep", "bwd GFLOP",
                                   "bwd FLOP ratio", "train s", "time vs " + label};
  std::vector<std::string> cells = {
      label,
      std::to_string(rows.size()),
      fixed(rows.empty() ? 0.0 : 100 * rows.back().testAccuracy, 2),
      fixed(100 * best, 2),
      fixed(keep / n, 3),
      fixed(actual / 1e9, 2),
      dense > 0 ? fixed(actual / dense, 3) : "nan",
      fixed(secs, 1),
      "1.000"};
  std::ostringstream os;
  std::vector<size_t> w;
  for (size_t i = 0; i < head.size(); ++i)
    w.push_back(std::max(head[i].size(), cells[i].size()));
  auto line = [&](const std::vector<std::string> &v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) {
      s += v[i] + std::string(w[i] - v[i].size(), ' ');
      if (i + 1 < v.size())
        s += "  ";
    }
    while (!s.empty() && s.back() == ' ')
      s.pop_back();
    return s;
  };
  os << line(head) << '\n';
  std::vector<std::string> dashes;
  for (size_t x : w)
    dashes.push_back(std::string(x, '-'));
  os << line(dashes) << '\n' << line(cells) << '\n';
  return os.str();
}

} // namespace ssprop_train
