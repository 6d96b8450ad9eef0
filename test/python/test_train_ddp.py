"""DDP with synchronised channel scores (ssprop.distributed): two CPU processes
(gloo) on halves of a batch give the gradients of one process on the whole batch
(DDP averages, so: the gradient of the mean loss), through the operator's own
backward (torch.ops.ssprop.*, all-reducing the scores between scoring and
selection). Without the synchronisation they do not."""

import os
import socket
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))

from ssprop_train import bridge  # noqa: E402

pytestmark = pytest.mark.skipif(not bridge.available(),
                                reason="the ssprop package / libssprop_torch is not built")

KEEP = 0.5
BATCH = 16


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(1, 8, 3, padding=1)                 # first layer: no dx
        self.c2 = torch.nn.Conv2d(8, 12, 3, stride=2, padding=1)
        self.c3 = torch.nn.Conv2d(12, 6, 1, groups=2, bias=False)    # grouped
        self.fc = torch.nn.Linear(6, 10)

    def forward(self, x):
        x = torch.relu(self.c1(x))
        x = torch.relu(self.c2(x))
        x = torch.relu(self.c3(x))
        return self.fc(x.mean(dim=(2, 3)))


def make_model(select):
    ssprop = bridge.require()
    torch.manual_seed(0)
    return ssprop.convert(Net(), keep=KEEP, select=select, conv=True, linear=True)


def make_batch():
    g = torch.Generator().manual_seed(1)
    return torch.randn(BATCH, 1, 10, 10, generator=g), torch.randint(0, 10, (BATCH,), generator=g)


def grads(model):
    return {n: p.grad.detach().clone() for n, p in model.named_parameters()}


def _worker(rank, world, port, out_dir):
    import torch.distributed as dist
    ssprop = bridge.require()

    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        x, y = make_batch()
        per = BATCH // world
        xs, ys = x[rank * per:(rank + 1) * per], y[rank * per:(rank + 1) * per]
        results = {}
        for variant, select, sync in (("sync-topk", "topk", True), ("sync-random", "random", True),
                                      ("local-topk", "topk", False),
                                      ("local-random", "random", False)):
            model = make_model(select)
            if sync:
                ssprop.distributed(model)
            ddp = torch.nn.parallel.DistributedDataParallel(model)
            ssprop.reset_stats()
            loss = torch.nn.functional.cross_entropy(ddp(xs), ys)
            # Each rank's own random permutations differ.
            torch.manual_seed(100 + rank)
            with torch.profiler.profile() as prof:
                loss.backward()
            called = sorted({e.name for e in prof.events() if e.name.startswith("ssprop::")})
            stats = ssprop.stats()
            results[variant] = {"grads": grads(model), "called": called,
                                "stats": (stats["dense_backward_flops"],
                                          stats["actual_backward_flops"])}
        torch.save(results, Path(out_dir) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ddp_results(tmp_path_factory):
    import torch.multiprocessing as mp
    out = tmp_path_factory.mktemp("ddp")
    mp.spawn(_worker, args=(2, free_port(), str(out)), nprocs=2, join=True)
    return [torch.load(out / f"rank{r}.pt") for r in range(2)]


@pytest.fixture(scope="module")
def reference():
    """One process, the whole batch, the bridge's ssProp backward."""
    model = make_model("topk")
    x, y = make_batch()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    return grads(model)


def test_synced_scores_match_single_process(ddp_results, reference):
    for rank in range(2):
        got = ddp_results[rank]["sync-topk"]["grads"]
        assert got.keys() == reference.keys()
        for name, ref in reference.items():
            # Same kept channels: the zero rows coincide exactly.
            ref_rows = ref.flatten(1).abs().sum(1) != 0 if ref.dim() > 1 else ref != 0
            got_rows = got[name].flatten(1).abs().sum(1) != 0 if ref.dim() > 1 else got[name] != 0
            assert torch.equal(ref_rows, got_rows), name
            torch.testing.assert_close(got[name], ref, rtol=1e-4, atol=1e-6, msg=name)


def test_without_sync_the_ranks_keep_different_channels(ddp_results, reference):
    got = ddp_results[0]["local-topk"]["grads"]
    differs = [n for n in reference if not torch.allclose(got[n], reference[n], rtol=1e-4, atol=1e-6)]
    assert differs, "local selection happened to match the global one: the test lost its power"


def _nonzero_rows(grads, name):
    return int((grads[name].flatten(1).abs().sum(1) != 0).sum())


LAYERS = (("c1.weight", 8), ("c2.weight", 12), ("c3.weight", 6), ("fc.weight", 10))


def test_synced_random_keeps_the_same_channels_on_every_rank(ddp_results):
    ssprop = bridge.require()
    got = ddp_results[0]["sync-random"]["grads"]
    # After DDP's average a row is non-zero if any rank kept it (and its
    # gradient is not zero: c2's channels feeding a group of c3 without kept
    # channels get none). c1 and fc have no such zeros: exactly k rows.
    for name, cout in LAYERS:
        k = ssprop.kept_channels(KEEP, cout)
        assert _nonzero_rows(got, name) <= k, name
        if name in ("c1.weight", "fc.weight"):
            assert _nonzero_rows(got, name) == k, name


def test_without_sync_random_ranks_keep_different_channels(ddp_results):
    ssprop = bridge.require()
    got = ddp_results[0]["local-random"]["grads"]
    assert any(_nonzero_rows(got, name) > ssprop.kept_channels(KEEP, cout)
               for name, cout in LAYERS), "the ranks happened to agree: the test lost its power"


def test_synced_flops_are_counted(ddp_results):
    dense, actual = ddp_results[0]["sync-topk"]["stats"]
    assert dense > 0 and actual == pytest.approx(KEEP * dense)


def test_the_synced_backward_runs_through_the_operator(ddp_results):
    for rank in range(2):
        for variant in ("sync-topk", "sync-random"):
            assert ddp_results[rank][variant]["called"] == [
                "ssprop::_conv2d_backward", "ssprop::_linear_backward"], (rank, variant)


def test_distributed_needs_an_initialised_process_group_and_ssprop_layers():
    ssprop = bridge.require()
    with pytest.raises(RuntimeError, match="ssprop.distributed: torch.distributed is not "
                                           "initialised"):
        ssprop.distributed(make_model("topk"))
    with pytest.raises(ValueError, match="the model has no ssprop layer"):
        ssprop.distributed(Net(), enabled=False)
    model = make_model("topk")
    assert ssprop.distributed(model, enabled=False) == 4
    assert all(m.sync_group is None for m in model.modules() if hasattr(m, "sync_group"))


def test_trainer_distributed_run(tmp_path):
    import subprocess
    from ssprop_train import data, report
    try:
        data.find_root()
    except data.DatasetNotFoundError as e:
        pytest.skip(f"Fashion-MNIST is not installed: {e}")
    out = tmp_path / "ddp"
    r = subprocess.run([sys.executable, str(ROOT / "examples" / "train.py"), "--distributed",
                        "--nproc", "2", "--mode", "ssprop", "--keep", "0.5", "--epochs", "1",
                        "--subset", "256", "--test-subset", "32", "--batch-size", "64",
                        "--width", "4", "--no-progress", "--no-plot", "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    (row,) = report.read_csv(out / "metrics.csv")
    # Both processes' FLOPs, summed: 256 images in all; keep 0.5 of 4 channels.
    assert row["actual_backward_flops"] == pytest.approx(0.5 * row["dense_backward_flops"])
    assert row["dense_backward_flops"] == 256 * 2 * 28 * 28 * 9 * 4 * (1 + 2 * 4 * 2)
