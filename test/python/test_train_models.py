"""The paper's models (python/ssprop_train/models.py), ssprop.convert on them, and
the report helpers (CSV round trip, tables, plots)."""

import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))

from ssprop_train import bridge, models, report  # noqa: E402
from ssprop_train.flops import DenseFlopCounter  # noqa: E402


def test_cnn_structure():
    m = models.build_model("cnn")
    convs = [c for c in m.modules() if isinstance(c, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.padding) for c in convs] == [
        (1, 128, (3, 3), (1, 1)), (128, 128, (3, 3), (1, 1)), (128, 128, (3, 3), (1, 1))]
    assert not any(isinstance(c, torch.nn.BatchNorm2d) for c in m.modules())
    assert m(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    assert models.build_model("cnn", width=16).fc.in_features == 16


def test_resnet18_structure():
    m = models.build_model("resnet18")
    # CIFAR-style ResNet-18 (3x3 stem, no max-pool), one input channel, 10 classes.
    assert sum(p.numel() for p in m.parameters()) == 11_172_810
    assert sum(isinstance(c, torch.nn.Conv2d) for c in m.modules()) == 20
    small = models.build_model("resnet18", width=4)
    assert small(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    assert small(torch.randn(2, 1, 32, 32)).shape == (2, 10)


def test_resnet50_structure():
    m = models.resnet50()
    # torchvision's resnet50() has 25,557,032 parameters and 53 convolutions.
    assert sum(p.numel() for p in m.parameters()) == 25_557_032
    assert sum(isinstance(c, torch.nn.Conv2d) for c in m.modules()) == 53
    assert m.layer2[0].conv2.stride == (2, 2) and m.layer2[0].conv1.stride == (1, 1)
    assert m.to("meta")(torch.empty(2, 3, 224, 224, device="meta")).shape == (2, 1000)


def test_dropout_is_wired():
    assert sum(isinstance(c, torch.nn.Dropout) for c in models.build_model("cnn", dropout=0.2).modules()) == 1
    assert sum(isinstance(c, torch.nn.Dropout) for c in models.build_model("cnn").modules()) == 0
    r = models.build_model("resnet18", width=4, dropout=0.2)
    assert sum(isinstance(c, torch.nn.Dropout) for c in r.modules()) == 1 + 8 * 2 + 3
    with pytest.raises(ValueError, match="dropout"):
        models.build_model("cnn", dropout=1.0)
    with pytest.raises(ValueError, match="unknown model"):
        models.build_model("vgg")


@pytest.mark.skipif(not bridge.available(), reason="the ssprop package / libssprop_torch is not built")
def test_convert_resnet18_convolutions_only_and_flops():
    ssprop = bridge.require()
    torch.manual_seed(0)
    m = bridge.convert(models.build_model("resnet18", width=4), keep=0.5, select="topk",
                       weight_only=False)
    assert sum(isinstance(c, ssprop.nn.Conv2d) for c in m.modules()) == 20
    assert not isinstance(m.linear, ssprop.nn.Linear)  # the head stays dense, as in the paper
    counter = DenseFlopCounter([c for c in m.modules() if isinstance(c, torch.nn.Conv2d)])
    ssprop.reset_stats()
    x, y = torch.randn(4, 1, 28, 28), torch.randint(0, 10, (4,))
    torch.nn.functional.cross_entropy(m(x), y).backward()
    st = ssprop.stats()
    assert counter.take() == st["dense_backward_flops"] > 0
    assert st["actual_backward_flops"] == pytest.approx(0.5 * st["dense_backward_flops"])


def rows(accs, flops, secs):
    return [{"epoch": e, "keep": 1.0, "train_loss": 1.0 / (e + 1), "train_accuracy": 0.9,
             "val_loss": 0.5, "val_accuracy": 0.8, "test_loss": 0.6, "test_accuracy": a,
             "dense_backward_flops": 100.0, "actual_backward_flops": f, "seconds": s}
            for e, (a, f, s) in enumerate(zip(accs, flops, secs))]


def test_csv_roundtrip_and_summary(tmp_path):
    with report.CsvLog(tmp_path / "a.csv") as log:
        for r in rows([0.5, 0.7], [100.0, 20.0], [2.0, 1.0]):
            log.write(r)
    back = report.read_csv(tmp_path / "a.csv")
    assert back == rows([0.5, 0.7], [100.0, 20.0], [2.0, 1.0])
    s = report.run_summary(back)
    assert s["flop_ratio"] == pytest.approx(0.6) and s["final_accuracy"] == 0.7
    table = report.summary_table({"dense": rows([0.5, 0.6], [100.0, 100.0], [3.0, 3.0]),
                                  "ssprop": back})
    assert "0.600" in table and "0.500" in table  # FLOP ratio; time vs dense 3/6
    with pytest.raises(KeyError, match="lacks"):
        report.CsvLog(tmp_path / "b.csv").write({"epoch": 0})


def test_aggregate_and_plots(tmp_path):
    groups = {"dense": [rows([0.5, 0.6], [100.0] * 2, [2.0] * 2), rows([0.5, 0.8], [100.0] * 2, [2.0] * 2)],
              "ssprop": [rows([0.5, 0.7], [100.0, 20.0], [2.0, 1.0])] * 2}
    table = report.aggregate(groups, markdown=True)
    assert "| dense" in table and "70.00 ± 14.14" in table and "0.600" in table and "0.750" in table
    means, sds = report.mean_curves(groups)
    assert means["dense"][1]["test_accuracy"] == pytest.approx(0.7)
    png = report.plot_runs(means, tmp_path / "p.png", bands=sds)
    assert png.read_bytes()[:4] == b"\x89PNG"
    # The command line: plot and summary of CSV files.
    for name, rs in (("d", groups["dense"][0]), ("s", groups["ssprop"][0])):
        with report.CsvLog(tmp_path / f"{name}.csv") as log:
            for r in rs:
                log.write(r)
    assert report.main(["plot", str(tmp_path / "q.png"), f"d={tmp_path / 'd.csv'}", str(tmp_path / "s.csv")]) == 0
    assert (tmp_path / "q.png").is_file()
    assert report.main(["summary", f"d={tmp_path / 'd.csv'}", f"s={tmp_path / 's.csv'}"]) == 0
    assert report.main(["summary", f"x={tmp_path / 'missing.csv'}"]) == 1


def test_summary_without_time_leaves_out_the_seconds(tmp_path, capsys):
    with report.CsvLog(tmp_path / "d.csv") as log:
        for r in rows([0.5, 0.6], [100.0, 100.0], [3.0, 3.0]):
            log.write(r)
    assert report.main(["summary", "--no-time", f"dense={tmp_path / 'd.csv'}"]) == 0
    header, _, line = capsys.readouterr().out.splitlines()
    assert header.split("  ")[-1].strip() == "bwd FLOP ratio"
    assert line.split() == ["dense", "2", "60.00", "60.00", "1.000", "0.00", "1.000"]
    assert "train s" in report.summary_table({"dense": rows([0.5], [100.0], [3.0])})


def test_plot_panels_against_a_cumulated_column(tmp_path, monkeypatch):
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.axes import Axes
    drawn = []
    plot = Axes.plot

    def record(self, xs, ys, *args, **kwargs):
        drawn.append((self.get_xlabel(), list(xs), list(ys)))
        return plot(self, xs, ys, *args, **kwargs)

    monkeypatch.setattr(Axes, "plot", record)
    rs = rows([0.5, 0.7, 0.8], [100.0, 20.0, 30.0], [2.0, 1.0, 1.0])
    report.plot_runs({"s": rs}, tmp_path / "p.png", panels=[
        report.Panel("test_accuracy", "acc"),
        report.Panel("test_accuracy", "acc", False, "actual_backward_flops", "FLOPs", True),
        ("seconds", "s", True, "keep")])
    assert [d[1:] for d in drawn] == [([0, 1, 2], [0.5, 0.7, 0.8]),
                                      ([100, 120, 150], [0.5, 0.7, 0.8]),
                                      ([1, 1, 1], [2, 3, 4])]
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"
