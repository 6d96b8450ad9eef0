"""The Python package as users install it: a wheel built by pip from a copy of
the repository's tracked files (what a fresh clone holds), installed into a
fresh virtual environment, and imported outside the repository.

`pip wheel --no-build-isolation` builds against the torch already installed
(the usual way for PyTorch extensions), into <build>/package/wheel: a
persistent copy and build folder, so that later runs rebuild only what
changed, and ccache serves the first. The environment sees the system's
packages for torch (gigabytes) and nothing else of ssprop's: the test checks
that ssprop comes from the environment.

SSPROP_TEST_ISOLATED_BUILD=1 also runs plain `pip install .` from the copy
into an environment of its own (pip installs torch twice, into its build
environment and the new one: gigabytes of downloads, so not in CI)."""

import os
import re
import shutil
import subprocess
import sys
import venv
from importlib import metadata
from pathlib import Path

import pytest

SOURCE = Path(os.environ["SSPROP_SOURCE_DIR"])
WORK = Path(os.environ["SSPROP_BUILD_DIR"]) / "package" / "wheel"
CHECK = Path(__file__).resolve().parent / "check_installed.py"


def run(*cmd, **kwargs):
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done.stdout


def clean_env():
    """No way back to the repository: no PYTHONPATH, no library override."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SSPROP_TORCH_LIBRARY")}
    env["CCACHE_BASEDIR"] = str(WORK)
    return env


def copy_tracked_files(dest: Path) -> None:
    """The files a clone would hold, with modification times kept, so that an
    unchanged file does not rebuild."""
    files = run("git", "-C", SOURCE, "ls-files", "-z").split("\0")
    tracked = {f for f in files if f and (SOURCE / f).is_file()}
    if dest.exists():
        for old in dest.rglob("*"):
            rel = old.relative_to(dest).as_posix()
            if old.is_file() and rel not in tracked and not rel.startswith("build-python/"):
                old.unlink()
    for rel in tracked:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.stat().st_mtime != (SOURCE / rel).stat().st_mtime:
            shutil.copy2(SOURCE / rel, target)


def fresh_venv(path: Path, system_site_packages: bool) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    venv.EnvBuilder(with_pip=True, system_site_packages=system_site_packages).create(path)
    return path / "bin" / "python"


def check_installed(python: Path, tmp_path: Path) -> str:
    return run(python, CHECK, cwd=tmp_path, env=clean_env())


@pytest.fixture(scope="module")
def wheel() -> Path:
    src, dist = WORK / "src", WORK / "dist"
    copy_tracked_files(src)
    shutil.rmtree(dist, ignore_errors=True)
    run(sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "-w", dist,
        "-Ccmake.define.CMAKE_CXX_COMPILER_LAUNCHER=ccache",
        "-Ccmake.define.CMAKE_C_COMPILER_LAUNCHER=ccache", src, env=clean_env())
    (found,) = dist.glob("ssprop-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    python = fresh_venv(WORK / "venv", system_site_packages=True)
    run(python, "-m", "pip", "install", "-q", wheel, env=clean_env())
    return python


def test_wheel_requires_the_torch_it_was_built_against(wheel):
    requires = run(sys.executable, "-c",
                   "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); "
                   "print(next(z.read(n).decode() for n in z.namelist() "
                   "if n.endswith('.dist-info/METADATA')))", wheel)
    assert f"Requires-Dist: torch=={metadata.version('torch')}\n" in requires
    cmake_version = re.search(r"project\(ssprop VERSION ([0-9.]+)",
                              (SOURCE / "CMakeLists.txt").read_text()).group(1)
    assert f"\nVersion: {cmake_version}\n" in requires


def test_isolated_builds_use_the_pinned_torch():
    # pip's build environment installs pyproject.toml's build requirements.
    pins = [re.search(r'"torch==([^"]+)"', (SOURCE / "pyproject.toml").read_text()),
            re.search(r"^torch==(\S+)$", (SOURCE / "requirements.txt").read_text(), re.M)]
    assert all(pins) and pins[0].group(1) == pins[1].group(1), pins


def test_installed_wheel_matches_the_oracle(installed, tmp_path):
    out = check_installed(installed, tmp_path)
    version = run(installed, "-c", "from importlib.metadata import version; print(version('ssprop'))",
                  cwd=tmp_path, env=clean_env()).strip()
    assert out == f"ssprop {version}: gradient matches the oracle\n"


def test_other_torch_is_refused_at_import(installed, tmp_path):
    # Pretend the wheel was built against another torch: edit its pin.
    site = Path(run(installed, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                    env=clean_env()).strip())
    (meta,) = site.glob("ssprop-*.dist-info/METADATA")
    text = meta.read_text()
    meta.write_text(re.sub(r"Requires-Dist: torch==\S+", "Requires-Dist: torch==1.0.0", text))
    try:
        done = subprocess.run([str(installed), "-c", "import ssprop"], cwd=tmp_path,
                              env=clean_env(), capture_output=True, text=True)
    finally:
        meta.write_text(text)
    assert done.returncode != 0
    assert (f"ImportError: ssprop was built against torch 1.0.0, but torch "
            f"{metadata.version('torch')} is installed: its library") in done.stderr


@pytest.mark.skipif(os.environ.get("SSPROP_TEST_ISOLATED_BUILD") != "1",
                    reason="plain `pip install .` downloads torch twice: "
                           "set SSPROP_TEST_ISOLATED_BUILD=1 to run it")
def test_plain_pip_install_in_a_new_environment(tmp_path):
    src = WORK / "src"
    copy_tracked_files(src)
    python = fresh_venv(WORK / "isolated-venv", system_site_packages=False)
    run(python, "-m", "pip", "install", "-q", src, env=clean_env(), timeout=3600)
    assert "gradient matches the oracle" in check_installed(python, tmp_path)
