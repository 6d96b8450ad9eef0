//===- SSPropBase.td - ssprop dialect definition -----------*- tablegen -*-===//
//
// The ssprop dialect: convolution backward with a channel-sparsity annotation.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_DIALECT_SSPROP_IR_SSPROPBASE_TD
#define SSPROP_DIALECT_SSPROP_IR_SSPROPBASE_TD

include "mlir/IR/OpBase.td"

def SSProp_Dialect : Dialect {
  let name = "ssprop";
  let cppNamespace = "::mlir::ssprop";
  let summary = "Sparse-channel convolution backward (ssProp)";
  let description = [{
    The `ssprop` dialect represents the backward pass of a convolution in which
    only the most important output channels are back-propagated (ssProp,
    arXiv 2408.12561). Each output channel `c` is scored by the mean of
    `|grad_output[:, c]|` over batch and space; the `k = max(floor(keep * Cout), 1)`
    best channels (or a random `k`) are kept, shared by the whole batch. The
    weight and bias gradients of the other channels are zero, and the input
    gradient is computed from the kept channels only: the result equals the dense
    backward with the unselected channels of `grad_output` set to zero, with no
    `1 / keep` rescaling. `keep = 1` is exactly the dense backward.

    Tensors are NCHW, as in PyTorch.
  }];
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    /// Registers the attributes; defined beside their storage classes.
    void registerAttributes();
  }];
}

class SSProp_Op<string mnemonic, list<Trait> traits = []>
    : Op<SSProp_Dialect, mnemonic, traits>;

#endif // SSPROP_DIALECT_SSPROP_IR_SSPROPBASE_TD
