"""The installed CMake package: `cmake --install` of the build into a prefix,
the prefix moved elsewhere (relocatable), then a LibTorch project outside the
tree (consumer/) finds it with find_package(ssprop), links ssprop::torch and
trains one step of an ssprop::nn::Conv2d against the oracle.

CTest runs it with $SSPROP_BUILD_DIR; its files stay in <build>/package/cmake
so that a second run rebuilds the consumer incrementally."""

import os
import shutil
import subprocess
from pathlib import Path

import torch.utils

BUILD = Path(os.environ["SSPROP_BUILD_DIR"])
WORK = BUILD / "package" / "cmake"
CONSUMER = Path(__file__).resolve().parent / "consumer"


def run(*cmd, **kwargs):
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def installed_prefix() -> Path:
    staging, prefix = WORK / "staging", WORK / "prefix"
    for old in (staging, prefix):
        shutil.rmtree(old, ignore_errors=True)
    run("cmake", "--install", BUILD, "--prefix", staging)
    staging.rename(prefix)  # nothing may point back to where it was installed
    return prefix


def test_tools_print_the_version():
    prefix = installed_prefix()
    version = run(prefix / "bin" / "ssprop-compile", "--version").strip()
    assert version.startswith("ssprop ")
    for tool in ("ssprop-opt", "ssprop-translate", "ssprop-train"):
        assert run(prefix / "bin" / tool, "--version").strip() == version


def test_find_package_consumer_trains_one_step():
    prefix = installed_prefix()
    build = WORK / "consumer"
    run("cmake", "-S", CONSUMER, "-B", build, "-G", "Ninja",
        f"-DCMAKE_PREFIX_PATH={prefix};{torch.utils.cmake_prefix_path}",
        "-DCMAKE_BUILD_TYPE=Release", "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache")
    run("cmake", "--build", build)
    out = run(build / "train_one_step")
    version = run(prefix / "bin" / "ssprop-compile", "--version").split()[1]
    assert out == f"trained one step (ssprop {version})\n"
