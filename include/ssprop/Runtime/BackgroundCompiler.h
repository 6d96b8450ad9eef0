//===- BackgroundCompiler.h - compile jobs off the training thread -*- C++ -*-===//
//
// A small thread pool for the JIT's compiles: a layer whose kernels are not
// ready runs its gathered path while a worker compiles them, and switches to
// them once they are (the layer resolver asks again on each call). Jobs are
// named; a name runs once. stop() (and destruction) drops the jobs not
// started and waits for the running ones, whose cache entries are written
// whole (AtomicFile.h). Compiles must stop before exit() destroys the
// statics they use (LLVM's, made lazily by the first compile, after the
// pool): an exit handler registered after the first job stops every pool,
// and Python stops them earlier still, at its atexit.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_RUNTIME_BACKGROUNDCOMPILER_H
#define SSPROP_RUNTIME_BACKGROUNDCOMPILER_H

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace ssprop {

class BackgroundCompiler {
public:
  /// `workers` threads, started with the first job.
  explicit BackgroundCompiler(int workers);
  ~BackgroundCompiler();
  BackgroundCompiler(const BackgroundCompiler &) = delete;
  BackgroundCompiler &operator=(const BackgroundCompiler &) = delete;

  /// Whether the job `name` has finished. A name never seen before is queued
  /// with `job` (whose exceptions are swallowed: the caller's next blocking
  /// attempt reports them) and is not finished.
  bool isDone(const std::string &name, std::function<void()> job);

  /// Blocks until no job is queued or running (benchmarks and tests).
  void waitIdle();

  /// Drops the queued jobs and waits for the running ones; later jobs are
  /// not started (their layers keep their gathered path).
  void stop();

  /// Jobs queued or running.
  int getPending() const;

  /// The worker count of the process's JIT: a quarter of the hardware
  /// threads, 1 to 4 (each job compiles a layer's tiles in parallel too).
  static int getDefaultWorkers();

private:
  void work();

  const int maxWorkers;
  mutable std::mutex mutex;
  std::condition_variable wake, idle;
  std::deque<std::pair<std::string, std::function<void()>>> queue;
  std::set<std::string> started, done;
  std::vector<std::thread> threads;
  int running = 0;
  bool stopping = false;
};

} // namespace ssprop

#endif // SSPROP_RUNTIME_BACKGROUNDCOMPILER_H
