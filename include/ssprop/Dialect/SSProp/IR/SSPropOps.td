//===- SSPropOps.td - ssprop operations --------------------*- tablegen -*-===//

#ifndef SSPROP_DIALECT_SSPROP_IR_SSPROPOPS_TD
#define SSPROP_DIALECT_SSPROP_IR_SSPROPOPS_TD

include "ssprop/Dialect/SSProp/IR/SSPropBase.td"
include "ssprop/Dialect/SSProp/IR/SSPropAttrs.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

/// Every ssprop tensor holds one of the float formats of training.
def SSProp_Tensor4D : TensorRankOf<[F32, F16, BF16], [4]>;
def SSProp_Tensor1D : TensorRankOf<[F32, F16, BF16], [1]>;
def SSProp_ScoreTensor : TensorRankOf<[F32], [1]>;
def SSProp_IndexTensor : TensorRankOf<[I32], [1]>;

/// Geometry of a 2-D convolution, shared by the ops that compute its gradients.
defvar SSProp_ConvGeometry = (ins
    DenseI64ArrayAttr:$stride,
    DenseI64ArrayAttr:$padding,
    DenseI64ArrayAttr:$dilation,
    I64Attr:$groups);

/// Ops whose results print with names (`%score`, `%kept`) instead of numbers.
defvar SSProp_NamedResults =
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmResultNames"]>;

/// The random generator that `ssprop.random_seed` draws from.
def SSProp_GeneratorResource : Resource<"::mlir::ssprop::GeneratorResource">;

def SSProp_Conv2DBackwardOp : SSProp_Op<"conv2d_backward", [
    Pure, SSProp_NamedResults]> {
  let summary = "2-D convolution backward with channel sparsity";
  let description = [{
    The backward of `y = conv2d(input, weight, bias, stride, padding, dilation,
    groups)` (NCHW, weight `[Cout, Cin / groups, KH, KW]`, as in PyTorch), given
    `grad_output = dL/dy` of shape `[N, Cout, Ho, Wo]` with

    ```
    Ho = floor((H + 2 * padding[0] - dilation[0] * (KH - 1) - 1) / stride[0]) + 1
    Wo = floor((W + 2 * padding[1] - dilation[1] * (KW - 1) - 1) / stride[1]) + 1
    ```

    Only the output channels chosen by `sparsity` are propagated: with `idx`
    the kept channels,

    - `grad_weight[idx] = wgrad(input, grad_output[:, idx])`, zero elsewhere;
    - `grad_bias[idx] = sum over (N, Ho, Wo) of grad_output[:, idx]`, zero elsewhere;
    - `grad_input = dgrad(weight[idx], grad_output[:, idx])`, or the dense input
      gradient when `sparsity` has `grads = weight_only`.

    Equivalently: the dense backward of `grad_output` with the unselected
    channels set to zero. Kept channels may fall unevenly across groups.

    Example:

    ```mlir
    %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
        stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
        sparsity = <keep = 0.4, select = topk>
        : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
        -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
    ```

    The verifier checks every shape relation above wherever the dimensions
    involved are static; dynamic (`?`) dimensions are accepted.
  }];

  let arguments = (ins
    SSProp_Tensor4D:$grad_output,
    SSProp_Tensor4D:$input,
    SSProp_Tensor4D:$weight,
    DenseI64ArrayAttr:$stride,
    DenseI64ArrayAttr:$padding,
    DenseI64ArrayAttr:$dilation,
    I64Attr:$groups,
    SSProp_SparsityAttr:$sparsity);
  let results = (outs
    SSProp_Tensor4D:$grad_input,
    SSProp_Tensor4D:$grad_weight,
    SSProp_Tensor1D:$grad_bias);

  let assemblyFormat = [{
    $grad_output `,` $input `,` $weight
    `stride` `=` $stride `padding` `=` $padding `dilation` `=` $dilation
    `groups` `=` $groups `sparsity` `=` $sparsity attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Mid-level ops: what --ssprop-lower-to-gemm produces and the code generator
// consumes. Every one is a reduction, a selection, a gathered GEMM or a scatter.
//===----------------------------------------------------------------------===//

def SSProp_ChannelScoreOp : SSProp_Op<"channel_score", [Pure, SSProp_NamedResults]> {
  let summary = "mean absolute value of each channel";
  let description = [{
    `score[c] = mean over (n, h, w) of |grad_output[n, c, h, w]|`, accumulated
    and returned in f32. The importance of each output channel.

    ```mlir
    %score = ssprop.channel_score %dy : tensor<8x16x32x32xf16> -> tensor<16xf32>
    ```
  }];
  let arguments = (ins SSProp_Tensor4D:$grad_output);
  let results = (outs SSProp_ScoreTensor:$score);
  let assemblyFormat = [{
    $grad_output attr-dict `:` type($grad_output) `->` type($score)
  }];
  let hasVerifier = 1;
}

def SSProp_SelectTopKOp : SSProp_Op<"select_topk", [Pure, SSProp_NamedResults]> {
  let summary = "indices of the k largest scores";
  let description = [{
    The indices of the `k` largest entries of `score`, in ascending order (ties
    go to the lower index). `1 <= k <= size(score)`.

    ```mlir
    %idx = ssprop.select_topk %score k = 6 : tensor<16xf32> -> tensor<6xi32>
    ```
  }];
  let arguments = (ins SSProp_ScoreTensor:$score, I64Attr:$k);
  let results = (outs SSProp_IndexTensor:$indices);
  let assemblyFormat = [{
    $score `k` `=` $k attr-dict `:` type($score) `->` type($indices)
  }];
  let hasVerifier = 1;
}

def SSProp_RandomSeedOp : SSProp_Op<"random_seed", [SSProp_NamedResults,
    MemoryEffects<[MemRead<SSProp_GeneratorResource>,
                   MemWrite<SSProp_GeneratorResource>]>]> {
  let summary = "a fresh seed from the caller's random generator";
  let description = [{
    A seed supplied at run time: the runtime draws it from the framework's
    generator at each launch (in PyTorch, the default generator, so
    `torch.manual_seed` reproduces the selection). Each op draws its own seed:
    two `random_seed` ops are never merged.

    ```mlir
    %seed = ssprop.random_seed : i64
    ```
  }];
  let results = (outs I64:$seed);
  let assemblyFormat = "attr-dict `:` type($seed)";
}

def SSProp_SelectRandomOp : SSProp_Op<"select_random", [Pure, SSProp_NamedResults]> {
  let summary = "k channels drawn at random";
  let description = [{
    The first `k` entries of a random permutation of `[0, channels)` determined
    by `seed`, returned in ascending order. Scores are not used.

    ```mlir
    %idx = ssprop.select_random %seed k = 6 of 16 : tensor<6xi32>
    ```
  }];
  let arguments = (ins I64:$seed, I64Attr:$k, I64Attr:$channels);
  let results = (outs SSProp_IndexTensor:$indices);
  let assemblyFormat = [{
    $seed `k` `=` $k `of` $channels attr-dict `:` type($indices)
  }];
  let hasVerifier = 1;
}

def SSProp_GroupOffsetsOp : SSProp_Op<"group_offsets", [Pure, SSProp_NamedResults]> {
  let summary = "where each group's kept channels start in a sorted index list";
  let description = [{
    For ascending channel `indices` and channels split into `groups` groups of
    `group_size` consecutive channels: `offsets[g]` is the number of indices
    below `g * group_size`, so the kept channels of group `g` are
    `indices[offsets[g] .. offsets[g + 1])`. This makes the uneven split of a
    top-k selection across groups explicit for grouped dgrad.

    ```mlir
    %off = ssprop.group_offsets %idx groups = 4 size = 8 : tensor<9xi32> -> tensor<5xi32>
    ```
  }];
  let arguments = (ins SSProp_IndexTensor:$indices, I64Attr:$groups,
                       I64Attr:$group_size);
  let results = (outs SSProp_IndexTensor:$offsets);
  let assemblyFormat = [{
    $indices `groups` `=` $groups `size` `=` $group_size attr-dict
    `:` type($indices) `->` type($offsets)
  }];
  let hasVerifier = 1;
}

def SSProp_ChannelSumOp : SSProp_Op<"channel_sum", [Pure]> {
  let summary = "per-channel sum: the bias gradient";
  let description = [{
    `result[i] = sum over (n, h, w) of grad_output[n, c_i, h, w]`, accumulated
    in `acc`, where `c_i = indices[i]` when `gather` is given and `c_i = i`
    otherwise. Only the gathered channels are read.

    ```mlir
    %db = ssprop.channel_sum %dy gather %idx acc = f32
        : (tensor<8x16x32x32xf32>, tensor<6xi32>) -> tensor<6xf32>
    ```
  }];
  let arguments = (ins SSProp_Tensor4D:$grad_output,
                       Optional<SSProp_IndexTensor>:$indices, TypeAttr:$acc);
  let results = (outs SSProp_Tensor1D:$result);
  let assemblyFormat = [{
    $grad_output (`gather` $indices^)? `acc` `=` $acc attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def SSProp_DgradOp : SSProp_Op<"dgrad", [Pure, AttrSizedOperandSegments]> {
  let summary = "input gradient of a convolution as an implicit GEMM";
  let description = [{
    `grad_input = dgrad(weight[idx], grad_output[:, idx])`: the gradient of the
    convolution's input, reading only the output channels `idx` (all channels
    without `gather`). Per group: `M = N * H * W`, `N = Cin / groups`,
    `K = k * KH * KW` where `k` counts the group's kept channels.

    With `gather` on a grouped convolution, `group_offsets` (from
    `ssprop.group_offsets`) tells which slice of the ascending index list falls
    in each group; `gemm.k` is then an upper bound.

    ```mlir
    %gi = ssprop.dgrad %dy, %w gather %idx
        stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
        gemm = <m = 8192, n = 16, k = 54, acc = f32, addressing = im2col>
        : (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<6xi32>)
        -> tensor<8x16x32x32xf32>
    ```
  }];
  let arguments = !con((ins SSProp_Tensor4D:$grad_output,
                            SSProp_Tensor4D:$weight,
                            Optional<SSProp_IndexTensor>:$indices,
                            Optional<SSProp_IndexTensor>:$group_offsets),
                       SSProp_ConvGeometry,
                       (ins SSProp_GemmAttr:$gemm));
  let results = (outs SSProp_Tensor4D:$grad_input);
  let assemblyFormat = [{
    $grad_output `,` $weight (`gather` $indices^)?
    (`group_offsets` $group_offsets^)?
    `stride` `=` $stride `padding` `=` $padding `dilation` `=` $dilation
    `groups` `=` $groups `gemm` `=` $gemm attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def SSProp_WgradOp : SSProp_Op<"wgrad", [Pure]> {
  let summary = "weight gradient of the kept output channels as an implicit GEMM";
  let description = [{
    `grad_weight_rows[i] = wgrad(input, grad_output[:, idx[i]])`: one row per
    kept output channel (per output channel without `gather`), each reading the
    input channels of its own group. `M = rows`, `N = Cin / groups * KH * KW`,
    `K = N * Ho * Wo` (split-K is the code generator's choice). The rows are
    compact; `ssprop.scatter_channels` places them.

    ```mlir
    %rows = ssprop.wgrad %x, %dy gather %idx
        stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
        gemm = <m = 6, n = 144, k = 8192, acc = f32, addressing = im2col>
        : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<6xi32>)
        -> tensor<6x16x3x3xf32>
    ```
  }];
  let arguments = !con((ins SSProp_Tensor4D:$input,
                            SSProp_Tensor4D:$grad_output,
                            Optional<SSProp_IndexTensor>:$indices),
                       SSProp_ConvGeometry,
                       (ins SSProp_GemmAttr:$gemm));
  let results = (outs SSProp_Tensor4D:$grad_weight);
  let assemblyFormat = [{
    $input `,` $grad_output (`gather` $indices^)?
    `stride` `=` $stride `padding` `=` $padding `dilation` `=` $dilation
    `groups` `=` $groups `gemm` `=` $gemm attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def SSProp_ScatterChannelsOp : SSProp_Op<"scatter_channels", [Pure]> {
  let summary = "place compact per-channel rows into a zero-filled tensor";
  let description = [{
    `result[indices[i]] = rows[i]` along the leading dimension; every other
    entry of `result` is zero. Converts the element type when it differs (an f32
    accumulator to f16, say).

    ```mlir
    %gw = ssprop.scatter_channels %rows, %idx
        : (tensor<6x16x3x3xf32>, tensor<6xi32>) -> tensor<16x16x3x3xf32>
    ```
  }];
  let arguments = (ins TensorOf<[F32, F16, BF16]>:$rows,
                       SSProp_IndexTensor:$indices);
  let results = (outs TensorOf<[F32, F16, BF16]>:$result);
  let assemblyFormat = [{
    $rows `,` $indices attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // SSPROP_DIALECT_SSPROP_IR_SSPROPOPS_TD
