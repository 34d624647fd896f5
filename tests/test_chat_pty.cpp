// The chat as a person uses it, through a pseudo-terminal: type, see the streamed answer, use
// the commands, interrupt a reply with Ctrl-C, leave with a second Ctrl-C.
#include "formats/convert.h"
#include "tests/fixtures.h"

#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace strata;
using namespace strata::test;

namespace {

class Pty {
  public:
    // env: NAME=VALUE settings for the child, on top of ours.
    explicit Pty(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
        winsize ws{};
        ws.ws_row = 40, ws.ws_col = 120;
        pid_ = forkpty(&fd_, nullptr, nullptr, &ws);
        if (pid_ == 0) {
            std::vector<char*> argv;
            for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
            argv.push_back(nullptr);
            setenv("HOME", "/tmp", 1);
            setenv("TERM", "xterm", 1);
            for (const auto& e : env) putenv(const_cast<char*>(e.c_str()));
            sigset_t none;
            sigemptyset(&none);
            sigprocmask(SIG_SETMASK, &none, nullptr);
            signal(SIGINT, SIG_DFL);
            execv(argv[0], argv.data());
            _exit(127);
        }
    }
    ~Pty() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        if (fd_ >= 0) close(fd_);
    }
    void type(const std::string& s) { (void)!write(fd_, s.data(), s.size()); }
    // Reads until `needle` appears in what was read since the last call (or the timeout).
    bool wait_for(const std::string& needle, double seconds = 60) {
        const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
        while (std::chrono::steady_clock::now() < end) {
            if (screen_.find(needle, from_) != std::string::npos) {
                from_ = screen_.find(needle, from_) + needle.size();
                return true;
            }
            pollfd p{fd_, POLLIN, 0};
            if (poll(&p, 1, 100) > 0) {
                char buf[4096];
                const ssize_t n = read(fd_, buf, sizeof buf);
                if (n <= 0) break;
                screen_.append(buf, size_t(n));
            }
        }
        return screen_.find(needle, from_) != std::string::npos;
    }
    // Exit status once the process ends (or -1 after the timeout).
    int wait_exit(double seconds = 20) {
        const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
        while (std::chrono::steady_clock::now() < end) {
            int status;
            wait_for("\x01never", 0.05); // keep draining output
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
        }
        return -1;
    }
    const std::string& screen() const { return screen_; }

  private:
    int fd_ = -1;
    pid_t pid_ = -1;
    std::string screen_;
    size_t from_ = 0;
};

const std::string kStrata = STRATA_BIN;

} // namespace

TEST(ChatPty, CompletionModeStreamsTheStoryAndTheCommandsWork) {
    REQUIRE_FIXTURES();
    TempDir dir;
    const std::string model = dir.file("stories.strata");
    ModelSource src =
        import_llama2c(fixture("stories260K/stories260K.bin"), fixture("stories260K/tok512.bin"));
    convert_model(src, model, {});
    Pty chat({kStrata, "-m", model, "--temp", "0", "-n", "30", "--threads", "1"});
    ASSERT_TRUE(chat.wait_for("completion mode")) << chat.screen();
    ASSERT_TRUE(chat.wait_for("> "));
    chat.type("Once upon a time\r");
    EXPECT_TRUE(chat.wait_for(", there was a little girl named Lily.")) << chat.screen();
    EXPECT_TRUE(chat.wait_for("tok/s")) << chat.screen();
    // a branch: continues from here with the KV pages shared, then back to the first
    chat.type("/fork\r");
    EXPECT_TRUE(chat.wait_for("branch 2: forked from branch 1 at")) << chat.screen();
    chat.type("The end.\r");
    EXPECT_TRUE(chat.wait_for("tok/s")) << chat.screen();
    chat.type("/branches\r");
    EXPECT_TRUE(chat.wait_for("  1: ")) << chat.screen();
    EXPECT_TRUE(chat.wait_for("* 2: ")) << chat.screen();
    EXPECT_TRUE(chat.wait_for("KiB of KV copied on write")) << chat.screen();
    chat.type("/branch 1\r");
    EXPECT_TRUE(chat.wait_for("on branch 1:")) << chat.screen();
    chat.type("/branch 9\r");
    EXPECT_TRUE(chat.wait_for("no branch 9 (there are 2)")) << chat.screen();
    chat.type("/stats\r");
    EXPECT_TRUE(chat.wait_for("KV cache: 640 bytes per token")) << chat.screen();
    chat.type("/save " + dir.file("conv.json") + "\r");
    EXPECT_TRUE(chat.wait_for("saved")) << chat.screen();
    chat.type("/reset\r");
    EXPECT_TRUE(chat.wait_for("conversation cleared")) << chat.screen();
    chat.type("/nope\r");
    EXPECT_TRUE(chat.wait_for("unknown command")) << chat.screen();
    chat.type("/quit\r");
    EXPECT_EQ(chat.wait_exit(), 0) << chat.screen();
}

TEST(ChatPty, CtrlCStopsAReplyAndASecondOneExits) {
    TempDir dir;
    const std::string model = dir.file("slow.strata");
    SyntheticOptions syn; // big enough that a long reply takes seconds
    syn.shape = "smollm-135m";
    syn.layers = 6;
    ModelSource src = make_synthetic(syn);
    convert_model(src, model, {DType::Q8_0, 0});
    Pty chat({kStrata, "-m", model, "--chat-template", "chatml", "--ctx", "2048", "--temp", "0",
              "--threads", "1"});
    ASSERT_TRUE(chat.wait_for("chat template: chatml")) << chat.screen();
    ASSERT_TRUE(chat.wait_for("> "));
    chat.type("hello\r");
    ASSERT_TRUE(chat.wait_for("hello")) << chat.screen(); // the echo; the reply is random tokens
    usleep(1000 * 1000);
    chat.type("\x03"); // Ctrl-C: stop this reply
    // "[stopped]" mid-reply, or "[stopped while reading the prompt ..." when the keypress lands
    // before the first token (a slow machine, or STRATA_ISA=ref)
    EXPECT_TRUE(chat.wait_for("[stopped", 30)) << chat.screen();
    EXPECT_TRUE(chat.wait_for("> ")) << chat.screen();
    chat.type("\x03"); // Ctrl-C at the prompt: leave
    EXPECT_EQ(chat.wait_exit(), 130) << chat.screen();
}

// A Ctrl-C while the prompt is being computed (a long system prompt under the reference
// kernels: tens of seconds) stops that turn within a fraction of a second, drops it whole (the
// cache is back to what it held before), shows the prompt again, and the chat goes on.
TEST(ChatPty, CtrlCDuringALongPromptStopsItAndTheChatGoesOn) {
    TempDir dir;
    const std::string model = dir.file("slow.strata");
    SyntheticOptions syn;
    syn.shape = "smollm-135m";
    syn.layers = 6;
    ModelSource src = make_synthetic(syn);
    convert_model(src, model, {DType::Q8_0, 0});
    std::string system; // a few hundred tokens
    while (system.size() < 400) system += "The quick brown fox jumps over the lazy dog. ";
    Pty chat({kStrata, "-m", model, "--chat-template", "chatml", "--ctx", "2048", "--temp", "0",
              "--threads", "1", "-n", "3", "--system", system},
             {"STRATA_ISA=ref"});
    ASSERT_TRUE(chat.wait_for("kernels ref")) << chat.screen();
    ASSERT_TRUE(chat.wait_for("> "));
    chat.type("hello\r");
    ASSERT_TRUE(chat.wait_for("hello")) << chat.screen();
    usleep(1500 * 1000); // well inside the prompt's computation
    const auto t0 = std::chrono::steady_clock::now();
    chat.type("\x03");
    ASSERT_TRUE(chat.wait_for("[stopped while reading the prompt", 10)) << chat.screen();
    const double stop_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("Ctrl-C to [stopped]: %.0f ms\n", stop_s * 1e3);
    EXPECT_LT(stop_s, 1.0) << "the target is about 100 ms; this machine may be loaded";
    ASSERT_TRUE(chat.wait_for("> ")) << chat.screen();
    chat.type("/stats\r"); // the turn was dropped whole: nothing of it is in the cache
    EXPECT_TRUE(chat.wait_for("context: 0 of 2048 tokens used")) << chat.screen();
    chat.type("/system Be brief.\r");
    EXPECT_TRUE(chat.wait_for("new conversation")) << chat.screen();
    chat.type("hi\r"); // a short prompt: computed and answered
    EXPECT_TRUE(chat.wait_for("tok/s", 120)) << chat.screen();
    chat.type("/stats\r");
    EXPECT_TRUE(chat.wait_for("last reply: 3 tokens")) << chat.screen();
    ASSERT_TRUE(chat.wait_for("> ")) << chat.screen();
    chat.type("\x03"); // Ctrl-C at the empty prompt: leave
    EXPECT_EQ(chat.wait_exit(), 130) << chat.screen();
}

// /think switches a template with a thinking switch (Qwen3, SmolLM3) to its -no-think variant
// and back, refuses for one without, and the chat goes on with the switched template.
TEST(ChatPty, ThinkSwitchesTheQwen3TemplateToItsNoThinkVariant) {
    TempDir dir;
    const std::string model = dir.file("tiny.strata");
    SyntheticOptions syn;
    syn.shape = "test-tiny";
    ModelSource src = make_synthetic(syn);
    convert_model(src, model, {DType::Q8_0, 0});
    Pty chat({kStrata, "-m", model, "--chat-template", "qwen3", "--temp", "0", "-n", "3",
              "--threads", "1"});
    ASSERT_TRUE(chat.wait_for("chat template: qwen3")) << chat.screen();
    ASSERT_TRUE(chat.wait_for("> "));
    chat.type("/think off\r");
    EXPECT_TRUE(chat.wait_for("thinking off (template qwen3-no-think)")) << chat.screen();
    chat.type("hi\r");
    EXPECT_TRUE(chat.wait_for("tok/s")) << chat.screen();
    chat.type("/think on\r");
    EXPECT_TRUE(chat.wait_for("thinking on (template qwen3)")) << chat.screen();
    chat.type("/quit\r");
    EXPECT_EQ(chat.wait_exit(), 0) << chat.screen();

    Pty plain({kStrata, "-m", model, "--chat-template", "chatml", "--threads", "1"});
    ASSERT_TRUE(plain.wait_for("> ")) << plain.screen();
    plain.type("/think off\r");
    EXPECT_TRUE(plain.wait_for("the chat template chatml has no thinking switch"))
        << plain.screen();
    plain.type("/quit\r");
    EXPECT_EQ(plain.wait_exit(), 0) << plain.screen();
}
