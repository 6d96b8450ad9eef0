# -*- Python -*-
import os
import sys

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "SSPROP"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "corpus", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.ssprop_obj_root, "test")
config.substitutions.append(("%ssprop_src_root", os.path.dirname(config.test_source_root)))
config.substitutions.append(("%python", sys.executable))
config.substitutions.append(("%ssprop_version", config.ssprop_version))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

tool_dirs = [config.ssprop_tools_dir, config.llvm_tools_dir]
tools = [
    ToolSubst("FileCheck", unresolved="fatal"),
    ToolSubst("not", unresolved="fatal"),
    ToolSubst("count", unresolved="fatal"),
    ToolSubst("ssprop-opt", unresolved="fatal"),
    ToolSubst("ssprop-translate", unresolved="fatal"),
    ToolSubst("ssprop-compile", unresolved="fatal"),
    ToolSubst("ssprop-train", unresolved="fatal"),
]
llvm_config.add_tool_substitutions(tools, tool_dirs)
