package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// requireInteropEnv turns a missing external tool into a failure, as in
// the server's interop tests: `make test` installs the tools and sets it.
const requireInteropEnv = "MYRIAD_REQUIRE_INTEROP"

// needTool checks that an external checker can run: probe returns nil when
// it can. Otherwise the test fails under MYRIAD_REQUIRE_INTEROP=1 and is
// skipped, saying how to run it, when not.
func needTool(t *testing.T, name string, probe func() error) {
	t.Helper()
	err := probe()
	if err == nil {
		return
	}
	if os.Getenv(requireInteropEnv) == "1" {
		t.Fatalf("%s is required (%s=1) but cannot run: %v", name, requireInteropEnv, err)
	}
	t.Skipf("%s cannot run (%v); `make test` installs it and runs this test with %s=1", name, err, requireInteropEnv)
}

// goTool returns the go command that runs this test.
func goTool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if p := filepath.Join(os.Getenv("GOROOT"), "bin", "go"); os.Getenv("GOROOT") != "" {
		return p
	}
	return "/usr/local/go/bin/go"
}

// splitShell splits a one-line shell command into words, honouring double
// quotes (enough for the Dockerfile's build line; no escapes or variables).
func splitShell(s string) []string {
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted, inWord = !quoted, true
		case (r == ' ' || r == '\t') && !quoted:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// buildLikeDockerfile builds cmd/myriad with the environment and flags of
// the Dockerfile's `go build` line, into dir, and returns the binary.
func buildLikeDockerfile(t *testing.T, dockerfile, dir string) string {
	t.Helper()
	var line string
	for _, l := range strings.Split(dockerfile, "\n") {
		if strings.HasPrefix(l, "RUN ") && strings.Contains(l, " go build ") {
			line = strings.TrimPrefix(l, "RUN ")
		}
	}
	if line == "" {
		t.Fatal("Dockerfile has no `RUN ... go build` line")
	}
	words := splitShell(line)
	var env, args []string
	for len(words) > 0 && strings.Contains(words[0], "=") {
		env, words = append(env, words[0]), words[1:]
	}
	if len(words) < 2 || words[0] != "go" || words[1] != "build" {
		t.Fatalf("build line %q: want [VAR=value ...] go build ...", line)
	}
	out := filepath.Join(dir, "myriad")
	for i := 2; i < len(words); i++ {
		if words[i] == "-o" && i+1 < len(words) {
			args = append(args, "-o", out)
			i++
			continue
		}
		args = append(args, words[i])
	}
	cmd := exec.Command(goTool(t), append([]string{"build"}, args...)...)
	cmd.Dir = ".." // the module root: the Dockerfile builds from there
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, b)
	}
	return out
}

// binaryDefaults returns the default of each flag as `myriad -h` prints
// it, keyed by flag name.
func binaryDefaults(t *testing.T, bin string) map[string]string {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(bin, "-h")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("myriad -h: %v\n%s", err, out.String())
	}
	// "  -name type" then "    \tusage (default value)", the flag
	// package's format; a string default is quoted.
	defs := map[string]string{}
	name := ""
	for _, l := range strings.Split(out.String(), "\n") {
		if rest, ok := strings.CutPrefix(l, "  -"); ok {
			name, _, _ = strings.Cut(rest, " ")
		}
		if i := strings.LastIndex(l, "(default "); i >= 0 && name != "" && strings.HasSuffix(l, ")") {
			defs[name] = strings.Trim(l[i+len("(default "):len(l)-1], `"`)
		}
	}
	return defs
}

// mustDuration returns a flag default parsed as a duration.
func mustDuration(t *testing.T, defs map[string]string, name string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(defs[name])
	if err != nil {
		t.Fatalf("default of --%s %q: %v", name, defs[name], err)
	}
	return d
}

// flagValue returns the value of --name in args ("--name=v" or "--name v"),
// or def when it is absent.
func flagValue(args []string, name, def string) string {
	for i, a := range args {
		for _, p := range []string{"--", "-"} {
			if v, ok := strings.CutPrefix(a, p+name+"="); ok {
				return v
			}
			if a == p+name && i+1 < len(args) {
				return args[i+1]
			}
		}
	}
	return def
}
