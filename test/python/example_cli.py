"""Helpers of the trainer tests (test_train_python.py, test_ddpm.py): skip
markers for the data set and the bridge, load an example script as a module,
expect an argparse usage error."""

import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "python") not in sys.path:
    sys.path.insert(0, str(ROOT / "python"))

from ssprop_train import bridge, data  # noqa: E402

needs_data = pytest.mark.skipif(
    not any(Path(d).is_dir() for d in data.DEFAULT_DIRS) and not os.environ.get(data.ENV_VAR),
    reason="Fashion-MNIST is not installed (Debian package dataset-fashion-mnist)")
needs_bridge = pytest.mark.skipif(not bridge.available(),
                                  reason="the ssprop package / libssprop_torch is not built")


def load_example(name: str):
    """examples/<name>.py as a module (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"ssprop_example_{name}",
                                                  ROOT / "examples" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def expect_usage_error(capsys, main, argv, message: str) -> None:
    """``main(argv)`` exits with status 2 and ``message`` on stderr."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err, err
