//===- Data.h - Fashion-MNIST IDX files for ssprop-train --------*- C++ -*-===//
//
// Reads IDX files (plain or gzip-compressed, as Debian's dataset-fashion-mnist
// installs them), checks magic numbers, dimensions and sizes, and returns
// normalised tensors (mean 0.2860, std 0.3530). The same checks and messages
// as python/ssprop_train/data.py.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_TRAIN_DATA_H
#define SSPROP_TRAIN_DATA_H

#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ssprop_train {

/// A missing or malformed data file; what() names the file and the problem.
struct DataError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;
};

/// Reads one IDX file of unsigned bytes. expectedMagic = 0: any 0x000008NN.
IdxArray readIdx(const std::string &path, uint32_t expectedMagic = 0);

/// The directory of the IDX files: `root` if not empty, else
/// $SSPROP_FASHION_MNIST, else /usr/share/datasets/fashion-mnist.
std::string findRoot(const std::string &root);

struct Split {
  torch::Tensor images; // [N, 1, 28, 28] float32, normalised
  torch::Tensor labels; // [N] int64
};

/// "train" or "test"; subset: the first N examples (all when unset).
Split loadSplit(const std::string &split, const std::string &root,
                std::optional<int64_t> subset);

/// The training images and the validation images held out of them: `val`
/// images drawn at random by `seed` (torch::randperm of a CPU generator seeded
/// with it, as python/ssprop_train/data.py's train_val_indices), then the first
/// `subset` of the others (all when unset); both in file order. With val = 0
/// the training images are the first `subset`. DataError when they do not fit.
struct TrainVal {
  Split train, val;      // val is empty (undefined tensors) when val = 0
  int64_t total = 0;     // images in the training file
  int64_t valIndexSum = 0; // identifies the held-out images
};
TrainVal loadTrainVal(const std::string &root, std::optional<int64_t> subset, int64_t val,
                      int64_t seed);

/// The test subset matching a train subset: the same fraction (1/6).
std::optional<int64_t> matchingTestSubset(std::optional<int64_t> trainSubset);

} // namespace ssprop_train

#endif // SSPROP_TRAIN_DATA_H
