"""ssprop.DropScheduler: the formulas against hand-computed tables, the
closed-form average against the mean of keep_at, the layers it drives, bad
configurations. (The C++ ssprop::DropScheduler computes through the same
library: test/torch/SchedulerTest.cpp.)"""

import copy
import itertools
import math
import pickle
import re

import pytest
import torch

import ssprop

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
    # min_keep unset: equal to keep, so linear stays at keep.
    (dict(mode="linear", keep=0.6, total_epochs=3), 4, [0.6] * 4),
    # E = 2: the line reaches min at e = 1; bar's E div 2 = 1.
    (dict(mode="linear", keep=0.6, min_keep=0.2, total_epochs=2), 3, [0.6, 0.2, 0.2]),
    (dict(mode="bar", keep=0.6, min_keep=0.2, total_epochs=2), 2, [0.6, 0.2]),
    # bar with E = 1: E div 2 = 0, min from the start.
    (dict(mode="bar", keep=0.6, min_keep=0.2, total_epochs=1), 2, [0.2, 0.2]),
    # cosine after warmup 2 with interleave: dense on e = 2, 4; the mode at e = 3, 5 (of E - 1 = 4).
    (dict(mode="cosine", keep=0.6, min_keep=0.2, total_epochs=5, warmup=2, interleave=True), 6,
     [1.0, 1.0, 1.0, 0.2 + 0.2 * (1 + math.cos(3 * PI / 4)), 1.0,
      0.2 + 0.2 * (1 + math.cos(5 * PI / 4))]),
    # bar after warmup: warmup wins over keep, then min from E div 2 = 2.
    (dict(mode="bar", keep=0.8, min_keep=0.3, total_epochs=6, warmup=1), 6,
     [1.0, 0.8, 0.8, 0.3, 0.3, 0.3]),
])
def test_by_epoch_tables(kwargs, n, table):
    assert epochs_of(ssprop.DropScheduler(None, **kwargs), n) == approx(table)


@pytest.mark.parametrize("kwargs, table", [
    (dict(mode="linear", keep=1.0, min_keep=0.2, period=4),
     [1.0, 0.8, 0.6, 0.4, 1.0, 0.8, 0.6, 0.4, 1.0]),
    (dict(mode="cosine", keep=1.0, min_keep=0.2, period=4),
     [0.2 + 0.4 * (1 + math.cos(PI * i / 4)) for i in range(9)]),
    (dict(mode="bar", keep=0.9, min_keep=0.1, period=5), [0.9, 0.9, 0.1, 0.1, 0.1, 0.9]),
    # T = 1: linear and bar stay at keep and min (i mod 1 = 0 < 1 div 2 is false); cosine alternates.
    (dict(mode="linear", keep=0.6, min_keep=0.2, period=1), [0.6, 0.6, 0.6]),
    (dict(mode="bar", keep=0.6, min_keep=0.2, period=1), [0.2, 0.2, 0.2]),
    (dict(mode="cosine", keep=0.6, min_keep=0.2, period=1), [0.6, 0.2, 0.6]),
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


# -- average_keep: closed form ------------------------------------------------

def _configs():
    for mode, by, interleave, warmup, epochs, keep, mn, period in itertools.product(
            ("constant", "linear", "cosine", "bar"), ("epoch", "iteration"), (False, True),
            (0, 1, 2, 7), (1, 2, 3, 5, 10), (1.0, 0.6), (None, 0.2), (1, 2, 3, 10)):
        if by == "iteration" and (mode == "constant" or interleave):
            continue
        if by == "epoch" and (period != 10 or (mode in ("linear", "cosine") and epochs < 2)):
            continue
        yield dict(mode=mode, keep=keep, min_keep=mn, total_epochs=epochs, by=by, period=period,
                   interleave=interleave, warmup=warmup)


def test_average_keep_is_the_mean_of_keep_at():
    n = 0
    for cfg in _configs():
        s = ssprop.DropScheduler(None, **cfg)
        epochs = cfg["total_epochs"]
        n += 1
        if cfg["by"] == "epoch":
            mean = sum(s.keep_at(e) for e in range(epochs)) / epochs
            assert s.average_keep() == approx(mean), cfg
            continue
        for ipe in (1, 3, 7):
            mean = sum(s.keep_at(i // ipe, i) for i in range(epochs * ipe)) / (epochs * ipe)
            assert s.average_keep(ipe) == approx(mean), (cfg, ipe)
    assert n > 1000


E18 = 10**18


@pytest.mark.parametrize("kwargs, ipe, want", [
    # Any number of epochs takes the same time (issue 20: this looped over them).
    (dict(mode="constant", keep=0.2, total_epochs=E18, interleave=True), 0, 0.6),
    (dict(mode="linear", keep=1.0, min_keep=0.2, total_epochs=E18), 0, 0.6),
    # cos(pi e / (E - 1)) sums to 0 over e = 0 .. E - 1.
    (dict(mode="cosine", keep=1.0, min_keep=0.2, total_epochs=E18), 0, 0.6),
    (dict(mode="bar", keep=0.8, min_keep=0.3, total_epochs=E18), 0, 0.55),
    (dict(mode="constant", keep=0.2, total_epochs=2 * E18, warmup=E18), 0, 0.6),
    # By iteration, 10^18 steps: whole periods of (1, .8, .6, .4), of the cosine over
    # 2T = 8 (mean 0), of bar's 2 keep and 3 min.
    (dict(mode="linear", keep=1.0, min_keep=0.2, total_epochs=10**9, by="iteration", period=4),
     10**9, 0.7),
    (dict(mode="cosine", keep=1.0, min_keep=0.2, total_epochs=10**9, by="iteration", period=4),
     10**9, 0.6),
    (dict(mode="bar", keep=0.9, min_keep=0.1, total_epochs=10**9, by="iteration", period=5),
     10**9, 0.42),
    # A period longer than the training: the first 10^9 steps of a line over T = 2 * 10^9.
    (dict(mode="linear", keep=1.0, min_keep=0.2, total_epochs=100, by="iteration",
          period=2 * 10**9), 10**7, 1.0 - 0.8 * (10**9 - 1) / 2 / (2 * 10**9)),
])
def test_average_keep_of_huge_trainings(kwargs, ipe, want):
    assert ssprop.DropScheduler(None, **kwargs).average_keep(ipe) == approx(want)


def test_average_keep_rejects_absurd_values():
    s = ssprop.DropScheduler(None, "linear", 1.0, 0.2, total_epochs=10**10, by="iteration")
    with pytest.raises(ValueError, match="^" + re.escape(
            "ssprop.DropScheduler: average_keep by iteration needs total_epochs * "
            "iterations_per_epoch <= 2^63 - 1 steps, got 10000000000 * 10000000000") + "$"):
        s.average_keep(10**10)
    with pytest.raises(ValueError, match=re.escape(
            "ssprop.DropScheduler: iterations_per_epoch must fit in 64 bits, got -" + str(2**64))):
        s.average_keep(-2**64)


@pytest.mark.parametrize("kwargs", [
    dict(mode="constant", keep=0.2),
    dict(mode="constant", keep=0.2, interleave=True, warmup=2),
    dict(mode="linear", keep=1.0, min_keep=0.2, total_epochs=7, interleave=True),
    dict(mode="cosine", keep=0.9, min_keep=0.1, total_epochs=9, warmup=3),
    dict(mode="bar", keep=0.6, min_keep=0.3, total_epochs=5),
    dict(mode="linear", keep=0.8, min_keep=0.2, by="iteration", period=5, warmup=1,
         total_epochs=4),
    dict(mode="cosine", keep=0.8, min_keep=0.2, by="iteration", period=6),
    dict(mode="bar", keep=0.8, min_keep=0.2, by="iteration", period=1)])
def test_distinct_keeps_are_those_keep_at_takes(kwargs):
    s = ssprop.DropScheduler(None, **kwargs)
    epochs = s.total_epochs or 20
    # Rounded: cosine's steps i and 2 period - i may differ in the last bit.
    seen = {round(s.keep_at(e, e * 37 + i), 12) for e in range(epochs) for i in range(37)}
    assert [round(k, 12) for k in s.distinct_keeps()] == sorted(seen, reverse=True)


def test_distinct_keeps_are_bounded():
    with pytest.raises(ValueError, match="^" + re.escape(
            "ssprop.DropScheduler: distinct_keeps by iteration lists period + 1 <= 1048576 "
            "steps, got period 1048576") + "$"):
        ssprop.DropScheduler(None, "bar", 0.5, by="iteration", period=2**20).distinct_keeps()
    assert ssprop.DropScheduler(None, "bar", 0.5, 0.25, by="iteration",
                                period=2**20 - 1).distinct_keeps() == [0.5, 0.25]


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
    # Python only: the library takes 64-bit integers.
    (dict(mode="constant", keep=0.5, total_epochs=10**19),
     "total_epochs must fit in 64 bits, got 10000000000000000000"),
]


@pytest.mark.parametrize("case", range(len(SCHEDULER_ERRORS)))
def test_scheduler_errors(case):
    cfg, message = SCHEDULER_ERRORS[case]
    with pytest.raises(ValueError, match="^" + re.escape("ssprop.DropScheduler: " + message) + "$"):
        ssprop.DropScheduler(None, **cfg)


@pytest.mark.parametrize("cfg, message", [
    (dict(mode=3, keep=0.5), "mode must be a str, got 3"),
    (dict(mode="constant", keep=True), "keep must be a number, got True"),
    (dict(mode="constant", keep="0.5"), "keep must be a number, got '0.5'"),
    (dict(mode="linear", keep=0.5, min_keep=False, total_epochs=3),
     "min_keep must be a number, got False"),
    (dict(mode="constant", keep=0.5, total_epochs=2.0), "total_epochs must be an int, got 2.0"),
    (dict(mode="linear", keep=0.5, by="iteration", period=True), "period must be an int, got True"),
    (dict(mode="constant", keep=0.5, warmup=0.5), "warmup must be an int, got 0.5"),
    (dict(mode="constant", keep=0.5, by=None), "by must be a str, got None"),
])
def test_scheduler_type_errors(cfg, message):
    # torch's argument conversion would take these as numbers or truncate them.
    with pytest.raises(TypeError, match="^" + re.escape("ssprop.DropScheduler: " + message) + "$"):
        ssprop.DropScheduler(None, **cfg)


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


def test_scheduler_copies_pickles_and_prints():
    s = ssprop.DropScheduler(None, "linear", 1.0, 0.2, total_epochs=5)
    s.step_epoch(2)
    text = ("DropScheduler(mode='linear', keep=1.0, min_keep=0.2, total_epochs=5, by='epoch', "
            "period=10, interleave=False, warmup=0, layers=0)")
    assert repr(s) == text
    for c in (copy.deepcopy(s), pickle.loads(pickle.dumps(s))):
        assert repr(c) == text and c.state_dict() == {"epoch": 2, "iteration": 0}
        assert c.current_keep == approx(0.6) and c.keep_at(3) == approx(0.4)
    # The options are the schedule's: read-only.
    with pytest.raises(AttributeError):
        s.keep = 0.5
