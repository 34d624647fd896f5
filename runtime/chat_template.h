// Chat templates: the common families, recognized from the template text a model ships (stored
// at convert time) and rendered exactly as their Jinja templates render. Overridable by name.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace strata {

enum class ChatFamily {
    Llama2,
    Llama3,
    ChatML,
    Mistral,
    Gemma,
    Zephyr,
    // Qwen3 and SmolLM3 think by default; their -no-think entries render the template with
    // enable_thinking=false.
    Qwen3,
    Qwen3NoThink,
    Phi3,
    Granite,
    SmolLM3,
    SmolLM3NoThink,
    // Llama 3.1+ write a system header with a knowledge cutoff and a date: 3.1 (and 3.3) the
    // fixed "26 Jul 2024", 3.2 today's.
    Llama31,
    Llama32,
};

struct ChatMessage {
    std::string role; // system | user | assistant
    std::string content;
};

// The family a template's text belongs to, if strata knows it.
std::optional<ChatFamily> detect_chat_family(const std::string& template_text);
// llama-2, llama-3, chatml (also: qwen), mistral, gemma, zephyr.
std::optional<ChatFamily> chat_family_from_name(const std::string& name);
const char* chat_family_name(ChatFamily f);
std::vector<std::string> chat_family_names();

// The prompt text for `messages`; with `add_generation_prompt`, ends where the assistant's
// reply begins. `bos`/`eos` are the model's BOS/EOS token texts (they appear as text and are
// matched back to the special tokens when tokenized).
std::string render_chat(ChatFamily f, const std::vector<ChatMessage>& messages,
                        bool add_generation_prompt, const std::string& bos, const std::string& eos);

// A calendar date, for the templates whose default system prompt states today's date
// (strftime_now in transformers: SmolLM3, Granite 3.1+, Llama 3.2).
struct ChatDate {
    int year = 0, month = 0, day = 0; // month 1..12
};
ChatDate chat_date_today(); // local time, as transformers' strftime_now
// render_chat with the date those templates state (render_chat uses today's).
std::string render_chat_on(ChatFamily f, const std::vector<ChatMessage>& messages,
                           bool add_generation_prompt, const std::string& bos,
                           const std::string& eos, const ChatDate& today);

// The text that ends an assistant turn in this family (besides EOS), e.g. "<|eot_id|>".
std::string chat_turn_end(ChatFamily f, const std::string& eos);

} // namespace strata
