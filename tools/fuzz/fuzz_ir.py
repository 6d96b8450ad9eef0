#!/usr/bin/env python3
"""Structure-aware fuzzer for ssprop's compiler entry points.

Mutates valid ssprop IR (shapes, element types, geometry attributes, the
sparsity attribute, truncations, byte flips) and runs each mutant through
`ssprop-opt --ssprop-lower-to-gemm` and, when that succeeds, through both
code generators, `ssprop-translate --ssprop-to-cuda` and `--ssprop-to-cpu`
(the CPU kernels then through `ssprop-opt --ssprop-cpu-to-llvm`). Every input must end in success or in
diagnostics (exit code 0 or 1): a crash, an assertion, an LLVM fatal error or
a hang is a finding, saved under --findings.

    fuzz_ir.py --bin build/bin --corpus test/fuzz/corpus --seconds 60
"""
import argparse
import os
import random
import re
import subprocess
import sys
import time

NUMBER = re.compile(r"(?<![\w.#])-?\d+(?![\w.])")
ELEMENT_TYPES = ["f32", "f16", "bf16", "f64", "i32", "i8", "index"]
SPECIAL_NUMBERS = [0, 1, -1, 2, 3, 7, 64, 2**31 - 1, 2**31, 2**32, 2**40, 2**62, -(2**31)]
KEEP_VALUES = ["0.0", "1.0", "-0.5", "2.0", "1.0e-300", "0.999999", "nan", "inf",
               "0x7FF8000000000000", "1", "0", "0.4 : f32", "true"]
WORDS = ["topk", "random", "weight_only", "all", "foo", "", "keep", "select"]
CRASH_MARKERS = ("LLVM ERROR", "Assertion", "Stack dump", "PLEASE submit a bug report",
                 "Segmentation fault", "terminate called", "AddressSanitizer",
                 "runtime error:")


def mutate_number(text, rng):
    spans = list(NUMBER.finditer(text))
    if not spans:
        return text
    m = rng.choice(spans)
    value = rng.choice(SPECIAL_NUMBERS + [int(m.group()) + rng.choice([-1, 1])])
    return text[:m.start()] + str(value) + text[m.end():]


def mutate_type(text, rng):
    found = [m for m in re.finditer(r"x(f32|f16|bf16)>", text)]
    if not found:
        return text
    m = rng.choice(found)
    return text[:m.start(1)] + rng.choice(ELEMENT_TYPES) + text[m.end(1):]


def mutate_keep(text, rng):
    return re.sub(r"keep = [^,>]+", "keep = " + rng.choice(KEEP_VALUES), text, count=1)


def mutate_word(text, rng):
    return re.sub(r"select = \w+", "select = " + rng.choice(WORDS), text, count=1)


def mutate_array(text, rng):
    found = list(re.finditer(r"(stride|padding|dilation) = \[[^\]]*\]", text))
    if not found:
        return text
    m = rng.choice(found)
    values = ", ".join(str(rng.choice(SPECIAL_NUMBERS)) for _ in range(rng.choice([0, 1, 2, 3])))
    return text[:m.start()] + f"{m.group(1)} = [{values}]" + text[m.end():]


def mutate_dims(text, rng):
    """Makes one dimension dynamic or drops one, changing the rank."""
    found = list(re.finditer(r"tensor<([^>]*)>", text))
    if not found:
        return text
    m = rng.choice(found)
    dims = m.group(1).split("x")
    i = rng.randrange(len(dims) - 1) if len(dims) > 1 else 0
    if rng.random() < 0.5:
        dims[i] = "?"
    else:
        del dims[i]
    return text[:m.start(1)] + "x".join(dims) + text[m.end(1):]


def truncate(text, rng):
    return text[:rng.randrange(len(text))]


def flip_byte(text, rng):
    i = rng.randrange(len(text))
    return text[:i] + chr(rng.randrange(32, 127)) + text[i + 1:]


def delete_line(text, rng):
    lines = text.splitlines(keepends=True)
    del lines[rng.randrange(len(lines))]
    return "".join(lines)


def nest_deeply(text, rng):
    """Wraps the input in hundreds to thousands of modules, or nests an array or
    a type that deep: the parser recurses per level (the tools refuse more than
    512 levels before parsing)."""
    depth = rng.choice([rng.randrange(400, 600), rng.randrange(600, 6000)])
    kind = rng.randrange(3)
    if kind == 0:
        return "module {\n" * depth + text + "}\n" * depth
    if kind == 1:
        return f"module attributes {{ssprop.x = {'[' * depth}{']' * depth}}} {{\n{text}}}\n"
    return text + f"func.func private @deep(%a: {'tensor<' * depth}f32{'>' * depth})\n"


MUTATIONS = [mutate_number, mutate_number, mutate_number, mutate_type, mutate_keep,
             mutate_word, mutate_array, mutate_dims, truncate, flip_byte, delete_line,
             nest_deeply]


def generate_layer(rng):
    """A valid conv2d_backward with random geometry, sometimes extreme, so that
    mutants also reach the lowering and the emitter."""
    groups = rng.choice([1, 1, 1, 2, 3, 4])
    cin = groups * rng.choice([1, 2, 3, 8])
    cout = groups * rng.choice([1, 2, 5, 16, 3000])
    n = rng.choice([1, 2, 3, 1 << 16])
    kh, kw = rng.choice([1, 3, 5]), rng.choice([1, 2, 3])
    sh, sw = rng.choice([1, 2, 3]), rng.choice([1, 2])
    ph, pw = rng.choice([0, 1, 2]), rng.choice([0, 1])
    dh, dw = rng.choice([1, 2]), rng.choice([1, 3])
    h = rng.choice([dh * (kh - 1) + 1, 7, 16, 1 << 12])
    w = rng.choice([dw * (kw - 1) + 1, 5, 9])
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    t = rng.choice(["f32", "f16", "bf16"])
    keep = rng.choice(["1.0", "0.5", "0.2", "0.01", "1.0e-9", "0.999"])
    select = rng.choice(["topk", "random"])
    grads = rng.choice(["", ", grads = weight_only"])
    dy, x = f"tensor<{n}x{cout}x{ho}x{wo}x{t}>", f"tensor<{n}x{cin}x{h}x{w}x{t}>"
    wt, b = f"tensor<{cout}x{cin // groups}x{kh}x{kw}x{t}>", f"tensor<{cout}x{t}>"
    return (f"func.func @g(%dy: {dy}, %x: {x}, %w: {wt}) -> ({x}, {wt}, {b}) {{\n"
            f"  %r:3 = ssprop.conv2d_backward %dy, %x, %w stride = [{sh}, {sw}] "
            f"padding = [{ph}, {pw}] dilation = [{dh}, {dw}] groups = {groups} "
            f"sparsity = <keep = {keep}, select = {select}{grads}> : ({dy}, {x}, {wt}) "
            f"-> ({x}, {wt}, {b})\n"
            f"  return %r#0, %r#1, %r#2 : {x}, {wt}, {b}\n}}\n")


def run(command, stdin, timeout):
    try:
        done = subprocess.run(command, input=stdin, capture_output=True, text=True,
                              timeout=timeout, errors="replace")
    except subprocess.TimeoutExpired:
        return None, "timeout"
    return done, done.stderr


def check(tool, done, stderr):
    """A finding's description, or None when the tool behaved."""
    if done is None:
        return f"{tool}: hung"
    if done.returncode not in (0, 1):
        return f"{tool}: exit code {done.returncode}"
    for marker in CRASH_MARKERS:
        if marker in stderr:
            return f"{tool}: '{marker}' in its output"
    if done.returncode == 1 and "error" not in stderr:
        return f"{tool}: failed without a diagnostic"
    return None


def fuzz_one(text, args):
    opt = os.path.join(args.bin, "ssprop-opt")
    translate = os.path.join(args.bin, "ssprop-translate")
    done, stderr = run([opt, "--ssprop-lower-to-gemm", "-"], text, args.timeout)
    finding = check("ssprop-opt", done, stderr)
    if finding or done.returncode != 0:
        return finding, "opt-error" if not finding else "finding"
    lowered = done.stdout
    done, stderr = run([translate, "--ssprop-to-cuda"], lowered, args.timeout)
    finding = check("ssprop-translate --ssprop-to-cuda", done, stderr)
    if finding:
        return finding, "finding"
    cuda_ok = done.returncode == 0
    done, stderr = run([translate, "--ssprop-to-cpu"], lowered, args.timeout)
    finding = check("ssprop-translate --ssprop-to-cpu", done, stderr)
    if finding or done.returncode != 0:
        return finding, "finding" if finding else "translate-error"
    done, stderr = run([opt, "-split-input-file", "--ssprop-cpu-to-llvm", "-"], done.stdout,
                       args.timeout)
    finding = check("ssprop-opt --ssprop-cpu-to-llvm", done, stderr)
    if finding:
        return finding, "finding"
    ok = cuda_ok and done.returncode == 0
    return None, "ok" if ok else "translate-error"


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True, help="folder with ssprop-opt, ssprop-translate")
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=10)
    parser.add_argument("--findings", default="fuzz-findings")
    args = parser.parse_args(argv)

    seeds = []
    for name in sorted(os.listdir(args.corpus)):
        with open(os.path.join(args.corpus, name)) as f:
            seeds.append(f.read())
    if not seeds:
        sys.exit(f"no seed inputs in {args.corpus}")
    rng = random.Random(args.seed)
    outcomes, findings = {}, []
    deadline = time.monotonic() + args.seconds
    runs = 0
    while time.monotonic() < deadline:
        generated = rng.random() < 0.5
        text = generate_layer(rng) if generated else rng.choice(seeds)
        for _ in range(rng.choice([0, 1] if generated else [1, 1, 2, 3])):
            text = rng.choice(MUTATIONS)(text, rng)
        finding, outcome = fuzz_one(text, args)
        runs += 1
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if finding:
            os.makedirs(args.findings, exist_ok=True)
            path = os.path.join(args.findings, f"finding-{len(findings)}.mlir")
            with open(path, "w") as f:
                f.write(text)
            findings.append((finding, path))
            print(f"FINDING {finding}: {path}", flush=True)
    summary = ", ".join(f"{count} {name}" for name, count in sorted(outcomes.items()))
    print(f"fuzz_ir: {runs} inputs in {args.seconds:.0f} s ({summary})")
    print(f"{runs - len(findings)} passed, {len(findings)} failed")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
