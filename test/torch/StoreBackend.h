//===- StoreBackend.h - a c10d backend on a key-value store -----*- C++ -*-===//
//
// Test support: PyTorch's wheels ship no gloo headers, so LibTorch programs
// cannot construct ProcessGroupGloo. This backend makes a real c10d process
// group out of a c10d::Store (a FileStore shared by the processes): each
// collective publishes every rank's tensor under a key and reads the others'.
// Slow and simple; enough for the all-reduce and broadcast of ssProp's scores
// and the gradient average of data-parallel training.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_TEST_TORCH_STOREBACKEND_H
#define SSPROP_TEST_TORCH_STOREBACKEND_H

#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>

#include <cstring>
#include <string>
#include <vector>

namespace ssprop::test {

/// A collective that has finished when it is returned.
class DoneWork : public c10d::Work {
public:
  bool isCompleted() override { return true; }
  bool wait(std::chrono::milliseconds) override { return true; }
};

class StoreBackend : public c10d::Backend {
public:
  StoreBackend(c10::intrusive_ptr<c10d::Store> store, int rank, int size)
      : Backend(rank, size), store(std::move(store)) {}

  const std::string getBackendName() const override { return "ssprop-store"; }

  c10::intrusive_ptr<c10d::Work>
  allreduce(std::vector<at::Tensor> &tensors,
            const c10d::AllreduceOptions &options) override {
    TORCH_CHECK(options.reduceOp == c10d::ReduceOp::SUM,
                "StoreBackend: only sum all-reduces");
    for (at::Tensor &tensor : tensors) {
      const std::string key = nextKey();
      publish(key + "/" + std::to_string(getRank()), tensor);
      at::Tensor sum = at::zeros_like(tensor);
      for (int rank = 0; rank < getSize(); ++rank)
        sum += fetch(key + "/" + std::to_string(rank), tensor);
      tensor.copy_(sum);
    }
    return c10::make_intrusive<DoneWork>();
  }

  c10::intrusive_ptr<c10d::Work>
  broadcast(std::vector<at::Tensor> &tensors,
            const c10d::BroadcastOptions &options) override {
    for (at::Tensor &tensor : tensors) {
      const std::string key = nextKey();
      if (getRank() == options.rootRank)
        publish(key, tensor);
      tensor.copy_(fetch(key, tensor));
    }
    return c10::make_intrusive<DoneWork>();
  }

  /// A process group of this backend for CPU tensors.
  static c10::intrusive_ptr<c10d::ProcessGroup>
  makeGroup(c10::intrusive_ptr<c10d::Store> store, int rank, int size) {
    auto group = c10::make_intrusive<c10d::ProcessGroup>(store, rank, size);
    auto backend = c10::make_intrusive<StoreBackend>(store, rank, size);
    group->setBackend(c10::DeviceType::CPU,
                      c10d::ProcessGroup::BackendType::CUSTOM, backend);
    group->setDefaultBackend(c10d::ProcessGroup::BackendType::CUSTOM);
    return group;
  }

private:
  /// Every process calls the collectives in the same order: the n-th one of
  /// each process shares the key `c<n>`.
  std::string nextKey() { return "c" + std::to_string(sequence++); }

  void publish(const std::string &key, const at::Tensor &tensor) {
    at::Tensor host = tensor.contiguous().cpu();
    const auto *bytes = static_cast<const uint8_t *>(host.data_ptr());
    store->set(key, std::vector<uint8_t>(bytes, bytes + host.nbytes()));
  }

  at::Tensor fetch(const std::string &key, const at::Tensor &like) {
    std::vector<uint8_t> bytes = store->get(key); // waits for the key
    at::Tensor out = at::empty_like(like, at::MemoryFormat::Contiguous);
    TORCH_CHECK(bytes.size() == out.nbytes(), "StoreBackend: ", key, " holds ",
                bytes.size(), " bytes, expected ", out.nbytes());
    std::memcpy(out.data_ptr(), bytes.data(), bytes.size());
    return out;
  }

  c10::intrusive_ptr<c10d::Store> store;
  int64_t sequence = 0;
};

} // namespace ssprop::test

#endif // SSPROP_TEST_TORCH_STOREBACKEND_H
