//===- Data.cpp - Fashion-MNIST IDX files for ssprop-train ----------------===//

#include "Data.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

#ifdef SSPROP_TRAIN_HAVE_ZLIB
#include <zlib.h>
#endif

namespace ssprop_train {

namespace {

constexpr uint32_t kImagesMagic = 0x00000803;
constexpr uint32_t kLabelsMagic = 0x00000801;
constexpr double kMean = 0.2860;
constexpr double kStd = 0.3530;

bool isFile(const std::string &p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool isDir(const std::string &p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string hex8(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

std::vector<uint8_t> readBytes(const std::string &path) {
  if (endsWith(path, ".gz")) {
#ifdef SSPROP_TRAIN_HAVE_ZLIB
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f)
      throw DataError(path + ": cannot open");
    std::vector<uint8_t> out;
    std::vector<uint8_t> buf(1 << 16);
    for (;;) {
      int n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()));
      if (n < 0) {
        int err = 0;
        std::string msg = gzerror(f, &err);
        gzclose(f);
        throw DataError(path + ": cannot read: " + msg);
      }
      if (n == 0)
        break;
      out.insert(out.end(), buf.begin(), buf.begin() + n);
    }
    int err = 0;
    const char *msg = gzerror(f, &err);
    std::string m = msg ? msg : "";
    int rc = gzclose(f);
    if (err != Z_OK && err != Z_STREAM_END)
      throw DataError(path + ": cannot read: " + m);
    if (rc == Z_BUF_ERROR)
      throw DataError(path + ": cannot read: truncated gzip stream");
    if (rc != Z_OK)
      throw DataError(path + ": cannot read: gzip error " + std::to_string(rc));
    return out;
#else
    throw DataError(path + ": built without zlib: decompress the file (gunzip) and "
                           "point --data at the directory");
#endif
  }
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw DataError(path + ": cannot open");
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

uint32_t be32(const uint8_t *p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) |
         uint32_t(p[3]);
}

std::string dimsStr(const std::vector<int64_t> &d) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < d.size(); ++i)
    os << (i ? ", " : "") << d[i];
  os << "]";
  return os.str();
}

const char *kFiles[2][2] = {{"train-images-idx3-ubyte", "train-labels-idx1-ubyte"},
                            {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}};

std::string findFile(const std::string &root, const std::string &stem) {
  for (const std::string &name : {stem, stem + ".gz"})
    if (isFile(root + "/" + name))
      return root + "/" + name;
  throw DataError(root + ": no " + stem + " or " + stem + ".gz");
}

bool hasAll(const std::string &dir) {
  if (!isDir(dir))
    return false;
  for (auto &split : kFiles)
    for (const char *stem : split)
      if (!isFile(dir + "/" + stem) && !isFile(dir + "/" + stem + ".gz"))
        return false;
  return true;
}

} // namespace

IdxArray readIdx(const std::string &path, uint32_t expectedMagic) {
  std::vector<uint8_t> raw = readBytes(path);
  if (raw.size() < 4)
    throw DataError(path + ": " + std::to_string(raw.size()) +
                    " bytes, too short for an IDX header (4 bytes)");
  const uint32_t magic = be32(raw.data());
  const int ndim = raw[3];
  if (raw[0] != 0 || raw[1] != 0 || raw[2] != 0x08 || ndim < 1 || ndim > 4)
    throw DataError(path + ": bad magic number " + hex8(magic) +
                    ": expected 0x000008NN (unsigned bytes, 1 to 4 dimensions); is "
                    "this an IDX file?");
  if (expectedMagic && magic != expectedMagic)
    throw DataError(path + ": magic number " + hex8(magic) + ", expected " +
                    hex8(expectedMagic));
  const size_t header = 4 + 4 * static_cast<size_t>(ndim);
  if (raw.size() < header)
    throw DataError(path + ": " + std::to_string(raw.size()) +
                    " bytes, too short for a header of " + std::to_string(ndim) +
                    " dimensions (" + std::to_string(header) + " bytes)");
  IdxArray a;
  size_t size = 1;
  for (int i = 0; i < ndim; ++i) {
    a.dims.push_back(be32(raw.data() + 4 + 4 * i));
    size *= static_cast<size_t>(a.dims.back());
  }
  for (int64_t d : a.dims)
    if (d == 0)
      throw DataError(path + ": a dimension is zero: " + dimsStr(a.dims));
  const size_t got = raw.size() - header;
  if (got != size)
    throw DataError(path + ": " + (got < size ? "truncated" : "trailing bytes") +
                    ": dimensions " + dimsStr(a.dims) + " need " + std::to_string(size) +
                    " data bytes, the file has " + std::to_string(got));
  a.data.assign(raw.begin() + header, raw.end());
  return a;
}

std::string findRoot(const std::string &root) {
  std::vector<std::string> candidates;
  if (!root.empty())
    candidates.push_back(root);
  else if (const char *env = std::getenv("SSPROP_FASHION_MNIST"); env && *env)
    candidates.push_back(env);
  else
    candidates.push_back("/usr/share/datasets/fashion-mnist");
  for (const auto &c : candidates)
    if (hasAll(c))
      return c;
  std::string tried;
  for (const auto &c : candidates)
    tried += (tried.empty() ? "" : ", ") + c;
  throw DataError("Fashion-MNIST not found (looked in: " + tried +
                  "); it needs train-images-idx3-ubyte, train-labels-idx1-ubyte, "
                  "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (optionally .gz). "
                  "Install the Debian package dataset-fashion-mnist, or pass --data DIR, "
                  "or set $SSPROP_FASHION_MNIST.");
}

Split loadSplit(const std::string &split, const std::string &rootArg,
                std::optional<int64_t> subset) {
  int which;
  if (split == "train")
    which = 0;
  else if (split == "test")
    which = 1;
  else
    throw DataError("split must be train or test, got " + split);
  const std::string root = findRoot(rootArg);
  const std::string imgPath = findFile(root, kFiles[which][0]);
  const std::string lblPath = findFile(root, kFiles[which][1]);
  IdxArray img = readIdx(imgPath, kImagesMagic);
  IdxArray lbl = readIdx(lblPath, kLabelsMagic);
  if (img.dims.size() != 3 || img.dims[1] != 28 || img.dims[2] != 28)
    throw DataError(imgPath + ": images of shape " + dimsStr(img.dims) +
                    ", expected [N, 28, 28]");
  if (lbl.dims[0] != img.dims[0])
    throw DataError(lblPath + ": " + std::to_string(lbl.dims[0]) + " labels for " +
                    std::to_string(img.dims[0]) + " images in " + imgPath);
  for (uint8_t v : lbl.data)
    if (v > 9)
      throw DataError(lblPath + ": label " + std::to_string(v) + " out of range 0..9");
  int64_t n = img.dims[0];
  if (subset)
    n = std::min(n, *subset);
  Split s;
  s.images = torch::from_blob(img.data.data(), {n, 1, 28, 28}, torch::kUInt8)
                 .to(torch::kFloat32)
                 .div_(255.0)
                 .sub_(kMean)
                 .div_(kStd);
  s.labels = torch::from_blob(lbl.data.data(), {n}, torch::kUInt8).to(torch::kInt64);
  return s;
}

TrainVal loadTrainVal(const std::string &root, std::optional<int64_t> subset, int64_t val,
                      int64_t seed) {
  TrainVal tv;
  if (val == 0) {
    tv.train = loadSplit("train", root, subset);
    tv.total = tv.train.images.size(0);
    return tv;
  }
  Split all = loadSplit("train", root, std::nullopt);
  tv.total = all.images.size(0);
  const int64_t wanted = (subset ? *subset : tv.total - val) + val;
  if (wanted > tv.total)
    throw DataError(std::to_string(subset ? *subset : tv.total - val) + " training and " +
                    std::to_string(val) + " validation images exceed the " +
                    std::to_string(tv.total) + " training images");
  auto gen = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(seed));
  torch::Tensor held = torch::zeros({tv.total}, torch::kBool);
  held.index_fill_(0, torch::randperm(tv.total, gen, torch::kLong).slice(0, 0, val), true);
  torch::Tensor valIdx = torch::nonzero(held).squeeze(1);
  torch::Tensor trainIdx = torch::nonzero(held.logical_not()).squeeze(1);
  if (subset)
    trainIdx = trainIdx.slice(0, 0, *subset);
  tv.train = {all.images.index_select(0, trainIdx), all.labels.index_select(0, trainIdx)};
  tv.val = {all.images.index_select(0, valIdx), all.labels.index_select(0, valIdx)};
  tv.valIndexSum = valIdx.sum().item<int64_t>();
  return tv;
}

std::optional<int64_t> matchingTestSubset(std::optional<int64_t> trainSubset) {
  if (!trainSubset)
    return std::nullopt;
  return std::max<int64_t>(1, std::min<int64_t>(10000, *trainSubset * 10000 / 60000));
}

} // namespace ssprop_train
