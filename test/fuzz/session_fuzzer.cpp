// libFuzzer target for saved chat sessions: the input is a session file, loaded into a Session
// on a real model ($INFER_FUZZ_MODEL with $INFER_FUZZ_TOKENIZER); when it loads, the session is
// rolled back and continued by one short reply. With $INFER_FUZZ_WRITE_SEED set, the target
// instead saves a genuine two-turn session there and exits: the seed of the corpus.
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "fuzz_common.h"
#include "infer/generate/session.h"
#include "infer/model/model.h"
#include "infer/tokenizer/tokenizer.h"

namespace {

using namespace infer;

struct Loaded {
  std::unique_ptr<model::Model> model;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;
};

const Loaded& loaded() {
  static const Loaded l = [] {
    model::LoadOptions options;
    options.max_seq_len = 256;
    return Loaded{model::Model::load(fuzz::required_env("INFER_FUZZ_MODEL"), options),
                  tokenizer::Tokenizer::load(fuzz::required_env("INFER_FUZZ_TOKENIZER"))};
  }();
  return l;
}

generate::Session new_session() {
  return generate::Session(*loaded().model, *loaded().tokenizer,
                           generate::ChatTemplate::for_tokenizer(*loaded().tokenizer, "chatml"),
                           "Be brief.");
}

void say(generate::Session& s, const char* message) {
  generate::GenerateOptions options;
  options.max_new_tokens = 3;
  sampler::Sampler greedy;
  s.reply(message, options, greedy);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* seed = std::getenv("INFER_FUZZ_WRITE_SEED")) {
    generate::Session s = new_session();
    say(s, "Hi!");
    say(s, "Once upon a time");
    s.save(seed);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = fuzz::scratch_path("saved.session");
  fuzz::write_file(path, data, size);
  generate::Session s = new_session();
  fuzz::expect_only_documented_errors([&] {
    s.load(path);
    if (s.turns() > 0) s.rollback(s.turns() - 1);
    say(s, "And then?");
  });
  return 0;
}
