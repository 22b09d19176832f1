#pragma once
// llama_infer --chat: a multi-turn chat on the terminal (or any stdin), one line a message.
#include "infer/model/model.h"
#include "infer/tokenizer/tokenizer.h"

namespace infer::cli {

// Reads lines from stdin until EOF or /quit: a line is a user message, whose reply streams to
// stdout, or a /command (/help lists them). Ctrl-C stops the reply being generated, not the
// program. Returns the exit code.
int run_chat(const model::Model& model, const tokenizer::Tokenizer& tokenizer);

}  // namespace infer::cli
