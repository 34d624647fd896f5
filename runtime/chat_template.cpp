#include "runtime/chat_template.h"

#include "core/error.h"

#include <ctime>

namespace strata {

namespace {

std::string trim(const std::string& s) { // Jinja's trim / Python's strip: ASCII whitespace
    const char* ws = " \t\n\r\f\v";
    const size_t a = s.find_first_not_of(ws);
    if (a == std::string::npos) return "";
    return s.substr(a, s.find_last_not_of(ws) - a + 1);
}

struct Named {
    ChatFamily family;
    const char* name;
};
const Named kNames[] = {{ChatFamily::Llama2, "llama-2"},
                        {ChatFamily::Llama3, "llama-3"},
                        {ChatFamily::ChatML, "chatml"},
                        {ChatFamily::Mistral, "mistral"},
                        {ChatFamily::Gemma, "gemma"},
                        {ChatFamily::Zephyr, "zephyr"},
                        // (issue #20's families)
                        {ChatFamily::Qwen3, "qwen3"},
                        {ChatFamily::Qwen3NoThink, "qwen3-no-think"},
                        {ChatFamily::Phi3, "phi-3"},
                        {ChatFamily::Granite, "granite"},
                        {ChatFamily::SmolLM3, "smollm3"},
                        {ChatFamily::SmolLM3NoThink, "smollm3-no-think"},
                        {ChatFamily::Llama31, "llama-3.1"},
                        {ChatFamily::Llama32, "llama-3.2"}};

// ---- issue #20's families, each as its Jinja template renders (without tools) ----

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }
bool ends_with(const std::string& s, const std::string& x) {
    return s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
}
std::string lstrip_newlines(const std::string& s) { // Python's lstrip('\n')
    const size_t a = s.find_first_not_of('\n');
    return a == std::string::npos ? "" : s.substr(a);
}
std::string rstrip_newlines(const std::string& s) {
    const size_t b = s.find_last_not_of('\n');
    return b == std::string::npos ? "" : s.substr(0, b + 1);
}
std::string rstrip(const std::string& s) { // Python's rstrip(): whitespace
    const size_t b = s.find_last_not_of(" \t\n\r\f\v");
    return b == std::string::npos ? "" : s.substr(0, b + 1);
}
std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
        s.replace(at, from.size(), to);
    return s;
}

const char* const kMonths[] = {"January",   "February", "March",    "April",
                               "May",       "June",     "July",     "August",
                               "September", "October",  "November", "December"};

std::string two_digits(int v) { // strftime's %d
    const char digits[3] = {char('0' + v / 10 % 10), char('0' + v % 10), 0};
    return digits;
}

// Llama 3.1/3.2/3.3 instruct: BOS, a system header stating the knowledge cutoff and the date
// (then the trimmed system message, if any), each turn's content trimmed.
std::string render_llama31(const std::vector<ChatMessage>& msgs, bool gen, const std::string& bos,
                           const std::string& date) {
    size_t first = 0;
    std::string system;
    if (!msgs.empty() && msgs[0].role == "system") system = trim(msgs[0].content), first = 1;
    std::string out = bos +
                      "<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge "
                      "Date: December 2023\nToday Date: " +
                      date + "\n\n" + system + "<|eot_id|>";
    for (size_t i = first; i < msgs.size(); i++)
        out += "<|start_header_id|>" + msgs[i].role + "<|end_header_id|>\n\n" +
               trim(msgs[i].content) + "<|eot_id|>";
    if (gen) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
    return out;
}

// Qwen3: ChatML; the system message first; an assistant turn before the last user query loses
// its <think>...</think> part (only the answer stays in the history); the generation prompt
// with enable_thinking=false carries an empty think block.
std::string render_qwen3(const std::vector<ChatMessage>& msgs, bool gen, bool no_think) {
    std::string out;
    if (!msgs.empty() && msgs[0].role == "system")
        out += "<|im_start|>system\n" + msgs[0].content + "<|im_end|>\n";
    size_t last_query = msgs.size() - 1; // the last user message that is not a tool response
    for (size_t i = msgs.size(); i-- > 0;)
        if (msgs[i].role == "user" && !(starts_with(msgs[i].content, "<tool_response>") &&
                                        ends_with(msgs[i].content, "</tool_response>"))) {
            last_query = i;
            break;
        }
    for (size_t i = 0; i < msgs.size(); i++) {
        const ChatMessage& m = msgs[i];
        if (m.role == "user" || (m.role == "system" && i > 0)) {
            out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
        } else if (m.role == "assistant") {
            std::string content = m.content, reasoning;
            const size_t close = content.find("</think>");
            if (close != std::string::npos) {
                const std::string before = rstrip_newlines(content.substr(0, close));
                const size_t open = before.rfind("<think>");
                reasoning =
                    lstrip_newlines(open == std::string::npos ? before : before.substr(open + 7));
                content = lstrip_newlines(content.substr(content.rfind("</think>") + 8));
            }
            out += "<|im_start|>assistant\n";
            if (i > last_query && (i + 1 == msgs.size() || !reasoning.empty()))
                out += "<think>\n" + rstrip_newlines(lstrip_newlines(reasoning)) +
                       "\n</think>\n\n" + lstrip_newlines(content);
            else
                out += content;
            out += "<|im_end|>\n";
        }
    }
    if (gen)
        out +=
            no_think ? "<|im_start|>assistant\n<think>\n\n</think>\n\n" : "<|im_start|>assistant\n";
    return out;
}

// Phi-3/3.5-mini-instruct: <|role|>\n content <|end|>\n; an empty system message is left out;
// without a generation prompt the text ends with EOS.
std::string render_phi3(const std::vector<ChatMessage>& msgs, bool gen, const std::string& eos) {
    std::string out;
    for (const auto& m : msgs)
        if (m.role != "system" || !m.content.empty())
            out += "<|" + m.role + "|>\n" + m.content + "<|end|>\n";
    return out + (gen ? "<|assistant|>\n" : eos);
}

// Granite 3.1-3.3 instruct: roles in <|start_of_role|>..<|end_of_role|>, turns end with
// <|end_of_text|> and a newline; without a system message the template writes its own, dated.
std::string render_granite(const std::vector<ChatMessage>& msgs, bool gen, const ChatDate& today) {
    std::string out;
    size_t first = 0;
    std::string system;
    if (!msgs.empty() && msgs[0].role == "system") {
        system = msgs[0].content, first = 1;
    } else {
        system = "Knowledge Cutoff Date: April 2024.\nToday's Date: " +
                 std::string(kMonths[today.month - 1]) + " " + two_digits(today.day) + ", " +
                 std::to_string(today.year) +
                 ".\nYou are Granite, developed by IBM. You are a helpful AI assistant.";
    }
    out += "<|start_of_role|>system<|end_of_role|>" + system + "<|end_of_text|>\n";
    for (size_t i = first; i < msgs.size(); i++)
        out += "<|start_of_role|>" + msgs[i].role + "<|end_of_role|>" + msgs[i].content +
               "<|end_of_text|>\n";
    if (gen && first < msgs.size()) out += "<|start_of_role|>assistant<|end_of_role|>";
    return out;
}

// SmolLM3: a generated system block (metadata with today's date, the reasoning mode, the custom
// instructions or a default persona); "/think" or "/no_think" in the system message picks the
// mode. As the released template does, the system block has no <|im_end|> unless tools are
// given (strata passes none). In /no_think mode assistant turns carry an empty think block.
std::string render_smollm3(const std::vector<ChatMessage>& msgs, bool gen, bool no_think,
                           const ChatDate& today) {
    std::string mode = no_think ? "/no_think" : "/think", system, custom;
    const bool has_system = !msgs.empty() && msgs[0].role == "system";
    if (has_system) {
        system = msgs[0].content;
        if (system.find("/no_think") != std::string::npos)
            mode = "/no_think";
        else if (system.find("/think") != std::string::npos)
            mode = "/think";
        custom = rstrip(replace_all(replace_all(system, "/no_think", ""), "/think", ""));
    }
    std::string out = "<|im_start|>system\n";
    if (system.find("/system_override") != std::string::npos) {
        out += rstrip(replace_all(custom, "/system_override", "")) + "<|im_end|>\n";
    } else {
        out += "## Metadata\n\nKnowledge Cutoff Date: June 2025\nToday Date: " +
               two_digits(today.day) + " " + kMonths[today.month - 1] + " " +
               std::to_string(today.year) + "\nReasoning Mode: " + mode +
               "\n\n## Custom Instructions\n\n";
        if (!custom.empty())
            out += custom + "\n\n";
        else if (mode == "/think")
            out +=
                "You are a helpful AI assistant named SmolLM, trained by Hugging Face. Your role "
                "as an assistant involves thoroughly exploring questions through a systematic "
                "thinking process before providing the final precise and accurate solutions. "
                "This requires engaging in a comprehensive cycle of analysis, summarizing, "
                "exploration, reassessment, reflection, backtracking, and iteration to develop "
                "well-considered thinking process. Please structure your response into two main "
                "sections: Thought and Solution using the specified format: <think> Thought "
                "section </think> Solution section. In the Thought section, detail your "
                "reasoning process in steps. Each step should include detailed considerations "
                "such as analysing questions, summarizing relevant findings, brainstorming new "
                "ideas, verifying the accuracy of the current steps, refining any errors, and "
                "revisiting previous steps. In the Solution section, based on various attempts, "
                "explorations, and reflections from the Thought section, systematically present "
                "the final solution that you deem correct. The Solution section should be "
                "logical, accurate, and concise and detail necessary steps needed to reach the "
                "conclusion.\n\n";
        else
            out += "You are a helpful AI assistant named SmolLM, trained by Hugging Face.\n\n";
    }
    const std::string empty_think = mode == "/think" ? "" : "<think>\n\n</think>\n";
    for (const auto& m : msgs) {
        if (m.role == "user")
            out += "<|im_start|>user\n" + m.content + "<|im_end|>\n";
        else if (m.role == "assistant")
            out += "<|im_start|>assistant\n" + empty_think + lstrip_newlines(m.content) +
                   "<|im_end|>\n";
    }
    if (gen) out += "<|im_start|>assistant\n" + empty_think;
    return out;
}

} // namespace

std::optional<ChatFamily> detect_chat_family(const std::string& t) {
    if (t.empty()) return std::nullopt;
    // (issue #20's families first: their markers are more specific than ChatML's or Zephyr's)
    auto has = [&](const char* s) { return t.find(s) != std::string::npos; };
    if (has("<|start_of_role|>")) return ChatFamily::Granite;
    if (has("<|start_header_id|>") && has("Cutting Knowledge Date"))
        return has("strftime_now") ? ChatFamily::Llama32 : ChatFamily::Llama31;
    if (has("<|im_start|>") && has("Reasoning Mode")) return ChatFamily::SmolLM3;
    if (has("<|im_start|>") && has("enable_thinking") && has("<think>")) return ChatFamily::Qwen3;
    if (has("<|user|>") && has("<|end|>")) return ChatFamily::Phi3;
    if (t.find("<|start_header_id|>") != std::string::npos) return ChatFamily::Llama3;
    if (t.find("<|im_start|>") != std::string::npos) return ChatFamily::ChatML;
    if (t.find("<start_of_turn>") != std::string::npos) return ChatFamily::Gemma;
    if (t.find("<|user|>") != std::string::npos) return ChatFamily::Zephyr;
    if (t.find("[INST]") != std::string::npos)
        return t.find("<<SYS>>") != std::string::npos ? ChatFamily::Llama2 : ChatFamily::Mistral;
    return std::nullopt;
}

std::optional<ChatFamily> chat_family_from_name(const std::string& name) {
    if (name == "qwen" || name == "qwen2") return ChatFamily::ChatML;
    if (name == "llama2") return ChatFamily::Llama2;
    if (name == "llama3") return ChatFamily::Llama3;
    if (name == "phi3") return ChatFamily::Phi3;
    for (const Named& n : kNames)
        if (name == n.name) return n.family;
    return std::nullopt;
}

const char* chat_family_name(ChatFamily f) {
    for (const Named& n : kNames)
        if (n.family == f) return n.name;
    return "?";
}

std::vector<std::string> chat_family_names() {
    std::vector<std::string> out;
    for (const Named& n : kNames) out.push_back(n.name);
    return out;
}

ChatDate chat_date_today() {
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    return {local.tm_year + 1900, local.tm_mon + 1, local.tm_mday};
}

std::string render_chat(ChatFamily f, const std::vector<ChatMessage>& msgs, bool gen,
                        const std::string& bos, const std::string& eos) {
    return render_chat_on(f, msgs, gen, bos, eos, chat_date_today());
}

std::string render_chat_on(ChatFamily f, const std::vector<ChatMessage>& msgs, bool gen,
                           const std::string& bos, const std::string& eos, const ChatDate& today) {
    if (today.month < 1 || today.month > 12) fail("chat date: month out of range");
    for (const auto& m : msgs)
        if (m.role != "system" && m.role != "user" && m.role != "assistant")
            fail("chat message role '" + m.role + "' is not one of system, user, assistant");
    std::string out;
    switch (f) {
    case ChatFamily::Llama3: // Meta-Llama-3-Instruct
        for (size_t i = 0; i < msgs.size(); i++) {
            if (i == 0) out += bos;
            out += "<|start_header_id|>" + msgs[i].role + "<|end_header_id|>\n\n" +
                   trim(msgs[i].content) + "<|eot_id|>";
        }
        if (gen) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
        return out;
    case ChatFamily::ChatML: // Qwen2 / ChatML
        for (const auto& m : msgs)
            out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
        if (gen) out += "<|im_start|>assistant\n";
        return out;
    case ChatFamily::Llama2: { // Llama-2-chat: the system prompt folds into the first user turn
        size_t first = 0;
        std::string system;
        if (!msgs.empty() && msgs[0].role == "system") system = msgs[0].content, first = 1;
        for (size_t i = first; i < msgs.size(); i++) {
            std::string content = msgs[i].content;
            if (i == first && first == 1)
                content = "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + content;
            if (msgs[i].role == "user")
                out += bos + "[INST] " + trim(content) + " [/INST]";
            else if (msgs[i].role == "assistant")
                out.append(" ").append(trim(content)).append(" ").append(eos);
        }
        return out;
    }
    case ChatFamily::Mistral: { // Mistral-7B-Instruct v0.1/v0.2: no system role; it joins the first
                                // user turn
        out += bos;
        std::string system;
        for (const auto& m : msgs) {
            if (m.role == "system")
                system = m.content;
            else if (m.role == "user")
                out += "[INST] " + (system.empty() ? "" : system + "\n\n") + m.content + " [/INST]",
                    system.clear();
            else
                out += m.content + eos;
        }
        return out;
    }
    case ChatFamily::Gemma: { // Gemma-it: assistant is "model"; no system role (joins the first
                              // user turn)
        out += bos;
        std::string system;
        for (const auto& m : msgs) {
            if (m.role == "system") {
                system = m.content;
                continue;
            }
            const std::string role = m.role == "assistant" ? "model" : m.role;
            std::string content = m.content;
            if (!system.empty() && m.role == "user")
                content = system + "\n\n" + content, system.clear();
            out += "<start_of_turn>" + role + "\n" + trim(content) + "<end_of_turn>\n";
        }
        if (gen) out += "<start_of_turn>model\n";
        return out;
    }
    case ChatFamily::Qwen3:
    case ChatFamily::Qwen3NoThink:
        return render_qwen3(msgs, gen, f == ChatFamily::Qwen3NoThink);
    case ChatFamily::Phi3:
        return render_phi3(msgs, gen, eos);
    case ChatFamily::Granite:
        return render_granite(msgs, gen, today);
    case ChatFamily::SmolLM3:
    case ChatFamily::SmolLM3NoThink:
        return render_smollm3(msgs, gen, f == ChatFamily::SmolLM3NoThink, today);
    case ChatFamily::Llama31:
        return render_llama31(msgs, gen, bos, "26 Jul 2024");
    case ChatFamily::Llama32:
        return render_llama31(msgs, gen, bos,
                              two_digits(today.day) + " " +
                                  std::string(kMonths[today.month - 1]).substr(0, 3) + " " +
                                  std::to_string(today.year));
    case ChatFamily::Zephyr: // zephyr / TinyLlama-Chat
        for (size_t i = 0; i < msgs.size(); i++) {
            out += "<|" + msgs[i].role + "|>\n" + msgs[i].content + eos;
            if (i + 1 == msgs.size() && gen) out += "<|assistant|>";
        }
        return out;
    }
    return out;
}

std::string chat_turn_end(ChatFamily f, const std::string& eos) {
    switch (f) {
    case ChatFamily::Llama3:
    case ChatFamily::Llama31:
    case ChatFamily::Llama32:
        return "<|eot_id|>";
    case ChatFamily::ChatML:
        return "<|im_end|>";
    case ChatFamily::Gemma:
        return "<end_of_turn>";
    case ChatFamily::Qwen3:
    case ChatFamily::Qwen3NoThink:
    case ChatFamily::SmolLM3:
    case ChatFamily::SmolLM3NoThink:
        return "<|im_end|>";
    case ChatFamily::Phi3:
        return "<|end|>";
    case ChatFamily::Granite:
        return "<|end_of_text|>";
    default:
        return eos;
    }
}

} // namespace strata
