"""ssprop.DropScheduler: the formulas against hand-computed tables, the
Python scheduler against the C++ one (through torch.ops.ssprop._scheduler_*),
the layers it drives, bad configurations."""

import itertools
import math
import re

import pytest
import torch

import ssprop
from ssprop.ops import _scheduler_average_keep, _scheduler_keep

PI = math.pi


def epochs_of(s, n):
    return [s.keep_at(e, 0) for e in range(n)]


def approx(values):
    return pytest.approx(values, abs=1e-12)


@pytest.mark.parametrize("kwargs, n, table", [
    (dict(mode="constant", keep=0.4, total_epochs=4), 4, [0.4] * 4),
    (dict(mode="linear", keep=1.0, min_keep=0.2, total_epochs=5), 7,
     [1.0, 0.8, 0.6, 0.4, 0.2, 0.2, 0.2]),
    (dict(mode="cosine", keep=1.0, min_keep=0.2, total_epochs=5), 5,
     [1.0, 0.2 + 0.4 * (1 + math.cos(PI / 4)), 0.6, 0.2 + 0.4 * (1 + math.cos(3 * PI / 4)), 0.2]),
    (dict(mode="bar", keep=0.8, min_keep=0.3, total_epochs=5), 5, [0.8, 0.8, 0.3, 0.3, 0.3]),
    (dict(mode="linear", keep=1.0, min_keep=0.2, total_epochs=5, warmup=2), 5,
     [1.0, 1.0, 0.6, 0.4, 0.2]),
    (dict(mode="linear", keep=1.0, min_keep=0.2, total_epochs=5, warmup=1, interleave=True), 5,
     [1.0, 1.0, 0.6, 1.0, 0.2]),
    (dict(mode="constant", keep=0.2, total_epochs=6, interleave=True), 6,
     [1.0, 0.2, 1.0, 0.2, 1.0, 0.2]),
])
def test_by_epoch_tables(kwargs, n, table):
    assert epochs_of(ssprop.DropScheduler(None, **kwargs), n) == approx(table)


@pytest.mark.parametrize("kwargs, table", [
    (dict(mode="linear", keep=1.0, min_keep=0.2, period=4),
     [1.0, 0.8, 0.6, 0.4, 1.0, 0.8, 0.6, 0.4, 1.0]),
    (dict(mode="cosine", keep=1.0, min_keep=0.2, period=4),
     [0.2 + 0.4 * (1 + math.cos(PI * i / 4)) for i in range(9)]),
    (dict(mode="bar", keep=0.9, min_keep=0.1, period=5), [0.9, 0.9, 0.1, 0.1, 0.1, 0.9]),
])
def test_by_iteration_tables(kwargs, table):
    s = ssprop.DropScheduler(None, by="iteration", **kwargs)
    assert [s.keep_at(5, i) for i in range(len(table))] == approx(table)
    assert s.keep_at(5, 2) == approx(table[2])


def test_by_iteration_warmup_counts_epochs():
    s = ssprop.DropScheduler(None, "linear", 1.0, 0.2, by="iteration", period=4, warmup=1)
    assert s.keep_at(0, 3) == 1.0
    assert s.keep_at(1, 3) == approx(0.4)


def test_average_keep_headline():
    # constant 0.2 + interleave over an even number of epochs: 0.6, i.e. 40% less
    # backward work in the convolutions.
    for epochs in (2, 10, 100):
        s = ssprop.DropScheduler(None, "constant", 0.2, total_epochs=epochs, interleave=True)
        assert s.average_keep() == approx(0.6)
    assert ssprop.DropScheduler(None, "constant", 0.2, total_epochs=3, interleave=True) \
        .average_keep() == approx(2.2 / 3)
    assert ssprop.DropScheduler(None, "linear", 1.0, 0.2, total_epochs=5).average_keep() == approx(0.6)
    s = ssprop.DropScheduler(None, "linear", 1.0, 0.2, total_epochs=2, by="iteration", period=4)
    assert s.average_keep(4) == approx(0.7)


# -- C++ and Python agree exactly --------------------------------------------

def _configs():
    for mode, by, interleave, warmup, epochs, keep, mn, period in itertools.product(
            ("constant", "linear", "cosine", "bar"), ("epoch", "iteration"), (False, True),
            (0, 2), (2, 5, 10), (1.0, 0.6), (None, 0.2), (3, 10)):
        if by == "iteration" and (mode == "constant" or interleave):
            continue
        if by == "epoch" and period != 10:
            continue
        yield dict(mode=mode, keep=keep, min_keep=mn, total_epochs=epochs, by=by, period=period,
                   interleave=interleave, warmup=warmup)


def test_cpp_and_python_schedulers_agree():
    points = [(e, i) for e in range(13) for i in (0, 1, 2, 5, 7, 10, 23, 100)]
    es, its = zip(*points)
    n = 0
    for cfg in _configs():
        py = ssprop.DropScheduler(None, **cfg)
        cpp = _scheduler_keep(cfg["mode"], cfg["keep"], cfg["min_keep"], cfg["total_epochs"],
                              cfg["by"], cfg["period"], cfg["interleave"], cfg["warmup"], es, its)
        assert cpp == [py.keep_at(e, i) for e, i in points], cfg  # bit for bit
        ipe = 3 if cfg["by"] == "iteration" else 0
        assert _scheduler_average_keep(cfg["mode"], cfg["keep"], cfg["min_keep"],
                                       cfg["total_epochs"], cfg["by"], cfg["period"],
                                       cfg["interleave"], cfg["warmup"], ipe) \
            == py.average_keep(ipe), cfg
        n += 1
    assert n > 100


SCHEDULER_ERRORS = [
    (dict(mode="exp", keep=0.5), 'mode must be "constant", "linear", "cosine" or "bar", got "exp"'),
    (dict(mode="constant", keep=0.5, by="step"), 'by must be "epoch" or "iteration", got "step"'),
    (dict(mode="constant", keep=0.0), "keep must be in (0, 1], got 0"),
    (dict(mode="constant", keep=1.5), "keep must be in (0, 1], got 1.5"),
    (dict(mode="linear", keep=0.5, min_keep=0.0, total_epochs=3), "min_keep must be in (0, 1], got 0"),
    (dict(mode="linear", keep=0.2, min_keep=0.5, total_epochs=3),
     "min_keep must be <= keep, got min_keep 0.5 > keep 0.2"),
    (dict(mode="linear", keep=0.5, by="iteration", period=0), "period must be >= 1, got 0"),
    (dict(mode="constant", keep=0.5, warmup=-1), "warmup must be >= 0, got -1"),
    (dict(mode="constant", keep=0.5, total_epochs=-2), "total_epochs must be >= 0, got -2"),
    (dict(mode="linear", keep=0.5, total_epochs=1), "total_epochs must be >= 2 for linear, got 1"),
    (dict(mode="cosine", keep=0.5), "total_epochs must be >= 2 for cosine, got 0"),
    (dict(mode="bar", keep=0.5), "total_epochs must be >= 1 for bar, got 0"),
    (dict(mode="constant", keep=0.5, by="iteration"),
     'mode "constant" is not available by iteration (use by="epoch")'),
    (dict(mode="linear", keep=0.5, by="iteration", interleave=True),
     "interleave applies by epoch only, not by iteration"),
]


@pytest.mark.parametrize("case", range(len(SCHEDULER_ERRORS)))
def test_scheduler_errors_python_and_cpp(case):
    cfg, message = SCHEDULER_ERRORS[case]
    with pytest.raises(ValueError, match="^" + re.escape("ssprop.DropScheduler: " + message) + "$"):
        ssprop.DropScheduler(None, **cfg)
    full = dict(min_keep=None, total_epochs=0, by="epoch", period=10, interleave=False, warmup=0)
    full.update(cfg)
    with pytest.raises(RuntimeError, match="^" + re.escape("ssprop::DropScheduler: " + message) + "$"):
        _scheduler_keep(full["mode"], full["keep"], full["min_keep"], full["total_epochs"],
                        full["by"], full["period"], full["interleave"], full["warmup"], [0], [0])


def test_scheduler_usage_errors():
    s = ssprop.DropScheduler(None, "constant", 0.5)
    with pytest.raises(ValueError, match=re.escape("ssprop.DropScheduler: epoch must be >= 0, got -1")):
        s.keep_at(-1)
    with pytest.raises(ValueError, match=re.escape(
            "ssprop.DropScheduler: average_keep needs total_epochs >= 1, got 0")):
        s.average_keep()
    with pytest.raises(ValueError, match=re.escape(
            "ssprop.DropScheduler: the model has no ssprop layer")):
        ssprop.DropScheduler(torch.nn.Linear(2, 2), "constant", 0.5)
    with pytest.raises(TypeError, match=re.escape(
            "ssprop.DropScheduler: layer 0 is not an ssprop.nn.Conv2d or ssprop.nn.Linear "
            "(got Linear)")):
        ssprop.DropScheduler([torch.nn.Linear(2, 2)], "constant", 0.5)


def test_scheduler_drives_layers():
    model = ssprop.convert(torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten(),
                                               torch.nn.Linear(2, 2)))
    s = ssprop.DropScheduler(model, "constant", 0.2, total_epochs=4, interleave=True)

    def keeps():
        return model[0].keep, model[2].keep

    assert keeps() == (1.0, 1.0)  # epoch 0 applied on construction
    assert s.step() == 0.2 and keeps() == (0.2, 0.2) and s.epoch == 1
    s.step_epoch(2)
    assert keeps() == (1.0, 1.0) and s.current_keep == 1.0
    it = ssprop.DropScheduler([model[0]], "linear", 1.0, 0.5, by="iteration", period=2)
    it.step_iteration(1)
    assert model[0].keep == 0.75
    it.step()
    assert it.iteration == 2 and model[0].keep == 1.0
    state = it.state_dict()
    it2 = ssprop.DropScheduler([model[0]], "linear", 1.0, 0.5, by="iteration", period=2)
    it2.load_state_dict(dict(state, iteration=3))
    assert model[0].keep == 0.75
