"""Chat templates of checkpoints whose tokenizer files are not in the shared data.

The shared Llama 2 tokenizer has no chat_template and the shared Mistral tokenizer carries a
ChatML one, so the goldens for the Llama-2-chat and Mistral-Instruct formats render with the
templates those models publish in their tokenizer_config.json (copied here as data, verbatim):
  LLAMA2_CHAT       meta-llama/Llama-2-7b-chat-hf
  MISTRAL_V01       mistralai/Mistral-7B-Instruct-v0.1 (a space after each reply's EOS)
  MISTRAL_V02       mistralai/Mistral-7B-Instruct-v0.2
"""

LLAMA2_CHAT = (
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
    "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
    "{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}{% if loop.index0 == 0 and system_message != false %}"
    "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}"
    "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}"
    "{% endif %}{% endfor %}"
)

_MISTRAL = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + REPLY_END }}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}"
    "{% endfor %}"
)
MISTRAL_V01 = _MISTRAL.replace("REPLY_END", "eos_token + ' '")
MISTRAL_V02 = _MISTRAL.replace("REPLY_END", "eos_token")
