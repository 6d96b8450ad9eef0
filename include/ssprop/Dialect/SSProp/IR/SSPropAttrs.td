//===- SSPropAttrs.td - ssprop attributes and enums --------*- tablegen -*-===//

#ifndef SSPROP_DIALECT_SSPROP_IR_SSPROPATTRS_TD
#define SSPROP_DIALECT_SSPROP_IR_SSPROPATTRS_TD

include "ssprop/Dialect/SSProp/IR/SSPropBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def SSProp_SelectTopK : I32EnumAttrCase<"topk", 0>;
def SSProp_SelectRandom : I32EnumAttrCase<"random", 1>;
def SSProp_SelectKind : I32EnumAttr<"SelectKind",
    "how the kept output channels are chosen",
    [SSProp_SelectTopK, SSProp_SelectRandom]> {
  let cppNamespace = "::mlir::ssprop";
  let genSpecializedAttr = 0;
}

def SSProp_GradsAll : I32EnumAttrCase<"all", 0>;
def SSProp_GradsWeightOnly : I32EnumAttrCase<"weight_only", 1>;
def SSProp_GradsKind : I32EnumAttr<"GradsKind",
    "which gradients the sparsity applies to",
    [SSProp_GradsAll, SSProp_GradsWeightOnly]> {
  let cppNamespace = "::mlir::ssprop";
  let genSpecializedAttr = 0;
}

def SSProp_AddressingIm2col : I32EnumAttrCase<"im2col", 0>;
def SSProp_AddressingPlain : I32EnumAttrCase<"plain", 1>;
def SSProp_Addressing : I32EnumAttr<"Addressing",
    "how a convolution GEMM addresses its operands",
    [SSProp_AddressingIm2col, SSProp_AddressingPlain]> {
  let cppNamespace = "::mlir::ssprop";
  let genSpecializedAttr = 0;
}

def SSProp_SparsityAttr : AttrDef<SSProp_Dialect, "Sparsity"> {
  let mnemonic = "sparsity";
  let summary = "which output channels a convolution backward propagates";
  let description = [{
    Parameters, written as `key = value` pairs in any order:

    - `keep`: the fraction of output channels kept, `0 < keep <= 1`. The number
      of kept channels is `k = max(floor(keep * Cout), 1)` (the authors'
      `int(keep * Cout)`, evaluated in double precision).
    - `select`: `topk` keeps the `k` channels with the largest mean
      `|grad_output|`; `random` keeps the first `k` of a random permutation.
    - `grads` (optional, default `all`): `all` makes the weight, bias and input
      gradients sparse; `weight_only` keeps the input gradient dense. The default
      is not printed.

    ```mlir
    #ssprop.sparsity<keep = 0.4, select = topk>
    #ssprop.sparsity<keep = 0.2, select = random, grads = weight_only>
    ```
  }];
  let parameters = (ins
    APFloatParameter<"fraction of output channels kept, in (0, 1]">:$keep,
    "::mlir::ssprop::SelectKind":$select,
    DefaultValuedParameter<"::mlir::ssprop::GradsKind",
                           "::mlir::ssprop::GradsKind::all">:$grads);
  let builders = [
    AttrBuilder<(ins "double":$keep, "::mlir::ssprop::SelectKind":$select,
                     CArg<"::mlir::ssprop::GradsKind",
                          "::mlir::ssprop::GradsKind::all">:$grads)>
  ];
  let skipDefaultBuilders = 1;
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The keep fraction as a double.
    double getKeepFraction() const { return getKeep().convertToDouble(); }
    /// k = max(floor(keep * numChannels), 1): ::ssprop::keptChannels.
    int64_t getNumKept(int64_t numChannels) const;
  }];
}

def SSProp_GemmAttr : AttrDef<SSProp_Dialect, "Gemm"> {
  let mnemonic = "gemm";
  let summary = "the GEMM a convolution gradient op computes";
  let description = [{
    The sizes of the matrix product behind `ssprop.dgrad` and `ssprop.wgrad`,
    for the code generator and for readers of the IR:
    `batch` independent products (one per group; omitted when 1) of an
    `m x k` by a `k x n` matrix, accumulated in `acc`.

    `addressing = im2col` means the operands are read through implicit im2col
    addressing (the products are never materialised); `plain` marks a 1x1,
    stride-1, unpadded convolution whose operands are plain matrices.

    For a gathered `ssprop.dgrad` of a grouped convolution, the kept channels
    fall unevenly across groups: `k` is then the largest reduction length of any
    group, and each group reduces over its own kept channels only.

    ```mlir
    #ssprop.gemm<m = 8192, n = 16, k = 54, acc = f32, addressing = im2col>
    #ssprop.gemm<batch = 4, m = 8192, n = 4, k = 18, acc = f32, addressing = im2col>
    ```
  }];
  let parameters = (ins
    DefaultValuedParameter<"int64_t", "1", "independent GEMMs (groups)">:$batch,
    "int64_t":$m,
    "int64_t":$n,
    "int64_t":$k,
    "::mlir::Type":$acc,
    EnumParameter<SSProp_Addressing>:$addressing);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // SSPROP_DIALECT_SSPROP_IR_SSPROPATTRS_TD
