package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// The tests in this file run the commands and snippets of README.md and
// gateway/PROTOCOL.md as a reader would paste them, against the real
// command on free ports: only "localhost:8080"-style addresses are
// rewritten.

// repoRoot is where the README's commands run from.
const repoRoot = "../.."

// docBlock is one fenced code block of a Markdown file.
type docBlock struct {
	lang, section, text string
	line                int
}

// readBlocks returns the fenced code blocks of a Markdown file, each with
// the "## " section it is in.
func readBlocks(t *testing.T, name string) []docBlock {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, name))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []docBlock
	var cur *docBlock
	section := ""
	for i, line := range strings.Split(string(b), "\n") {
		switch {
		case cur == nil && strings.HasPrefix(line, "## "):
			section = strings.TrimPrefix(line, "## ")
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &docBlock{lang: strings.TrimPrefix(line, "```"), section: section, line: i + 1}
		case cur != nil && line == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		}
	}
	return blocks
}

// pick returns the blocks of one section and language whose text contains want.
func pick(blocks []docBlock, section, lang, want string) []docBlock {
	var out []docBlock
	for _, b := range blocks {
		if b.section == section && b.lang == lang && strings.Contains(b.text, want) {
			out = append(out, b)
		}
	}
	return out
}

// needTools skips (or, under MYRIAD_REQUIRE_INTEROP=1, fails) a test whose
// snippets need programs that are not installed.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("MYRIAD_REQUIRE_INTEROP") == "1" {
				t.Fatalf("%s is required (MYRIAD_REQUIRE_INTEROP=1): %v", tool, err)
			}
			t.Skipf("%s is not installed; `make test` installs it", tool)
		}
	}
}

// docServer is the command started as a README line starts it.
type docServer struct {
	addr, api string
}

// startDocServer runs `myriad` with the arguments of a "go run
// ./cmd/myriad ..." line, on free ports.
func startDocServer(t *testing.T, goRunLine string) docServer {
	t.Helper()
	line, _, _ := strings.Cut(goRunLine, "#")
	args, ok := strings.CutPrefix(strings.TrimSpace(line), "go run ./cmd/myriad")
	if !ok {
		t.Fatalf("not a go run line: %q", goRunLine)
	}
	ds := docServer{addr: freePort(t), api: freePort(t)}
	sigs := make(chan os.Signal, 2)
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	all := append(strings.Fields(args), "--addr", ds.addr, "--api-addr", ds.api, "--drain-timeout", "1s", "--log-level", "warn")
	go func() { done <- run(context.Background(), all, envFrom(nil), &stdout, &stderr, sigs) }()
	t.Cleanup(func() {
		sigs <- syscall.SIGTERM
		if code := <-done; code != 0 {
			t.Errorf("myriad %v exited %d: %s", all, code, stderr.String())
		}
	})
	dialRetry(t, "ws://"+ds.addr+"/echo").Close()
	return ds
}

// localize points a snippet's addresses at the test's server.
func (ds docServer) localize(s string) string {
	_, port, _ := net.SplitHostPort(ds.addr)
	return strings.NewReplacer(
		"localhost:8080", ds.addr, "localhost:8081", ds.api, "127.0.0.1:8081", ds.api,
		"port=8080", "port="+port,
	).Replace(s)
}

// shell runs one command line with sh from the repository root.
func shell(t *testing.T, cmdline string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", cmdline)
	cmd.Dir = repoRoot
	// At the deadline the whole process group goes, not only sh: a
	// child left running (a client still waiting for a message) would
	// hold the output pipe open and Output would wait for it forever.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s%s", cmdline, err, out, stderr.String())
	}
	return string(out)
}

// background is a snippet left running, such as a listener.
type background struct {
	cmd *exec.Cmd
	mu  sync.Mutex
	out strings.Builder
}

func (b *background) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out.Write(p)
}

func (b *background) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out.String()
}

// startBackground runs a snippet that does not end by itself; the test
// stops it by its PID.
func startBackground(t *testing.T, name string, args ...string) *background {
	t.Helper()
	b := &background{cmd: exec.Command(name, args...)}
	b.cmd.Dir = repoRoot
	b.cmd.Stdout, b.cmd.Stderr = b, b
	b.cmd.WaitDelay = 5 * time.Second // a child it left must not hold Wait
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = b.cmd.Process.Kill()
		_ = b.cmd.Wait()
	})
	return b
}

// expectedJSON finds the "# {...}" answer a snippet gives for a command
// line: on the line itself or on the next line.
var expectedJSON = regexp.MustCompile(`#\s*(\{.*\})`)

// jsonKeys returns the sorted top-level keys of a JSON object, or nil.
func jsonKeys(s string) []string {
	var m map[string]any
	if json.Unmarshal([]byte(s), &m) != nil {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// runCurls runs every curl line of a block and checks each answer is a
// JSON object without an error, with the keys of the answer the snippet
// shows for it, if any.
func runCurls(t *testing.T, ds docServer, b docBlock) int {
	t.Helper()
	lines := strings.Split(b.text, "\n")
	n := 0
	for i, line := range lines {
		if !strings.HasPrefix(line, "curl ") {
			continue
		}
		n++
		out := strings.TrimSpace(shell(t, ds.localize(line)))
		got := jsonKeys(out)
		if got == nil || strings.Contains(out, `"error"`) {
			t.Errorf("line %d: %s\nanswered %q", b.line+i+1, line, out)
			continue
		}
		want := ""
		if m := expectedJSON.FindStringSubmatch(line); m != nil {
			want = m[1]
		} else if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "# {") && !strings.Contains(lines[i+1], "...") {
			want = expectedJSON.FindStringSubmatch(lines[i+1])[1]
		}
		if want != "" && strings.Join(jsonKeys(want), ",") != strings.Join(got, ",") {
			t.Errorf("line %d: %s\nanswered %s, the docs show %s", b.line+i+1, line, out, want)
		}
	}
	return n
}

// TestReadmeQuickStart runs the Quick start: the server as given, the
// node client (its output as shown) and the curl publish.
func TestReadmeQuickStart(t *testing.T) {
	needTools(t, "node", "curl")
	blocks := readBlocks(t, "README.md")
	start := pick(blocks, "Quick start", "sh", "go run ./cmd/myriad")
	clients := pick(blocks, "Quick start", "sh", "node ")
	curls := pick(blocks, "Quick start", "sh", "curl ")
	if len(start) != 1 || len(clients) != 1 || len(curls) != 1 {
		t.Fatalf("Quick start: %d server, %d node, %d curl blocks; want one each", len(start), len(clients), len(curls))
	}
	ds := startDocServer(t, strings.TrimSpace(start[0].text))

	script, want, _ := strings.Cut(clients[0].text, "\n# ")
	out := shell(t, ds.localize(script))
	if strings.TrimSpace(out) != strings.TrimSpace(want) {
		t.Errorf("node client printed %q, the README shows %q", out, want)
	}
	if runCurls(t, ds, curls[0]) != 1 {
		t.Error("no curl line in the Quick start")
	}
}

// TestGatewayDocs runs the gateway sections of README.md and PROTOCOL.md:
// each listener snippet (browser JavaScript under node, Python with the
// standard library) is started, the curl examples are run, and the
// listener must print the message published.
func TestGatewayDocs(t *testing.T) {
	needTools(t, "node", "curl", "python3")
	readme := readBlocks(t, "README.md")
	proto := readBlocks(t, "gateway/PROTOCOL.md")
	start := pick(readme, "Pub/sub gateway", "sh", "go run ./cmd/myriad")
	if len(start) != 1 {
		t.Fatalf("%d server lines in the README's gateway section, want 1", len(start))
	}
	cases := []struct {
		name     string
		listener []docBlock
		run      func(t *testing.T, code string) *background
		curls    []docBlock
	}{
		{"README browser console", pick(readme, "Pub/sub gateway", "js", "new WebSocket("), nodeListener,
			pick(readme, "Pub/sub gateway", "sh", "curl ")},
		{"PROTOCOL browser or Node", pick(proto, "Listening from a browser or Node 22+", "js", "new WebSocket("), nodeListener,
			pick(proto, "HTTP API", "sh", "curl ")},
		{"PROTOCOL Python", pick(proto, "Listening from Python, standard library only", "python", "listen()"), pythonListener,
			pick(proto, "HTTP API", "sh", "curl ")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.listener) != 1 || len(tc.curls) == 0 {
				t.Fatalf("%d listener and %d curl blocks found", len(tc.listener), len(tc.curls))
			}
			ds := startDocServer(t, strings.TrimSpace(start[0].text))
			l := tc.run(t, ds.localize(tc.listener[0].text))
			eventually(t, "the listener to subscribe to news", func() bool {
				return strings.Contains(shell(t, "curl -s 'http://"+ds.api+"/presence?topic=news'"), `"count":1`)
			})
			n := 0
			for _, b := range tc.curls {
				n += runCurls(t, ds, b)
			}
			if n == 0 {
				t.Fatal("no curl lines")
			}
			eventually(t, "the listener to print the headline", func() bool { return strings.Contains(l.String(), "hello") })
		})
	}
}

// nodeListener runs browser JavaScript under node, which has WebSocket.
func nodeListener(t *testing.T, code string) *background {
	t.Helper()
	return startBackground(t, "node", "--experimental-websocket", "--no-warnings", "--input-type=module", "-e", code)
}

// pythonListener runs a Python snippet unbuffered.
func pythonListener(t *testing.T, code string) *background {
	t.Helper()
	return startBackground(t, "python3", "-u", "-c", code)
}

// TestTokenDocs checks that the README's and PROTOCOL.md's secrets agree,
// and that the token PROTOCOL.md's script makes opens /ws on a server
// started as PROTOCOL.md starts it; a token for another secret gets 401.
func TestTokenDocs(t *testing.T) {
	needTools(t, "python3")
	secretOf := regexp.MustCompile(`--jwt-secret (\S+)`)
	readmeLine := pick(readBlocks(t, "README.md"), "Pub/sub gateway", "sh", "--jwt-secret")
	proto := readBlocks(t, "gateway/PROTOCOL.md")
	start := pick(proto, "Tokens", "sh", "go run ./cmd/myriad")
	script := pick(proto, "Tokens", "python", "def token(")
	if len(readmeLine) != 1 || len(start) != 1 || len(script) != 1 {
		t.Fatalf("found %d README secret lines, %d PROTOCOL server lines, %d token scripts; want one each", len(readmeLine), len(start), len(script))
	}
	readmeSecret := secretOf.FindStringSubmatch(readmeLine[0].text)
	protoSecret := secretOf.FindStringSubmatch(start[0].text)
	scriptSecret := regexp.MustCompile(`token\("([^"]+)"`).FindStringSubmatch(script[0].text)
	if readmeSecret == nil || protoSecret == nil || scriptSecret == nil ||
		readmeSecret[1] != protoSecret[1] || protoSecret[1] != scriptSecret[1] {
		t.Fatalf("secrets differ: README %v, PROTOCOL server %v, PROTOCOL script %v", readmeSecret, protoSecret, scriptSecret)
	}
	ds := startDocServer(t, strings.TrimSpace(start[0].text))
	cases := []struct {
		name   string
		script string
		status int
	}{
		{"the documented secret", script[0].text, 101},
		{"another secret", strings.Replace(script[0].text, `token("`+scriptSecret[1]+`"`, `token("not-`+scriptSecret[1]+`"`, 1), 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := exec.Command("python3", "-c", tc.script).Output()
			if err != nil {
				t.Fatalf("token script: %v", err)
			}
			tok := strings.TrimSpace(string(out))
			c, resp, err := websocket.DefaultDialer.Dial("ws://"+ds.addr+"/ws?topics=news&token="+tok, nil)
			if c != nil {
				c.Close()
			}
			if resp == nil || resp.StatusCode != tc.status {
				t.Fatalf("dial with the token: %v %v, want status %d", resp, err, tc.status)
			}
		})
	}
}

// TestReadmeClientMessages sends each client message the README lists to
// a server started as its gateway section says, and checks none is
// answered with an error.
func TestReadmeClientMessages(t *testing.T) {
	readme := readBlocks(t, "README.md")
	start := pick(readme, "Pub/sub gateway", "sh", "go run ./cmd/myriad")
	msgs := pick(readme, "Pub/sub gateway", "json", `"type":"subscribe"`)
	if len(start) != 1 || len(msgs) != 1 {
		t.Fatalf("%d server lines, %d message blocks; want one each", len(start), len(msgs))
	}
	ds := startDocServer(t, strings.TrimSpace(start[0].text))
	c := dialRetry(t, "ws://"+ds.addr+"/ws")
	defer c.Close()
	sc := bufio.NewScanner(strings.NewReader(msgs[0].text))
	for sc.Scan() {
		line := sc.Text()
		if err := c.WriteMessage(websocket.TextMessage, []byte(line)); err != nil {
			t.Fatal(err)
		}
		for {
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, b, err := c.ReadMessage()
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			var m struct{ Type, Error string }
			_ = json.Unmarshal(b, &m)
			if m.Type == "error" {
				t.Fatalf("%s was answered with an error: %s", line, m.Error)
			}
			if m.Type != "message" { // the publish's own copy comes first when subscribed
				break
			}
		}
	}
}

// TestReadmeJSClient runs the JavaScript client section's example against
// the server its text names (the gateway section's) and checks its output.
func TestReadmeJSClient(t *testing.T) {
	needTools(t, "node")
	readme := readBlocks(t, "README.md")
	start := pick(readme, "Pub/sub gateway", "sh", "go run ./cmd/myriad")
	client := pick(readme, "JavaScript client", "sh", "node ")
	if len(start) != 1 || len(client) != 1 {
		t.Fatalf("%d server lines, %d node blocks; want one each", len(start), len(client))
	}
	ds := startDocServer(t, strings.TrimSpace(start[0].text))
	script, want, _ := strings.Cut(client[0].text, "\n# ")
	if out := shell(t, ds.localize(script)); strings.TrimSpace(out) != strings.TrimSpace(want) {
		t.Errorf("node client printed %q, the README shows %q", out, want)
	}
}
