//===- Report.h - CSV log, progress bar and summary of a run ----*- C++ -*-===//
//
// The same per-epoch CSV columns as python/ssprop_train/report.py, so that the
// Python plot and summary helpers read both trainers' files.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_TRAIN_REPORT_H
#define SSPROP_TRAIN_REPORT_H

#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace ssprop_train {

/// One epoch's CSV row. train*: running means over the epoch's batches; val*:
/// NaN without a validation split.
struct EpochRow {
  int64_t epoch = 0;
  double keep = 1, trainLoss = 0, trainAccuracy = 0;
  double valLoss = 0, valAccuracy = 0, testLoss = 0, testAccuracy = 0;
  double denseBackwardFlops = 0, actualBackwardFlops = 0, seconds = 0;
};

class CsvLog {
public:
  explicit CsvLog(const std::string &path);
  void write(const EpochRow &row);

private:
  std::string path_;
  std::ofstream out_;
};

/// A one-line "\r" progress bar on stderr with running loss/accuracy/keep.
class ProgressBar {
public:
  ProgressBar(std::string desc, int64_t total, bool enabled);
  void step(double loss, double acc, double keep, int64_t count);
  void finish();

private:
  void draw(bool force);
  std::string desc_;
  int64_t total_, done_ = 0;
  bool enabled_;
  double lossSum_ = 0, accSum_ = 0, keep_ = 1;
  int64_t seen_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
};

/// The summary table of one run (report.summary_table's columns).
std::string summaryTable(const std::string &label, const std::vector<EpochRow> &rows);

} // namespace ssprop_train

#endif // SSPROP_TRAIN_REPORT_H
