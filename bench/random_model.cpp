// Writes a libinfer weights file of a real model's shape with random weights, for speed runs on
// machines where the Python tools (tools/make_random_model.py + tools/export.py) cannot run, such
// as a lent GPU machine without a package mirror: the Llama-3.2-1B file the CUDA targets are
// quoted at would not fit in what travels there.
//   random_model SHAPE OUT.bin [--dtype bf16|f16|f32]
// SHAPE: llama-3.2-1b, qwen2.5-0.5b, or tiny-llama3 (the test models' own, to test this tool).
// Matrices are uniform in +-0.05 (values do not change the speed), norms 1, biases 0. The
// layout is docs/weights-format.md's, as tools/infer_format.py writes it.
#include <gflags/gflags.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

DEFINE_string(dtype, "bf16", "dtype of the matrices: bf16, f16 or f32 (norms and biases: f32)");

namespace {

using nlohmann::json;

json shape_config(const std::string& shape) {
  if (shape == "llama-3.2-1b") {
    return {{"arch", "llama"},
            {"dim", 2048},
            {"n_layers", 16},
            {"n_heads", 32},
            {"n_kv_heads", 8},
            {"head_dim", 64},
            {"hidden_dim", 8192},
            {"vocab_size", 128256},
            {"max_position_embeddings", 131072},
            {"rope_theta", 500000.0},
            {"rope_scaling",
             {{"type", "llama3"},
              {"factor", 32.0},
              {"low_freq_factor", 1.0},
              {"high_freq_factor", 4.0},
              {"original_max_position_embeddings", 8192}}},
            {"norm_eps", 1e-5},
            {"tied_embeddings", true},
            {"attention_bias", false},
            {"bos_token_id", 128000},
            {"eos_token_ids", {128001, 128008, 128009}}};
  }
  if (shape == "qwen2.5-0.5b") {
    return {{"arch", "qwen2"},
            {"dim", 896},
            {"n_layers", 24},
            {"n_heads", 14},
            {"n_kv_heads", 2},
            {"head_dim", 64},
            {"hidden_dim", 4864},
            {"vocab_size", 151936},
            {"max_position_embeddings", 32768},
            {"rope_theta", 1000000.0},
            {"rope_scaling", nullptr},
            {"norm_eps", 1e-6},
            {"tied_embeddings", true},
            {"attention_bias", true},
            {"bos_token_id", 151643},
            {"eos_token_ids", {151645}}};
  }
  if (shape == "tiny-llama3") {  // tools/make_random_model.py's, for testing this tool
    json c = shape_config("llama-3.2-1b");
    c.update({{"dim", 64},
              {"n_layers", 2},
              {"n_heads", 4},
              {"n_kv_heads", 2},
              {"head_dim", 24},
              {"hidden_dim", 160},
              {"vocab_size", 320},
              {"max_position_embeddings", 1024},
              {"tied_embeddings", false},
              {"bos_token_id", 0},
              {"eos_token_ids", {1, 2}}});
    c["rope_scaling"]["original_max_position_embeddings"] = 32;
    return c;
  }
  throw std::invalid_argument("unknown shape '" + shape +
                              "' (llama-3.2-1b, qwen2.5-0.5b, tiny-llama3)");
}

enum class Fill { kRandom, kOnes, kZeros };

struct Entry {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  Fill fill;
  uint64_t offset = 0, bytes = 0;
};

size_t element_size(const std::string& dtype) { return dtype == "f32" ? 4 : 2; }

uint64_t align(uint64_t n, uint64_t a) { return (n + a - 1) / a * a; }

// Round to nearest even, as tools/export.py converts.
uint16_t to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  bits += 0x7FFF + ((bits >> 16) & 1);
  return static_cast<uint16_t>(bits >> 16);
}

uint16_t to_f16(float f) {  // |f| well inside the normal range here
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  const uint32_t sign = (bits >> 16) & 0x8000;
  const int exponent = static_cast<int>((bits >> 23) & 0xFF) - 127 + 15;
  if (exponent <= 0) return static_cast<uint16_t>(sign);  // flush the tiny ones to zero
  uint32_t mantissa = bits & 0x7FFFFF;
  uint32_t half = (static_cast<uint32_t>(exponent) << 10) | (mantissa >> 13);
  const uint32_t rest = mantissa & 0x1FFF;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) ++half;
  return static_cast<uint16_t>(sign | half);
}

class Random {  // xorshift64*: fast, and the values need no quality beyond looking like weights
 public:
  float uniform(float scale) {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    const uint64_t r = state_ * 0x2545F4914F6CDD1Dull;
    return (static_cast<float>(r >> 40) / static_cast<float>(1 << 24) * 2.f - 1.f) * scale;
  }

 private:
  uint64_t state_ = 0x9E3779B97F4A7C15ull;
};

void write_tensor(std::ofstream& out, const Entry& e, Random& rng) {
  int64_t n = 1;
  for (int64_t d : e.shape) n *= d;
  constexpr int64_t kChunk = 1 << 20;
  std::vector<char> buffer;
  for (int64_t done = 0; done < n; done += kChunk) {
    const int64_t count = std::min(kChunk, n - done);
    buffer.resize(static_cast<size_t>(count) * element_size(e.dtype));
    for (int64_t i = 0; i < count; ++i) {
      const float v = e.fill == Fill::kOnes    ? 1.f
                      : e.fill == Fill::kZeros ? 0.f
                                               : rng.uniform(0.05f);
      if (e.dtype == "f32") {
        std::memcpy(buffer.data() + 4 * i, &v, 4);
      } else {
        const uint16_t h = e.dtype == "bf16" ? to_bf16(v) : to_f16(v);
        std::memcpy(buffer.data() + 2 * i, &h, 2);
      }
    }
    out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  }
}

int run(const std::string& shape, const std::string& path) {
  if (FLAGS_dtype != "bf16" && FLAGS_dtype != "f16" && FLAGS_dtype != "f32")
    throw std::invalid_argument("--dtype must be bf16, f16 or f32, got '" + FLAGS_dtype + "'");
  const json config = shape_config(shape);
  const int64_t dim = config["dim"], heads = config["n_heads"], kv_heads = config["n_kv_heads"],
                head_dim = config["head_dim"], hidden = config["hidden_dim"],
                vocab = config["vocab_size"];
  const std::string& w = FLAGS_dtype;
  std::vector<Entry> entries{{"embed.weight", w, {vocab, dim}, Fill::kRandom}};
  for (int64_t l = 0; l < config["n_layers"].get<int64_t>(); ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    entries.push_back({p + "attn_norm.weight", "f32", {dim}, Fill::kOnes});
    entries.push_back({p + "attn.q.weight", w, {heads * head_dim, dim}, Fill::kRandom});
    entries.push_back({p + "attn.k.weight", w, {kv_heads * head_dim, dim}, Fill::kRandom});
    entries.push_back({p + "attn.v.weight", w, {kv_heads * head_dim, dim}, Fill::kRandom});
    entries.push_back({p + "attn.o.weight", w, {dim, heads * head_dim}, Fill::kRandom});
    if (config["attention_bias"].get<bool>()) {
      entries.push_back({p + "attn.q.bias", "f32", {heads * head_dim}, Fill::kZeros});
      entries.push_back({p + "attn.k.bias", "f32", {kv_heads * head_dim}, Fill::kZeros});
      entries.push_back({p + "attn.v.bias", "f32", {kv_heads * head_dim}, Fill::kZeros});
    }
    entries.push_back({p + "ffn_norm.weight", "f32", {dim}, Fill::kOnes});
    entries.push_back({p + "mlp.gate.weight", w, {hidden, dim}, Fill::kRandom});
    entries.push_back({p + "mlp.up.weight", w, {hidden, dim}, Fill::kRandom});
    entries.push_back({p + "mlp.down.weight", w, {dim, hidden}, Fill::kRandom});
  }
  entries.push_back({"norm.weight", "f32", {dim}, Fill::kOnes});
  if (!config["tied_embeddings"].get<bool>())
    entries.push_back({"head.weight", w, {vocab, dim}, Fill::kRandom});

  json tensors = json::array();
  uint64_t offset = 0;
  for (Entry& e : entries) {
    int64_t n = 1;
    for (int64_t d : e.shape) n *= d;
    e.offset = offset;
    e.bytes = static_cast<uint64_t>(n) * element_size(e.dtype);
    offset = align(offset + e.bytes, 64);
    tensors.push_back({{"name", e.name},
                       {"dtype", e.dtype},
                       {"shape", e.shape},
                       {"offset", e.offset},
                       {"bytes", e.bytes}});
  }
  const json header = {{"format", "libinfer"},
                       {"exporter", "bench/random_model"},
                       {"source", "random weights of " + shape + "'s shape"},
                       {"precision", w},
                       {"config", config},
                       {"tensors", tensors}};
  const std::string text = header.dump();

  std::ofstream out(path, std::ios::binary);
  if (!out) throw std::runtime_error("cannot write " + path);
  const uint32_t version = 1, flags = 0;
  const uint64_t header_length = text.size();
  out.write("LIBINFER", 8);
  out.write(reinterpret_cast<const char*>(&version), 4);
  out.write(reinterpret_cast<const char*>(&flags), 4);
  out.write(reinterpret_cast<const char*>(&header_length), 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  const uint64_t data_start = align(24 + text.size(), 4096);
  const std::vector<char> zeros(4096, 0);
  out.write(zeros.data(), static_cast<std::streamsize>(data_start - 24 - text.size()));
  Random rng;
  uint64_t at = 0;
  for (const Entry& e : entries) {
    out.write(zeros.data(), static_cast<std::streamsize>(e.offset - at));
    write_tensor(out, e, rng);
    at = e.offset + e.bytes;
  }
  if (!out.flush()) throw std::runtime_error("writing " + path + " failed (disk full?)");
  std::fprintf(stderr, "random_model: wrote %s (%.2f GB)\n", path.c_str(),
               static_cast<double>(data_start + at) / 1e9);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage("random_model SHAPE OUT.bin [--dtype bf16|f16|f32]");
  gflags::ParseCommandLineFlags(&argc, &argv, /*remove_flags=*/true);
  if (argc != 3) {
    std::fprintf(stderr, "random_model: error: usage: random_model SHAPE OUT.bin [--dtype D]\n");
    return 1;
  }
  try {
    return run(argv[1], argv[2]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "random_model: error: %s\n", e.what());
    return 1;
  }
}
