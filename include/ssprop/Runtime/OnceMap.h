//===- OnceMap.h - compute each key's value once, across threads -*- C++ -*-===//

#ifndef SSPROP_RUNTIME_ONCEMAP_H
#define SSPROP_RUNTIME_ONCEMAP_H

#include <future>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ssprop {

/// A thread-safe map whose values are computed on first request: concurrent
/// requests for a key wait for the one computation. A computation that
/// throws is forgotten (its waiters get the exception), so a later request
/// tries again.
template <typename Value> class OnceMap {
public:
  /// The value of `key`, computing it with `compute()` if it is new. Sets
  /// `*hit` to whether it was already there or in flight.
  template <typename Compute>
  Value get(const std::string &key, Compute compute, bool *hit = nullptr) {
    std::promise<Value> promise;
    std::unique_lock<std::mutex> lock(mutex);
    if (auto it = values.find(key); it != values.end()) {
      auto pending = it->second;
      lock.unlock(); // wait for a computation in flight without the lock
      if (hit)
        *hit = true;
      return pending.get();
    }
    values.emplace(key, promise.get_future().share());
    lock.unlock();
    if (hit)
      *hit = false;
    try {
      Value value = compute();
      promise.set_value(value);
      return value;
    } catch (...) {
      promise.set_exception(std::current_exception());
      std::lock_guard<std::mutex> relock(mutex);
      values.erase(key);
      throw;
    }
  }

  void clear() {
    std::lock_guard<std::mutex> lock(mutex);
    values.clear();
  }

private:
  std::mutex mutex;
  std::unordered_map<std::string, std::shared_future<Value>> values;
};

} // namespace ssprop

#endif // SSPROP_RUNTIME_ONCEMAP_H
