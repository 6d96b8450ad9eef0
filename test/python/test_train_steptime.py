"""python/ssprop_train/steptime.py: the alternating-step timer of the demo, of
docs/results/step_timing.py and of the experiment scripts. Timings themselves
are never asserted: the tests check what is timed (every keep and the dense
model, the medians' count), the interpolation in keep that turns epochs into
seconds, the JSON round trip and the flag errors."""

import pytest

from example_cli import needs_bridge, needs_data  # noqa: E402
from ssprop_train import steptime  # noqa: E402


def times():
    return steptime.StepTimes("cnn", 32, 128, 1, 10, 100.0, 60.0,
                              step={1.0: 110.0, 0.5: 80.0, 0.2: 50.0},
                              backward={1.0: 66.0, 0.5: 40.0, 0.2: 20.0})


def test_step_time_between_measured_keeps_is_linear():
    t = times()
    assert t.step_ms_at(1.0) == 110.0 and t.step_ms_at(0.2) == 50.0
    assert t.step_ms_at(1.0, ssprop=False) == t.step_ms_at(0.2, ssprop=False) == 100.0
    assert t.step_ms_at(0.35) == pytest.approx(65.0)
    assert t.step_ms_at(0.75) == pytest.approx(95.0)
    assert t.epoch_seconds(0.35, 40) == pytest.approx(2.6)
    assert t.epoch_seconds(1.0, 40, ssprop=False) == pytest.approx(4.0)
    assert t.ratio(0.2) == 0.5 and t.ratio(0.5, "backward") == pytest.approx(2 / 3)
    assert t.ratio(1.0) == pytest.approx(1.1)
    with pytest.raises(ValueError, match=r"keep 0.1 outside the measured keeps 0.2..1.0"):
        t.step_ms_at(0.1)


def test_json_round_trip(tmp_path):
    t = times()
    assert steptime.StepTimes.load(t.save(tmp_path / "t.json")) == t


def test_format_names_dense_and_the_headline_estimate():
    lines = steptime.format_times(times()).splitlines()
    assert lines[2].split() == ["dense", "100.0", "60.0", "1.000", "1.000"]
    assert lines[3].split() == ["keep", "1", "110.0", "66.0", "1.100", "1.100"]
    assert lines[5].split() == ["keep", "0.2", "50.0", "20.0", "0.500", "0.333"]
    # Every other epoch at keep 1 (the ssProp model), the others at 0.2.
    assert lines[6].endswith("step-time ratio ~ 0.800")


@needs_data
@needs_bridge
def test_measure_times_the_dense_model_and_every_keep(tmp_path, capsys):
    out = tmp_path / "t.json"
    assert steptime.main(["--width", "4", "--keep", "0.5", "0.25", "--batch-size", "8",
                          "--steps", "3", "--warmup", "1", "--threads", "1",
                          "--json", str(out)]) == 0
    t = steptime.StepTimes.load(out)
    assert (t.model, t.width, t.batch_size, t.threads, t.steps) == ("cnn", 4, 8, 1, 3)
    assert sorted(t.step) == sorted(t.backward) == [0.25, 0.5, 1.0]
    assert all(0 < t.backward[k] < t.step[k] for k in t.step)
    assert 0 < t.dense_backward < t.dense_step
    assert "median of 3 alternating steps" in capsys.readouterr().out


@needs_data
@needs_bridge
def test_unet_steps_run():
    t = steptime.measure("unet", 4, (0.5,), batch_size=4, steps=1, warmup=0)
    assert sorted(t.step) == [0.5, 1.0]


@pytest.mark.parametrize("argv,message", [
    (["--keep", "0"], "--keep must be in (0, 1], got 0.0"),
    (["--steps", "0"], "--steps must be >= 1, got 0"),
    (["--warmup", "-1"], "--warmup must be >= 0, got -1"),
    (["--model", "vgg"], "invalid choice: 'vgg'"),
])
def test_bad_flags(capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        steptime.main(argv)
    assert exc.value.code == 2 and message in capsys.readouterr().err
