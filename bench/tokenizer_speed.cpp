// Encode throughput of one tokenizer on one text file, single thread.
//   tokenizer_speed TOKENIZER TEXT_FILE [REPEATS] [whole|lines]
// `whole` encodes the file in one call (BOS/EOS as configured); `lines` encodes each line on its
// own without special tokens, as a batch of documents would be. Prints one JSON object: bytes,
// tokens, the per-run seconds, and the median MB/s. The ids of the last run are written to
// TEXT_FILE.ids.json (concatenated over lines) so a caller can check them against HF.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "infer/tokenizer/tokenizer.h"

int main(int argc, char** argv) {
  if (argc < 3 || argc > 5) {
    std::fprintf(stderr, "usage: tokenizer_speed TOKENIZER TEXT_FILE [REPEATS] [whole|lines]\n");
    return 2;
  }
  try {
    const auto tokenizer = infer::tokenizer::Tokenizer::load(argv[1]);
    std::ifstream in(argv[2], std::ios::binary);
    if (!in) throw std::runtime_error(std::string("cannot read ") + argv[2]);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    const std::string text = buffer.str();
    const int repeats = argc >= 4 ? std::stoi(argv[3]) : 5;
    const bool by_line = argc == 5 && std::string(argv[4]) == "lines";
    std::vector<std::string> lines;
    for (std::istringstream stream(text);
         lines.emplace_back(), std::getline(stream, lines.back());) {
    }
    lines.pop_back();
    infer::tokenizer::EncodeOptions no_specials;
    no_specials.add_special_tokens = false;
    std::vector<double> seconds;
    std::vector<int32_t> ids;
    for (int r = 0; r < repeats; ++r) {
      const auto start = std::chrono::steady_clock::now();
      if (by_line) {
        ids.clear();
        for (const auto& line : lines) {
          const auto line_ids = tokenizer->encode(line, no_specials);
          ids.insert(ids.end(), line_ids.begin(), line_ids.end());
        }
      } else {
        ids = tokenizer->encode(text);
      }
      seconds.push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    std::vector<double> sorted = seconds;
    std::sort(sorted.begin(), sorted.end());
    const double median = sorted[sorted.size() / 2];
    std::ofstream(std::string(argv[2]) + ".ids.json") << nlohmann::json(ids).dump();
    std::printf("%s\n", nlohmann::json({{"bytes", text.size()},
                                        {"tokens", ids.size()},
                                        {"seconds", seconds},
                                        {"mb_per_s", text.size() / median / 1e6}})
                            .dump()
                            .c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tokenizer_speed: error: %s\n", e.what());
    return 1;
  }
}
