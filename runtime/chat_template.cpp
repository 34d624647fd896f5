#include "runtime/chat_template.h"

#include "core/error.h"

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
const Named kNames[] = {{ChatFamily::Llama2, "llama-2"}, {ChatFamily::Llama3, "llama-3"},
                        {ChatFamily::ChatML, "chatml"},  {ChatFamily::Mistral, "mistral"},
                        {ChatFamily::Gemma, "gemma"},    {ChatFamily::Zephyr, "zephyr"}};

} // namespace

std::optional<ChatFamily> detect_chat_family(const std::string& t) {
    if (t.empty()) return std::nullopt;
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

std::string render_chat(ChatFamily f, const std::vector<ChatMessage>& msgs, bool gen,
                        const std::string& bos, const std::string& eos) {
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
        return "<|eot_id|>";
    case ChatFamily::ChatML:
        return "<|im_end|>";
    case ChatFamily::Gemma:
        return "<end_of_turn>";
    default:
        return eos;
    }
}

} // namespace strata
