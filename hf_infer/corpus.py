"""Text corpus for tokenizer golden tests: prose, code, many scripts, emoji, numbers, odd
whitespace and special-token look-alikes. Deterministic (seeded) so goldens are reproducible."""
from __future__ import annotations

import random

HANDWRITTEN = [
    "Hello world",
    "Hello, world!",
    " Hello world",
    "Hello world ",
    "  leading and trailing  ",
    "Once upon a time, there was a little girl named Lily.",
    "The quick brown fox jumps over the lazy dog.",
    "I'm sure you'll see they've done it, haven't they? We'd go.",
    "UPPER CASE and MiXeD cAsE words",
    "tabs\tbetween\twords",
    "line one\nline two\n\nline four",
    "windows\r\nline endings\r\n",
    "trailing newline\n",
    "\n\n\nleading newlines",
    "multiple     spaces    here",
    "   ",
    " ",
    "\t",
    "\n",
    "a",
    "ab",
    "1",
    "12",
    "123",
    "1234",
    "12345678901234567890",
    "3.14159 2.71828 -42 +7 1e-9 0x1F",
    "Prices: $5, €10, £20, ¥300",
    "email: someone@example.com, url: https://example.com/a?b=c&d=e#f",
    "def add(a, b):\n    return a + b\n",
    "for (int i = 0; i < n; ++i) { sum += x[i]; }",
    "#include <stdio.h>\nint main(void) { printf(\"hi\\n\"); return 0; }",
    "SELECT name, COUNT(*) FROM users WHERE age > 21 GROUP BY name;",
    "{\"key\": [1, 2, 3], \"nested\": {\"a\": null, \"b\": true}}",
    "<html><body><p class=\"x\">Text</p></body></html>",
    "    indented code with four spaces",
    "snake_case_name camelCaseName PascalCaseName kebab-case-name",
    "Über straße naïve café résumé façade coöperate",
    "Ελληνικά κείμενο με τόνους",
    "Русский текст: съешь же ещё этих мягких французских булок",
    "中文文本：今天天气很好，我们去公园散步吧。",
    "日本語のテキスト：こんにちは、世界！カタカナとひらがな。",
    "한국어 텍스트: 안녕하세요, 세계!",
    "العربية: مرحبا بالعالم",
    "עברית: שלום עולם",
    "हिन्दी: नमस्ते दुनिया",
    "ไทย: สวัสดีชาวโลก",
    "Tiếng Việt: Xin chào thế giới",
    "emoji 😀😃😄 and 👍🏽 skin tone",
    "family 👨‍👩‍👧‍👦 zwj sequence",
    "flags 🇺🇸🇯🇵 and keycap 1️⃣",
    "combining: e\u0301 a\u0308 n\u0303",
    "math: ∑ x² ≤ ∞, ∀x ∈ ℝ",
    "arrows → ← ↑ ↓ ⇒",
    "box drawing ┌─┐│└─┘",
    "zero\u200bwidth\u200bspace",
    "non\u00a0breaking\u00a0space",
    "ideographic\u3000space",
    "supercalifragilisticexpialidocious",
    "pneumonoultramicroscopicsilicovolcanoconiosis" * 3,
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "!!!???...,,,;;;:::",
    "'quoted' \"double\" `backtick`",
    "<s> looks like a special token",
    "</s> end",
    "<unk> unknown",
    "text with <|im_start|> and <|im_end|> inside",
    "<|start_story|>Once<|end_story|>",
    "<0x41> byte token look-alike",
    "▁ metaspace character itself",
    "ŉ rare latin",
    "\u0000 nul char",
    "\x7f delete char",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 fraktur 𝕳𝖊𝖑𝖑𝖔",
    "🤖🧠💡🚀",
    # Case-insensitive contractions, as Llama 3 / Qwen regexes match them.
    "IT'S HE'LL WE'VE THEY'RE I'M YOU'D DON'T",
    "it's he'll we've they're i'm you'd don't",
    "rock'n'roll o'clock 'tis '90s",
    # Whitespace of every kind.
    "a\u0085b next line char",
    "space before newline \nand after",
    "  \n  \n  mixed indentation",
    "\r\n\r\n",
    "\t\t\ttabs only",
    "x  \t  y",
    "trailing tabs\t\t",
    "en\u2002space em\u2003space thin\u2009space",
    "line\u2028separator paragraph\u2029separator",
    # Not white space since Unicode 6.3, though PCRE2's \s still takes it; HF's regex does not.
    "a\u180eb x \u180e\u180e y\n\u180e",
    "zero\u200bwidth next\u0085line ogham\u1680mark",
    # Normalisation: decomposed and composed forms, compatibility characters.
    "e\u0301cole vs \u00e9cole",
    "\u1100\u1161\u11a8 Hangul jamo vs \uac01",
    "A\u030a ångström \u212b",
    "ﬁ ligature ① circled ｆｕｌｌｗｉｄｔｈ",
    "\u0041\u0300\u0301\u0302 stacked marks",
    # Numbers.
    "0", "00", "007", "1000000", "3,141,592", "1.5e10", "-0.0001", "１２３ fullwidth digits",
    "٠١٢٣ Arabic-Indic digits", "½ ¾ ² ³ numeric symbols",
    # Code.
    "if (x != y && z >= 0) { return -1; }",
    "const auto& [key, value] : map",
    "print(f\"{name!r:>10}\")",
    "SELECT * FROM t;\n-- comment\n/* block */",
    "fn main() -> Result<(), Box<dyn Error>> {\n    Ok(())\n}",
    "<?php echo $var; ?>",
    "~/.bashrc && export PATH=$PATH:/usr/local/bin",
    "x = [i**2 for i in range(10) if i % 2 == 0]",
    # CJK and other scripts in context.
    "我爱北京天安门。",
    "東京都は日本の首都です。",
    "서울은 한국의 수도입니다.",
    "Привет, как дела? Всё хорошо!",
    "שלום, מה שלומך?",
    "مرحبا، كيف حالك؟",
    "Γειά σου Κόσμε",
    "ქართული ენა",
    "Հայերեն",
    "አማርኛ",
    "ᚠᛇᚻ runes",
    "𓀀𓀁 hieroglyphs",
    # Emoji.
    "👩🏽‍💻 woman technologist medium skin",
    "🏳️‍🌈 rainbow flag",
    "❤️ ❤ heart with and without VS16",
    "👍👍🏻👍🏼👍🏽👍🏾👍🏿",
    "🧑‍🤝‍🧑 people holding hands",
    # Special-token look-alikes of every tokenizer in ../shared.
    "<|begin_of_text|>hello<|end_of_text|>",
    "<|eot_id|> <|start_header_id|>user<|end_header_id|>",
    "<|im_start|>system\nYou are helpful.<|im_end|>\n",
    "<|endoftext|>",
    "<s>[INST] hi [/INST]</s>",
    "< s > <| im_start |>",
    "<<SYS>> system <</SYS>>",
    # Long inputs.
    "word " * 200,
    "x" * 1000,
    "🙂" * 100,
    "中" * 300,
    ("The quick brown fox jumps over the lazy dog. " * 20).strip(),
]


def generated(seed: int = 1234, count: int = 420) -> list[str]:
    """Random mixes of words, numbers, punctuation and Unicode from many blocks."""
    rng = random.Random(seed)
    words = ["the", "cat", "sat", "on", "mat", "Lily", "played", "happy", "ball", "tree", "sun",
             "run", "jump", "über", "naïve", "日本", "中文", "한국", "мир", "مرحبا", "🙂", "👍🏻"]
    blocks = [(0x20, 0x7E), (0xA0, 0x24F), (0x370, 0x3FF), (0x400, 0x4FF), (0x590, 0x6FF),
              (0x900, 0x97F), (0x3040, 0x30FF), (0x4E00, 0x4FFF), (0xAC00, 0xAD00), (0x1F300, 0x1F64F)]
    out = []
    for i in range(count):
        if i % 2 == 0:
            parts = []
            for _ in range(rng.randint(1, 12)):
                r = rng.random()
                if r < 0.6:
                    parts.append(rng.choice(words))
                elif r < 0.8:
                    parts.append(str(rng.randint(0, 10 ** rng.randint(1, 9))))
                else:
                    parts.append(rng.choice([",", ".", "!", "?", "--", "(", ")", "\"", "'"]))
            seps = [" ", " ", " ", "  ", "\n", "\t", "", "\r\n", "   "]
            out.append("".join(p + rng.choice(seps) for p in parts))
        else:
            lo, hi = rng.choice(blocks)
            out.append("".join(chr(rng.randint(lo, hi)) for _ in range(rng.randint(1, 20))))
    return out


def corpus() -> list[str]:
    return list(dict.fromkeys(HANDWRITTEN + generated()))  # unique, in order
