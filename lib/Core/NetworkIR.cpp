//===- NetworkIR.cpp - a network's convolution backwards as ssprop IR -----===//

#include "ssprop/Core/NetworkIR.h"

#include <algorithm>
#include <functional>
#include <sstream>
#include <stdexcept>

namespace ssprop {
namespace {

std::string join(const std::vector<std::string> &items,
                 const std::string &separator) {
  std::string text;
  for (size_t i = 0; i < items.size(); ++i)
    text += (i ? separator : "") + items[i];
  return text;
}

std::string formatPair(const std::array<int64_t, 2> &values) {
  return "[" + std::to_string(values[0]) + ", " + std::to_string(values[1]) +
         "]";
}

/// An MLIR string literal: quotes, backslashes and every byte outside
/// printable ASCII escaped as two hex digits.
std::string formatStringLiteral(const std::string &text) {
  static const char hex[] = "0123456789ABCDEF";
  std::string literal = "\"";
  for (unsigned char c : text) {
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      literal += static_cast<char>(c);
      continue;
    }
    literal += '\\';
    literal += hex[c >> 4];
    literal += hex[c & 0xF];
  }
  return literal + "\"";
}

} // namespace

bool isIdentifier(const std::string &name) {
  auto isLetter = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  };
  auto isRest = [&](char c) {
    return isLetter(c) || (c >= '0' && c <= '9') || c == '$' || c == '.';
  };
  return !name.empty() && isLetter(name[0]) &&
         std::all_of(name.begin() + 1, name.end(), isRest);
}

namespace {

/// `// layer1.0.conv1: 64->64, 3x3, stride 1, 32x32 -> 32x32`.
std::string formatLayerComment(const ExportedLayer &layer) {
  const ConvLayerSpec &s = layer.spec;
  std::ostringstream os;
  os << "  // " << layer.name << ": " << s.inputShape[1] << "->"
     << s.weightShape[0] << ", " << s.weightShape[2] << "x" << s.weightShape[3]
     << ", stride " << s.stride[0] << ", " << s.inputShape[2] << "x"
     << s.inputShape[3] << " -> " << s.getOutputSize(0) << "x"
     << s.getOutputSize(1);
  return os.str();
}

/// What formatBackwardIR needs to write a layer.
void checkLayer(const ExportedLayer &layer) {
  const std::string error = getGeometryError(layer.spec);
  if (!error.empty())
    throw std::invalid_argument("layer '" + layer.name + "': " + error);
  if (layer.keeps.empty())
    throw std::invalid_argument("layer '" + layer.name + "' has no keep");
}

} // namespace

std::vector<double> distinctKeeps(const std::vector<double> &keeps,
                                  int64_t channels) {
  std::vector<double> sorted = keeps;
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  // k grows with keep: the keeps of one count are adjacent once sorted.
  std::vector<double> distinct;
  for (double keep : sorted)
    if (distinct.empty() ||
        keptChannels(keep, channels) != keptChannels(distinct.back(), channels))
      distinct.push_back(keep);
  return distinct;
}

std::string formatTensorType(const std::vector<int64_t> &shape,
                             ElementType type) {
  std::string text = "tensor<";
  for (int64_t dim : shape)
    text += std::to_string(dim) + "x";
  return text + getElementTypeName(type) + ">";
}

ConvBackwardTypes getConvBackwardTypes(const ConvLayerSpec &spec) {
  const auto &x = spec.inputShape;
  const auto &w = spec.weightShape;
  return {formatTensorType(
              {x[0], w[0], spec.getOutputSize(0), spec.getOutputSize(1)},
              spec.dtype),
          formatTensorType({x.begin(), x.end()}, spec.dtype),
          formatTensorType({w.begin(), w.end()}, spec.dtype),
          formatTensorType({w[0]}, spec.dtype)};
}

std::string formatConvBackwardOp(const ConvLayerSpec &spec, double keep,
                                 const std::string &results,
                                 const std::string &operands) {
  const ConvBackwardTypes t = getConvBackwardTypes(spec);
  std::ostringstream os;
  os << results << " = ssprop.conv2d_backward " << operands << "\n"
     << "      stride = " << formatPair(spec.stride)
     << " padding = " << formatPair(spec.padding)
     << " dilation = " << formatPair(spec.dilation)
     << " groups = " << spec.groups << "\n"
     << "      sparsity = <keep = " << formatKeep(keep)
     << ", select = " << getSelectName(spec.select)
     << (spec.weightOnly ? ", grads = weight_only" : "") << ">\n"
     << "      : (" << t.gradOutput << ", " << t.input << ", " << t.weight
     << ")\n"
     << "      -> (" << t.input << ", " << t.weight << ", " << t.bias << ")";
  return os.str();
}

std::string formatBackwardIR(const std::string &name,
                             const std::vector<ExportedLayer> &layers) {
  if (!isIdentifier(name))
    throw std::invalid_argument(
        "name must be an MLIR identifier (letters, digits, _ $ .), got '" +
        name + "'");
  if (layers.empty())
    throw std::invalid_argument("the network has no layer to export");
  std::vector<std::string> arguments, body, results, resultTypes;
  int op = 0;
  for (size_t i = 0; i < layers.size(); ++i) {
    const ExportedLayer &layer = layers[i];
    checkLayer(layer);
    const ConvBackwardTypes t = getConvBackwardTypes(layer.spec);
    const std::string n = std::to_string(i);
    arguments.insert(arguments.end(),
                     {"%dy" + n + ": " + t.gradOutput,
                      "%x" + n + ": " + t.input, "%w" + n + ": " + t.weight});
    body.push_back(formatLayerComment(layer));
    for (double keep : layer.keeps) {
      const std::string g = "%g" + std::to_string(op++);
      body.push_back("  " +
                     formatConvBackwardOp(layer.spec, keep, g + ":3",
                                          "%dy" + n + ", %x" + n + ", %w" + n) +
                     " loc(" + formatStringLiteral(layer.name) + ")");
      auto addResult = [&](int index, const std::string &type) {
        results.push_back(g + "#" + std::to_string(index));
        resultTypes.push_back(type);
      };
      if (layer.spec.needInputGrad)
        addResult(0, t.input);
      addResult(1, t.weight);
      if (layer.hasBias)
        addResult(2, t.bias);
    }
  }
  const std::string types = join(resultTypes, ", ");
  return "// The backward of the " + std::to_string(layers.size()) +
         " ssprop convolutions of " + name +
         ", the last first (ssprop.export_ir).\n" + "func.func @" + name +
         "_backward(\n    " + join(arguments, ",\n    ") + ")\n    -> (" +
         types + ") {\n" + join(body, "\n") + "\n  return " +
         join(results, ", ") + "\n      : " + types + "\n}\n";
}

} // namespace ssprop
