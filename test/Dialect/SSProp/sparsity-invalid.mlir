// RUN: ssprop-opt %s -split-input-file -verify-diagnostics

// Parse and verification errors of #ssprop.sparsity. Parsing stops at the first
// error, so every split holds exactly one.

// keep = 0 is out of (0, 1].
func.func @keep_zero() attributes {
    // expected-error@+1 {{sparsity keep must be in (0, 1], got 0.0}}
    s = #ssprop.sparsity<keep = 0, select = topk>} {
  return
}

// -----

// keep = 0.0 is out of (0, 1].
func.func @keep_zero_float() attributes {
    // expected-error@+1 {{sparsity keep must be in (0, 1], got 0.0}}
    s = #ssprop.sparsity<keep = 0.0, select = topk>} {
  return
}

// -----

// A negative keep.
func.func @keep_negative() attributes {
    // expected-error@+1 {{sparsity keep must be in (0, 1], got -0.5}}
    s = #ssprop.sparsity<keep = -0.5, select = topk>} {
  return
}

// -----

// keep = 1.5 is out of (0, 1].
func.func @keep_above_one() attributes {
    // expected-error@+1 {{sparsity keep must be in (0, 1], got 1.5}}
    s = #ssprop.sparsity<keep = 1.5, select = random>} {
  return
}

// -----

// The double just above 1 prints in full.
func.func @keep_just_above_one() attributes {
    // expected-error@+1 {{sparsity keep must be in (0, 1], got 1.0000000000000002}}
    s = #ssprop.sparsity<keep = 1.0000000000000002, select = topk>} {
  return
}

// -----

// An integer keep above 1.
func.func @keep_integer_two() attributes {
    // expected-error@+1 {{sparsity keep must be in (0, 1], got 2.0}}
    s = #ssprop.sparsity<keep = 2, select = topk>} {
  return
}

// -----

// nan is a keyword, not a number.
func.func @keep_nan() attributes {
    // expected-error@+1 {{sparsity keep must be a number in (0, 1], got 'nan'}}
    s = #ssprop.sparsity<keep = nan, select = topk>} {
  return
}

// -----

// inf is a keyword, not a number.
func.func @keep_inf() attributes {
    // expected-error@+1 {{sparsity keep must be a number in (0, 1], got 'inf'}}
    s = #ssprop.sparsity<keep = inf, select = topk>} {
  return
}

// -----

// A boolean keep.
func.func @keep_true() attributes {
    // expected-error@+1 {{sparsity keep must be a number in (0, 1], got 'true'}}
    s = #ssprop.sparsity<keep = true, select = topk>} {
  return
}

// -----

// A typed keep would round silently; it is rejected.
func.func @keep_typed_f32() attributes {
    // expected-error@+1 {{sparsity keep must be an untyped or f64 number in (0, 1], got 4.000000e-01 : f32}}
    s = #ssprop.sparsity<keep = 0.4 : f32, select = topk>} {
  return
}

// -----

// A typed integer keep.
func.func @keep_typed_i32() attributes {
    // expected-error@+1 {{sparsity keep must be an untyped or f64 number in (0, 1], got 1 : i32}}
    s = #ssprop.sparsity<keep = 1 : i32, select = topk>} {
  return
}

// -----

// A string keep.
func.func @keep_string() attributes {
    // expected-error@+1 {{sparsity keep must be an untyped or f64 number in (0, 1], got "0.5"}}
    s = #ssprop.sparsity<keep = "0.5", select = topk>} {
  return
}

// -----

// An untyped hex literal is an i64 integer, far above 1.
func.func @keep_hex_untyped() attributes {
    // expected-error@+1 {{sparsity keep must be in (0, 1], got 9.221120237041091e+18}}
    s = #ssprop.sparsity<keep = 0x7FF8000000000000, select = topk>} {
  return
}

// -----

// The NaN bit pattern as an f64 is rejected as non-finite.
func.func @keep_hex_nan_bits() attributes {
    // expected-error@+1 {{sparsity keep must be in (0, 1], got nan}}
    s = #ssprop.sparsity<keep = 0x7FF8000000000000 : f64, select = topk>} {
  return
}

// -----

// keep is required.
func.func @missing_keep() attributes {
    // expected-error@+1 {{sparsity is missing parameter 'keep'}}
    s = #ssprop.sparsity<select = topk>} {
  return
}

// -----

// select is required.
func.func @missing_select() attributes {
    // expected-error@+1 {{sparsity is missing parameter 'select'}}
    s = #ssprop.sparsity<keep = 0.5>} {
  return
}

// -----

// select is required even with grads.
func.func @missing_select_with_grads() attributes {
    // expected-error@+1 {{sparsity is missing parameter 'select'}}
    s = #ssprop.sparsity<keep = 0.5, grads = weight_only>} {
  return
}

// -----

// No parameters at all: keep is reported first.
func.func @empty() attributes {
    // expected-error@+1 {{sparsity is missing parameter 'keep'}}
    s = #ssprop.sparsity<>} {
  return
}

// -----

// select = best is not a selection.
func.func @unknown_select() attributes {
    // expected-error@+1 {{unknown sparsity select 'best', expected one of: topk, random}}
    s = #ssprop.sparsity<keep = 0.5, select = best>} {
  return
}

// -----

// grads = input is not a gradient set.
func.func @unknown_grads() attributes {
    // expected-error@+1 {{unknown sparsity grads 'input', expected one of: all, weight_only}}
    s = #ssprop.sparsity<keep = 0.5, select = topk, grads = input>} {
  return
}

// -----

// An unknown parameter name.
func.func @unknown_parameter() attributes {
    // expected-error@+1 {{unknown sparsity parameter 'foo', expected one of: keep, select, grads}}
    s = #ssprop.sparsity<keep = 0.5, foo = 1, select = topk>} {
  return
}

// -----

// keep given twice.
func.func @duplicate_keep() attributes {
    // expected-error@+1 {{duplicate sparsity parameter 'keep'}}
    s = #ssprop.sparsity<keep = 0.5, keep = 0.5, select = topk>} {
  return
}

// -----

// select given twice.
func.func @duplicate_select() attributes {
    // expected-error@+1 {{duplicate sparsity parameter 'select'}}
    s = #ssprop.sparsity<keep = 0.5, select = topk, select = random>} {
  return
}

// -----

// grads given twice.
func.func @duplicate_grads() attributes {
    // expected-error@+1 {{duplicate sparsity parameter 'grads'}}
    s = #ssprop.sparsity<keep = 0.5, select = topk, grads = all, grads = all>} {
  return
}

// -----

// On the op in custom form: the error names the op.
func.func @op_custom_keep_above_one(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      // expected-error@+1 {{custom op 'ssprop.conv2d_backward' sparsity keep must be in (0, 1], got 1.5}}
      sparsity = <keep = 1.5, select = topk>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// -----

// On the op in custom form, an unknown select.
func.func @op_custom_unknown_select(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  %gi, %gw, %gb = ssprop.conv2d_backward %dy, %x, %w
      stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 1
      // expected-error@+1 {{custom op 'ssprop.conv2d_backward' unknown sparsity select 'best', expected one of: topk, random}}
      sparsity = <keep = 0.5, select = best>
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}

// -----

// On the op in generic form, an unknown grads.
func.func @op_generic_unknown_grads(%dy: tensor<8x16x32x32xf32>, %x: tensor<8x16x32x32xf32>,
    %w: tensor<16x16x3x3xf32>) {
  %r:3 = "ssprop.conv2d_backward"(%dy, %x, %w) {
      stride = array<i64: 1, 1>, padding = array<i64: 1, 1>,
      dilation = array<i64: 1, 1>, groups = 1 : i64,
      // expected-error@+1 {{unknown sparsity grads 'none', expected one of: all, weight_only}}
      sparsity = #ssprop.sparsity<keep = 0.5, select = random, grads = none>}
      : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
      -> (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>)
  return
}
