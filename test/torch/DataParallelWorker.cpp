//===- DataParallelWorker.cpp - one process of the data-parallel test -----===//
//
//   ssprop-data-parallel-worker <rank> <world> <dir> <sync|local> <select>
//
// Joins a process group through a FileStore in <dir>, turns on ssProp's
// synchronised selection (sync) or not (local), runs one step of the test
// model on its slice of the batch, averages the gradients over the group as
// DistributedDataParallel does, and saves them to <dir>/rank<rank>.pt.
//
//===----------------------------------------------------------------------===//

#include "DataParallel.h"
#include "StoreBackend.h"

#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/GroupRegistry.hpp>
#include <torch/serialize.h>

#include <iostream>

using namespace ssprop::test;

int main(int argc, char **argv) {
  if (argc != 6) {
    std::cerr << "usage: " << argv[0]
              << " <rank> <world> <dir> <sync|local> <topk|random>\n";
    return 2;
  }
  const int rank = std::stoi(argv[1]), world = std::stoi(argv[2]);
  const std::string dir = argv[3], mode = argv[4], select = argv[5];
  at::set_num_threads(1);
  auto store = c10::make_intrusive<c10d::FileStore>(dir + "/store", world);
  auto group = StoreBackend::makeGroup(store, rank, world);
  const std::string groupName = "ssprop-test";
  c10d::register_process_group(groupName, group);

  torch::nn::Sequential model = makeDataParallelModel(select);
  if (mode == "sync")
    ssprop::distributed(*model, groupName);
  auto [images, labels] = makeDataParallelBatch();
  const int64_t per = kDataParallelBatch / world;
  // Each process's own random permutations differ.
  torch::manual_seed(100 + rank);
  std::vector<at::Tensor> grads =
      stepGradients(model, images.narrow(0, rank * per, per),
                    labels.narrow(0, rank * per, per));
  for (at::Tensor &grad : grads) {
    std::vector<at::Tensor> tensors{grad};
    group->allreduce(tensors)->wait();
    grad.div_(world);
  }
  torch::save(grads, dir + "/rank" + std::to_string(rank) + ".pt");
  return 0;
}
