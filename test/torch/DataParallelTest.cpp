//===- DataParallelTest.cpp - data-parallel ssProp from LibTorch ----------===//
//
// Two worker processes (DataParallelWorker.cpp) on halves of a batch, with
// ssprop::distributed, give the gradients of one process on the whole batch:
// the operator all-reduces the scores between scoring and selection. Without
// it they keep different channels.
//
//===----------------------------------------------------------------------===//

#include "DataParallel.h"

#include <gtest/gtest.h>
#include <torch/serialize.h>

#include <cstdlib>

#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

using namespace ssprop::test;

namespace {

constexpr int kWorld = 2;

/// The workers' files in `dir`, then `dir`, removed. (No std::filesystem:
/// libtorch.so exports its own, incompatible copies of its functions.)
void removeWorkerFiles(const std::string &dir) {
  for (const std::string name : {"store", "rank0.pt", "rank1.pt"})
    ::unlink((dir + "/" + name).c_str());
  ::rmdir(dir.c_str());
}

/// Runs the two workers in `mode` and returns each rank's averaged gradients.
std::vector<std::vector<at::Tensor>> runWorkers(const std::string &mode,
                                                const std::string &select) {
  std::string dir = "/tmp/ssprop-data-parallel-XXXXXX";
  if (const char *tmp = std::getenv("TMPDIR"); tmp && *tmp)
    dir = std::string(tmp) + "/ssprop-data-parallel-XXXXXX";
  EXPECT_NE(::mkdtemp(dir.data()), nullptr) << "cannot create " << dir;
  std::vector<pid_t> workers;
  for (int rank = 0; rank < kWorld; ++rank) {
    std::vector<std::string> args = {SSPROP_DATA_PARALLEL_WORKER,
                                     std::to_string(rank),
                                     std::to_string(kWorld),
                                     dir,
                                     mode,
                                     select};
    std::vector<char *> argv;
    for (std::string &arg : args)
      argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    EXPECT_EQ(
        ::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ),
        0);
    workers.push_back(pid);
  }
  std::vector<std::vector<at::Tensor>> grads(kWorld);
  for (int rank = 0; rank < kWorld; ++rank) {
    int status = 0;
    ::waitpid(workers[rank], &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "worker " << rank << " failed (status " << status << ")";
    torch::load(grads[rank], dir + "/rank" + std::to_string(rank) + ".pt");
  }
  removeWorkerFiles(dir);
  return grads;
}

std::vector<at::Tensor> singleProcess(const std::string &select) {
  torch::nn::Sequential model = makeDataParallelModel(select);
  auto [images, labels] = makeDataParallelBatch();
  return stepGradients(model, images, labels);
}

/// The rows (output channels) of a gradient that are not all zero.
at::Tensor nonzeroRows(const at::Tensor &grad) {
  return grad.reshape({grad.size(0), -1}).abs().sum(1) != 0;
}

TEST(DataParallel, SynchronisedSelectionEqualsOneProcess) {
  at::set_num_threads(1);
  const std::vector<at::Tensor> want = singleProcess("topk");
  for (const auto &rank : runWorkers("sync", "topk")) {
    ASSERT_EQ(rank.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_TRUE(at::equal(nonzeroRows(rank[i]), nonzeroRows(want[i])))
          << "parameter " << i << " keeps other channels";
      EXPECT_TRUE(at::allclose(rank[i], want[i], 1e-4, 1e-6))
          << "parameter " << i;
    }
  }
}

TEST(DataParallel, WithoutSynchronisationTheProcessesKeepOtherChannels) {
  const std::vector<at::Tensor> want = singleProcess("topk");
  const auto got = runWorkers("local", "topk");
  bool differs = false;
  for (size_t i = 0; i < want.size(); ++i)
    differs = differs || !at::allclose(got[0][i], want[i], 1e-4, 1e-6);
  EXPECT_TRUE(differs) << "local selection matched the global one: the test "
                          "lost its power";
}

TEST(DataParallel, SynchronisedRandomSelectionIsRankZeros) {
  // Every process seeds its generator differently; with the synchronisation
  // they all keep rank 0's channels: the averaged gradient of the first
  // layer and of the head (whose dy has no zero channels) has exactly k
  // non-zero rows. Without it the union is larger.
  for (const char *mode : {"sync", "local"}) {
    const auto got = runWorkers(mode, "random");
    const at::Tensor &first = got[0].front(), &head = got[0][got[0].size() - 2];
    const int64_t firstRows = nonzeroRows(first).sum().item<int64_t>();
    const int64_t headRows = nonzeroRows(head).sum().item<int64_t>();
    if (std::string(mode) == "sync") {
      EXPECT_EQ(firstRows, ssprop::keptChannels(kDataParallelKeep, 8));
      EXPECT_EQ(headRows, ssprop::keptChannels(kDataParallelKeep, 10));
    } else {
      EXPECT_GT(firstRows + headRows,
                ssprop::keptChannels(kDataParallelKeep, 8) +
                    ssprop::keptChannels(kDataParallelKeep, 10));
    }
  }
}

} // namespace
