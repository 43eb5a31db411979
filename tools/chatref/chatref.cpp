// chatref prints, as JSON, what llama.cpp's built-in (non-Jinja) chat
// templates make of a fixed set of conversations: the reference that
// pkg/chat/testdata/llamacpp.json holds and pkg/chat's tests compare against.
//
// Build and run: tools/chatref/gen.sh (see tools/chatref/README.md), which
// compiles this file against llama.cpp's prebuilt CPU libraries the way
// ../shared/tools/reference/setup.sh does and writes the golden file.
//
// usage: chatref VERSION_JSON TEMPLATE.jinja...
//
// VERSION_JSON is a JSON value, copied as it is, naming the llama.cpp build.
// For every name of llama_chat_builtin_templates (and a few names that are
// not), every conversation below, with and without add_ass, it records the
// output of llama_chat_apply_template or that it failed. For every Jinja
// template file, it records the built-in format llama.cpp detects
// (llm_chat_detect_template, from the internal header llama-chat.h; the
// library exports it) and what llama_chat_apply_template renders with it.
// No model is needed.
#include "llama.h"
#include "llama-chat.h"

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

struct Conversation {
    const char *name;
    std::vector<llama_chat_message> msgs;
};

// The conversations every built-in format renders. Together they cover the
// cases in which formats differ: a system message first, none, two, one in
// the middle; a conversation ending with the assistant; contents needing
// trimming (C isspace: " \t\n\v\f\r"), with Unicode that must not be
// trimmed (U+00A0, U+3000); empty contents; and roles beyond the usual
// three.
const std::vector<Conversation> &conversations() {
    static const std::vector<Conversation> c = {
        {"system_user_assistant_user", {
            {"system", "You are a helpful assistant"},
            {"user", "Hello"},
            {"assistant", "Hi there"},
            {"user", "Who are you"},
        }},
        {"user", {
            {"user", "Hello"},
        }},
        {"empty", {}},
        {"user_assistant", {
            {"user", "Hello"},
            {"assistant", "Hi there"},
        }},
        {"whitespace_unicode", {
            {"system", "  Be terse.\n"},
            {"user", "\t H\xc3\xa9llo, \xe4\xb8\x96\xe7\x95\x8c! \xf0\x9f\x91\x8b \n\n"},
            {"assistant", "\n Bonjour \xe2\x80\x94 \xc3\xa7" "a va ?  \r\n"},
            {"user", "\v\f\xc2\xa0what's 2+2?\xe3\x80\x80\n"},
            {"assistant", "   I am an assistant   "},
            {"user", " \n "},
        }},
        {"two_systems_first", {
            {"system", "First system."},
            {"system", "Second system."},
            {"user", "Hello"},
            {"assistant", "Hi there"},
            {"user", "Who are you"},
        }},
        {"system_in_middle", {
            {"user", "Hello"},
            {"assistant", "Hi there"},
            {"system", "Now answer in French."},
            {"user", "Who are you"},
        }},
        {"empty_contents", {
            {"system", ""},
            {"user", ""},
            {"assistant", ""},
            {"user", ""},
        }},
        {"other_roles", {
            {"system", "Tools are available."},
            {"user", "What is the weather?"},
            {"assistant_tool_call", "<tool_call>{\"name\": \"get_weather\"}</tool_call>"},
            {"tool", "{\"temperature\": 72}"},
            {"function", "sunny"},
            {"developer", "Be brief."},
            {"assistant", "It is 72 degrees."},
            {"User", "Thanks"},
        }},
    };
    return c;
}

// Names given to llama_chat_apply_template besides the built-in ones:
// "dots1" (a format llama.cpp detects but does not list), an empty
// template, unknown ones, and "mistral", which is no name but is detected
// by its prefix.
const std::vector<std::string> extra_names = {
    "dots1", "", "no-such-template", "INVALID TEMPLATE", "mistral", "CHATML",
};

std::string quote(const std::string &s) {
    std::string out = "\"";
    for (unsigned char ch : s) {
        switch (ch) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (ch < 0x20 || ch == 0x7f) {
                char buf[8];
                snprintf(buf, sizeof buf, "\\u%04x", ch);
                out += buf;
            } else {
                out += (char) ch;
            }
        }
    }
    return out + "\"";
}

// apply runs llama_chat_apply_template; ok is false when it fails.
std::string apply(const char *tmpl, const std::vector<llama_chat_message> &msgs, bool add_ass, bool &ok) {
    int32_t n = llama_chat_apply_template(tmpl, msgs.data(), msgs.size(), add_ass, nullptr, 0);
    if (n < 0) {
        ok = false;
        return "";
    }
    std::vector<char> buf(n + 1);
    int32_t m = llama_chat_apply_template(tmpl, msgs.data(), msgs.size(), add_ass, buf.data(), buf.size());
    if (m != n) {
        fprintf(stderr, "chatref: %s: length changed from %d to %d\n", tmpl, n, m);
        exit(1);
    }
    ok = true;
    return std::string(buf.data(), n);
}

std::string output_fields(const char *tmpl, const std::vector<llama_chat_message> &msgs, bool add_ass) {
    bool ok;
    std::string out = apply(tmpl, msgs, add_ass, ok);
    return ok ? "\"output\": " + quote(out) : "\"error\": true";
}

} // namespace

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: chatref VERSION_JSON TEMPLATE.jinja...\n");
        return 2;
    }
    llama_log_set([](ggml_log_level, const char *, void *) {}, nullptr);

    std::vector<const char *> names(llama_chat_builtin_templates(nullptr, 0));
    llama_chat_builtin_templates(names.data(), names.size());

    // The name of each format, to name what llm_chat_detect_template finds.
    std::map<llm_chat_template, std::string> format_name = {
        {LLM_CHAT_TEMPLATE_DOTS1, "dots1"},
        {LLM_CHAT_TEMPLATE_UNKNOWN, ""},
    };
    for (const char *name : names) {
        format_name[llm_chat_template_from_str(name)] = name;
    }

    std::string sep;
    printf("{\n\"llama_cpp\": %s,\n", argv[1]);

    printf("\"builtin_templates\": [");
    for (const char *name : names) {
        printf("%s%s", sep.c_str(), quote(name).c_str());
        sep = ", ";
    }
    printf("],\n");

    printf("\"conversations\": {");
    sep = "\n";
    for (const auto &c : conversations()) {
        printf("%s  %s: [", sep.c_str(), quote(c.name).c_str());
        std::string msep;
        for (const auto &m : c.msgs) {
            printf("%s{\"role\": %s, \"content\": %s}", msep.c_str(), quote(m.role).c_str(), quote(m.content).c_str());
            msep = ", ";
        }
        printf("]");
        sep = ",\n";
    }
    printf("\n},\n");

    std::vector<std::string> tmpls(names.begin(), names.end());
    tmpls.insert(tmpls.end(), extra_names.begin(), extra_names.end());
    printf("\"apply\": [");
    sep = "\n";
    for (const auto &t : tmpls) {
        for (const auto &c : conversations()) {
            for (bool add_ass : {false, true}) {
                printf("%s{\"template\": %s, \"conversation\": %s, \"add_assistant\": %s, %s}", sep.c_str(),
                       quote(t).c_str(), quote(c.name).c_str(), add_ass ? "true" : "false",
                       output_fields(t.c_str(), c.msgs, add_ass).c_str());
                sep = ",\n";
            }
        }
    }
    printf("\n],\n");

    // Jinja templates: what llama.cpp detects, and renders with the first
    // conversation and a generation prompt.
    const Conversation &conv = conversations()[0];
    printf("\"detect\": [");
    sep = "\n";
    for (int i = 2; i < argc; i++) {
        std::ifstream f(argv[i], std::ios::binary);
        if (!f) {
            fprintf(stderr, "chatref: cannot read %s\n", argv[i]);
            return 1;
        }
        std::stringstream ss;
        ss << f.rdbuf();
        std::string src = ss.str();
        std::string name = argv[i];
        name = name.substr(name.find_last_of('/') + 1);
        printf("%s{\"name\": %s, \"detected\": %s, \"conversation\": %s, \"add_assistant\": true, %s,\n \"source\": %s}",
               sep.c_str(), quote(name).c_str(), quote(format_name.at(llm_chat_detect_template(src))).c_str(),
               quote(conv.name).c_str(), output_fields(src.c_str(), conv.msgs, true).c_str(), quote(src).c_str());
        sep = ",\n";
    }
    printf("\n]\n}\n");
    return 0;
}
