#pragma once
// The web chat page served at GET / (source/server/web/chat.html, compiled in).
#include <string_view>

namespace infer::server {

std::string_view chat_page();

}  // namespace infer::server
