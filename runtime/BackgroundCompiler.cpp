//===- BackgroundCompiler.cpp - compile jobs off the training thread ------===//

#include "ssprop/Runtime/BackgroundCompiler.h"

#include <algorithm>
#include <cstdlib>

namespace ssprop {
namespace {

/// The live pools, for the exit handler. Never destroyed: exit handlers run
/// while static objects are being destroyed.
struct LivePools {
  std::mutex mutex;
  std::set<BackgroundCompiler *> pools;
};

LivePools &getLivePools() {
  static LivePools *live = new LivePools();
  return *live;
}

void stopLivePools() {
  LivePools &live = getLivePools();
  std::lock_guard<std::mutex> lock(live.mutex);
  for (BackgroundCompiler *pool : live.pools)
    pool->stop();
}

/// exit() runs handlers and static destructors in the reverse order of their
/// registration. Registered after the first job, the handler stops the pools
/// before the statics that job made (LLVM's, made lazily by the first
/// compile) are destroyed under a running compile.
void stopPoolsAtExit() {
  static std::once_flag registered;
  std::call_once(registered, [] { std::atexit(stopLivePools); });
}

} // namespace

BackgroundCompiler::BackgroundCompiler(int workers)
    : maxWorkers(std::max(workers, 1)) {
  LivePools &live = getLivePools();
  std::lock_guard<std::mutex> lock(live.mutex);
  live.pools.insert(this);
}

BackgroundCompiler::~BackgroundCompiler() {
  {
    LivePools &live = getLivePools();
    std::lock_guard<std::mutex> lock(live.mutex);
    live.pools.erase(this);
  }
  stop();
  for (std::thread &thread : threads)
    thread.join();
}

void BackgroundCompiler::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = true;
    queue.clear();
  }
  wake.notify_all();
  waitIdle();
}

int BackgroundCompiler::getDefaultWorkers() {
  const int hardware = static_cast<int>(std::thread::hardware_concurrency());
  return std::clamp(hardware / 4, 1, 4);
}

bool BackgroundCompiler::isDone(const std::string &name,
                                std::function<void()> job) {
  std::lock_guard<std::mutex> lock(mutex);
  if (done.count(name))
    return true;
  if (!started.insert(name).second || stopping)
    return false;
  queue.emplace_back(name, std::move(job));
  if (static_cast<int>(threads.size()) < maxWorkers)
    threads.emplace_back([this] { work(); });
  else
    wake.notify_one();
  return false;
}

void BackgroundCompiler::waitIdle() {
  std::unique_lock<std::mutex> lock(mutex);
  idle.wait(lock, [&] { return queue.empty() && running == 0; });
}

int BackgroundCompiler::getPending() const {
  std::lock_guard<std::mutex> lock(mutex);
  return static_cast<int>(queue.size()) + running;
}

void BackgroundCompiler::work() {
  std::unique_lock<std::mutex> lock(mutex);
  while (true) {
    wake.wait(lock, [&] { return stopping || !queue.empty(); });
    if (stopping)
      return;
    auto [name, job] = std::move(queue.front());
    queue.pop_front();
    ++running;
    lock.unlock();
    try {
      job();
    } catch (...) {
    }
    stopPoolsAtExit();
    lock.lock();
    --running;
    done.insert(name);
    if (queue.empty() && running == 0)
      idle.notify_all();
  }
}

} // namespace ssprop
