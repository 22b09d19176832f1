// The Jinja interpreter: real chat templates rendered byte for byte as HF renders them
// (test/data/jinja_goldens.json, made by hf_infer/make_jinja_goldens.py), their refusals with
// the templates' own messages, whitespace control, and what it refuses or bounds.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "infer/base/error.h"
#include "infer/generate/jinja/template.h"
#include "infer/tokenizer/tokenizer.h"
#include "test_data.h"

namespace infer::generate::jinja {
namespace {

using nlohmann::ordered_json;

std::string render(const std::string& source,
                   const ordered_json& variables = ordered_json::object()) {
  return Template(source).render(from_json(variables).as_dict());
}

// The golden's pinned strftime_now time (2024-07-26 12:00, local as HF's datetime.now()).
std::time_t golden_now() {
  std::tm t{};
  t.tm_year = 2024 - 1900;
  t.tm_mon = 6;
  t.tm_mday = 26;
  t.tm_hour = 12;
  t.tm_isdst = -1;
  return std::mktime(&t);
}

// The tokenizer a golden template names (when its files are at hand), loaded once.
const tokenizer::Tokenizer* golden_tokenizer(const ordered_json& t) {
  static std::map<std::string, std::unique_ptr<tokenizer::Tokenizer>> loaded;
  if (!t.contains("tokenizer_file")) return nullptr;
  const std::string path = test::golden_file_path(t["tokenizer_file"].get<std::string>());
  if (!test::file_exists(path)) return nullptr;
  auto& slot = loaded[path];
  if (!slot) slot = tokenizer::Tokenizer::load(path);
  return slot.get();
}

TEST(JinjaGoldens, RealTemplatesRenderExactlyAsHf) {
  const std::string path = test::golden_dir() + "/jinja_goldens.json";
  std::ifstream file(path);
  ASSERT_TRUE(file) << path;
  const ordered_json goldens = ordered_json::parse(file);
  std::map<std::string, Template> templates;
  for (const auto& [name, t] : goldens["templates"].items()) {
    try {
      templates.emplace(name, Template(t["source"].get<std::string>()));
    } catch (const base::Error& e) {
      ADD_FAILURE() << name << " does not parse: " << e.what();
    }
  }
  int checked = 0, checked_ids = 0;
  for (const ordered_json& c : goldens["cases"]) {
    const std::string name = c["template"];
    auto it = templates.find(name);
    if (it == templates.end()) continue;
    const ordered_json& conversation =
        goldens["conversations"][c["conversation"].get<std::string>()];
    ordered_json variables = {{"messages", conversation["messages"]},
                              {"add_generation_prompt", c["add_generation_prompt"]},
                              {"bos_token", goldens["templates"][name]["bos_token"]},
                              {"eos_token", goldens["templates"][name]["eos_token"]}};
    if (!conversation["tools"].is_null()) variables["tools"] = conversation["tools"];
    const std::string where =
        name + " / " + c["conversation"].get<std::string>() +
        (c["add_generation_prompt"].get<bool>() ? " + generation prompt" : "");
    try {
      const std::string text = it->second.render(from_json(variables).as_dict(), golden_now());
      if (c.contains("error")) {
        ADD_FAILURE() << where << ": rendered, HF refused with: " << c["error"];
      } else {
        EXPECT_EQ(text, c["text"].get<std::string>()) << where;
        // And the ids, tokenised as apply_chat_template(tokenize=True) does.
        const tokenizer::Tokenizer* tokenizer = golden_tokenizer(goldens["templates"][name]);
        if (c.contains("ids") && tokenizer != nullptr) {
          tokenizer::EncodeOptions options;
          options.add_special_tokens = false;
          options.parse_special = true;
          EXPECT_EQ(tokenizer->encode(text, options), c["ids"].get<std::vector<int32_t>>())
              << where;
          ++checked_ids;
        }
      }
    } catch (const base::InvalidArgument& e) {
      if (c.contains("error")) {
        EXPECT_EQ(std::string(e.what()), c["error"].get<std::string>()) << where;
      } else {
        ADD_FAILURE() << where << ": " << e.what();
      }
    }
    ++checked;
  }
  EXPECT_GE(checked, 500);
  if (checked_ids == 0) std::printf("note: no tokenizer of the goldens found; ids not checked\n");
}

TEST(Jinja, WhitespaceControlAsHfConfiguresIt) {
  // trim_blocks: the newline after a block tag goes; lstrip_blocks: the indentation before it.
  EXPECT_EQ(render("{% if true %}\n  yes\n{% endif %}\nend"), "  yes\nend");
  EXPECT_EQ(render("  {% if true %}x{% endif %}"), "x");
  EXPECT_EQ(render("a  {%- if true -%}  b  {%- endif %}"), "ab");
  EXPECT_EQ(render("{{ 'a' }}  {{- 'b' -}}  {{ 'c' }}"), "abc");
  EXPECT_EQ(render("x {# note #}\ny"), "x y");
  EXPECT_EQ(render("  {%+ if true %}x{% endif %}"), "  x");
  EXPECT_EQ(render("{{ 'a' }}  {% if true %}b{% endif %}"), "a  b");
}

TEST(Jinja, ExpressionsFollowPython) {
  EXPECT_EQ(
      render("{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 1 + 1.5 }}"),
      "3 -4 2 3.5 1024 2.5");
  EXPECT_EQ(render("{{ [1, 'a', none, true] }} {{ {'k': 'it\\'s'} }}"),
            "[1, 'a', None, True] {'k': \"it's\"}");
  EXPECT_EQ(render("{{ 'abcdef'[1:4] }} {{ 'abcdef'[::-1] }} {{ [1,2,3][-1] }} {{ 'héllo'[1] }}"),
            "bcd fedcba 3 é");
  EXPECT_EQ(render("{{ 'b' in 'abc' }} {{ 2 not in [1, 2] }} {{ 'x' ~ 1 ~ none }}"),
            "True False x1None");
  EXPECT_EQ(render("{{ 1 == 1.0 }} {{ 'a' if false }}|{{ false or 'd' }} {{ 0 and 1 }}"),
            "True |d 0");
  EXPECT_EQ(render("{{ ' a b '.strip().split(' ') }} {{ 'a,b'.split(',', 1) }} {{ 'Ab'.upper() }}"),
            "['a', 'b'] ['a', 'b'] AB");
  EXPECT_EQ(render("{{ {'b': 1, 'a': [1.0, 'é\\n']} | tojson }}"),
            "{\"b\": 1, \"a\": [1.0, \"é\\n\"]}");
  EXPECT_EQ(render("{{ {'a': [1]} | tojson(indent=2) }}"), "{\n  \"a\": [\n    1\n  ]\n}");
}

TEST(Jinja, StatementsLoopsAndMacros) {
  EXPECT_EQ(render("{% for a, b in {'x': 1, 'y': 2} | items %}{{ loop.index }}{{ a }}{{ b }}"
                   "{% if not loop.last %},{% endif %}{% endfor %}"),
            "1x1,2y2");
  EXPECT_EQ(render("{% for x in [1, 2, 3, 4] if x is even %}{{ x }}{% else %}none{% endfor %}"
                   "{% for x in [] %}{{ x }}{% else %}empty{% endfor %}"),
            "24empty");
  EXPECT_EQ(render("{% for x in range(10) %}{% if x == 3 %}{% break %}{% endif %}"
                   "{% if x == 1 %}{% continue %}{% endif %}{{ x }}{% endfor %}"),
            "02");
  // A set inside a loop stays in the loop; a namespace carries values out.
  EXPECT_EQ(render("{% set n = 0 %}{% set ns = namespace(n=0) %}{% for x in [1, 2] %}"
                   "{% set n = n + x %}{% set ns.n = ns.n + x %}{% endfor %}{{ n }} {{ ns.n }}"),
            "0 3");
  EXPECT_EQ(
      render("{% macro greet(name, greeting='Hello') %}{{ greeting }}, {{ name }}!{% endmacro %}"
             "{{ greet('Ann') }} {{ greet('Bo', greeting='Hi') }}"),
      "Hello, Ann! Hi, Bo!");
  EXPECT_EQ(render("{% set block %}a{{ 1 + 1 }}{% endset %}[{{ block }}]"), "[a2]");
  EXPECT_EQ(render("{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') "
                   "| join('+') }}",
                   {{"messages",
                     {{{"role", "user"}, {"content", "a"}},
                      {{"role", "bot"}, {"content", "b"}},
                      {{"role", "user"}, {"content", "c"}}}}}),
            "a+c");
}

TEST(Jinja, ConstructsOutsideTheSubsetAreRefusedWhenLoaded) {
  auto refused = [](const std::string& source, const std::string& words) {
    try {
      Template t(source);
      ADD_FAILURE() << "accepted: " << source;
    } catch (const base::Error& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  refused("a\n{{ x | wordwrap }}", "line 2: filter 'wordwrap' is not supported");
  refused("{% include 'other.jinja' %}", "statement 'include' is not supported");
  refused("{{ x is prime }}", "test 'prime' is not supported");
  refused("{% if x %}never closed", "'{% endif %}' is missing");
  refused("{{ 'unterminated }}", "line 1: a string is not closed");
  refused("{{ x + }}", "expected a value");
  refused("{{ " + std::string(500, '(') + "1" + std::string(500, ')') + " }}", "nest too deeply");
  std::string deep_blocks;
  for (int i = 0; i < 300; ++i) deep_blocks += "{% if true %}";
  refused(deep_blocks, "nest more than");
}

TEST(Jinja, TemplateErrorsCarryTheirMessageAndRenderingIsBounded) {
  try {
    render("{{ raise_exception('Roles must alternate') }}");
    ADD_FAILURE() << "no error";
  } catch (const base::InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "Roles must alternate");
  }
  EXPECT_THROW(render("{{ 1 + 'a' }}"), base::InvalidArgument);
  EXPECT_THROW(render("{{ missing.attribute }}"), base::InvalidArgument);
  EXPECT_THROW(render("{{ 'a'.nomethod() }}"), base::InvalidArgument);
  RenderLimits small;
  small.max_loop_iterations = 1000;
  EXPECT_THROW(
      Template("{% for i in range(100) %}{% for j in range(100) %}{% endfor %}{% endfor %}")
          .render({}, 0, small),
      base::InvalidArgument);
  EXPECT_THROW(render("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}"), base::InvalidArgument);
  small.max_output_bytes = 100;
  EXPECT_THROW(Template("{{ 'x' * 1000 }}").render({}, 0, small), base::InvalidArgument);
  EXPECT_THROW(Template("{% for i in range(1000) %}xx{% endfor %}").render({}, 0, small),
               base::InvalidArgument);
}

}  // namespace
}  // namespace infer::generate::jinja
