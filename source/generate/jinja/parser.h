#pragma once
// Builds the statement tree of a lexed template. Anything outside the supported subset (an
// unknown statement, filter or test) is refused here, naming it and its line, so that a
// template fails when it is loaded rather than in the middle of a conversation.
#include <vector>

#include "ast.h"
#include "lexer.h"

namespace infer::generate::jinja {

// Throws base::FormatError (syntax) or base::Unsupported (outside the subset), naming the line.
Body parse(const std::vector<Piece>& pieces);

bool is_known_filter(const std::string& name);
bool is_known_test(const std::string& name);

}  // namespace infer::generate::jinja
