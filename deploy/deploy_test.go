package deploy

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/myriadws/myriad/tuning"
)

// readFile returns a file of this folder.
func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// portOf returns the port of a listen address such as ":8080".
func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	return n
}

// TestDeployFiles checks every file in deploy/ against the binary built
// the way the Dockerfile builds it: its flag defaults, the limits `myriad
// tune` writes, and its signal handling.
func TestDeployFiles(t *testing.T) {
	dir := t.TempDir()
	dockerfile := readFile(t, "Dockerfile")
	bin := buildLikeDockerfile(t, dockerfile, dir)
	defs := binaryDefaults(t, bin)
	drain := mustDuration(t, defs, "drain-timeout")

	t.Run("Dockerfile builds a static binary", func(t *testing.T) { checkStatic(t, bin) })
	t.Run("Dockerfile", func(t *testing.T) { checkDockerfile(t, dockerfile, defs) })
	t.Run("systemd unit", func(t *testing.T) { checkUnit(t, bin, drain) })
	t.Run("systemd-analyze verify", func(t *testing.T) { verifyUnit(t, bin) })
	t.Run("ExecReload only when SIGHUP is handled", func(t *testing.T) { checkReload(t, bin) })
	t.Run("sysctl drop-in", checkSysctl)
	t.Run("kubernetes", func(t *testing.T) { checkKubernetes(t, defs, drain) })
}

// checkStatic fails unless bin needs no dynamic loader or shared library,
// which a distroless static base image does not have.
func checkStatic(t *testing.T, bin string) {
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("binary has an ELF interpreter: it is dynamically linked (CGO_ENABLED=0 missing?)")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Fatalf("binary needs shared libraries %v", libs)
	}
}

// checkDockerfile checks the stages, the user and that EXPOSE names the
// ports the image's command listens on.
func checkDockerfile(t *testing.T, df string, defs map[string]string) {
	var froms int
	var user, expose string
	var cmd []string
	for _, l := range strings.Split(df, "\n") {
		instr, rest, _ := strings.Cut(strings.TrimSpace(l), " ")
		switch instr {
		case "FROM":
			froms++
			user = "" // USER is per stage; only the last stage's counts
		case "USER":
			user = rest
		case "EXPOSE":
			expose += " " + rest
		case "CMD":
			if err := json.Unmarshal([]byte(rest), &cmd); err != nil {
				t.Fatalf("CMD is not an exec-form list: %v", err)
			}
		}
	}
	if froms < 2 {
		t.Errorf("%d FROM lines, want a multi-stage build", froms)
	}
	if name, _, _ := strings.Cut(user, ":"); name == "" || name == "root" || name == "0" {
		t.Errorf("final stage runs as %q, want a non-root user", user)
	}
	ports := strings.Fields(expose)
	for _, f := range []string{"addr", "api-addr"} {
		p := strconv.Itoa(portOf(t, flagValue(cmd, f, defs[f])))
		if !slices.Contains(ports, p) {
			t.Errorf("EXPOSE %v lacks %s (the --%s port)", ports, p, f)
		}
	}
}

// unitSettings returns the [Service] settings of a unit file, comments
// left out, each key with its values in order.
func unitSettings(t *testing.T, unit string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(unit))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		switch {
		case l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";"):
		case strings.HasPrefix(l, "["):
			section = l
		case section == "[Service]":
			k, v, ok := strings.Cut(l, "=")
			if !ok {
				t.Fatalf("unit line %q is not key=value", l)
			}
			out[k] = append(out[k], v)
		}
	}
	return out
}

// systemdSeconds parses a time span as the unit uses it: "45s", "2min" or
// a plain number of seconds.
func systemdSeconds(t *testing.T, v string) time.Duration {
	t.Helper()
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(n) * time.Second
	}
	d, err := time.ParseDuration(strings.ReplaceAll(v, "min", "m"))
	if err != nil {
		t.Fatalf("time span %q: %v", v, err)
	}
	return d
}

// checkUnit compares the unit's limits with what the binary writes and
// needs: LimitNOFILE from `myriad tune --write-systemd` for the target the
// unit's install comment names, and a stop timeout above the drain.
func checkUnit(t *testing.T, bin string, defaultDrain time.Duration) {
	unit := readFile(t, "systemd/myriad.service")
	s := unitSettings(t, unit)
	m := regexp.MustCompile(`myriad tune --conns (\d+)`).FindStringSubmatch(unit)
	if m == nil {
		t.Fatal("unit does not say which `myriad tune --conns N` its limits come from")
	}
	dropIn := filepath.Join(t.TempDir(), "myriad.service.d", "90-limits.conf")
	out, err := exec.Command(bin, "tune", "--conns", m[1], "--write-systemd", dropIn).CombinedOutput()
	if err != nil {
		t.Fatalf("myriad tune: %v\n%s", err, out)
	}
	want := unitSettings(t, readFile(t, dropIn))["LimitNOFILE"]
	if got := s["LimitNOFILE"]; len(want) != 1 || !slices.Equal(got, want) {
		t.Errorf("LimitNOFILE %v, myriad tune --conns %s writes %v", got, m[1], want)
	}

	execStart := strings.Fields(strings.Join(s["ExecStart"], " "))
	drain := defaultDrain
	if v := flagValue(execStart, "drain-timeout", ""); v != "" {
		if drain, err = time.ParseDuration(v); err != nil {
			t.Fatalf("ExecStart --drain-timeout %q: %v", v, err)
		}
	}
	if stop := s["TimeoutStopSec"]; len(stop) != 1 || systemdSeconds(t, stop[0]) <= drain {
		t.Errorf("TimeoutStopSec %v, want one value above the drain timeout %v", stop, drain)
	}
	for k, v := range map[string]string{"KillSignal": "SIGTERM", "Restart": "on-failure", "NoNewPrivileges": "yes"} {
		if !slices.Equal(s[k], []string{v}) {
			t.Errorf("%s=%v, want %s", k, s[k], v)
		}
	}
	if !slices.Equal(s["DynamicUser"], []string{"yes"}) && len(s["User"]) == 0 {
		t.Error("unit runs as root: want DynamicUser=yes or User=")
	}
}

// verifyUnit runs systemd-analyze verify on the unit with the drop-in
// `myriad tune` writes, with ExecStart pointed at the built binary (verify
// checks that it exists), and ExecReload's with it. Any complaint fails
// the test.
func verifyUnit(t *testing.T, bin string) {
	needTool(t, "systemd-analyze", func() error { _, err := exec.LookPath("systemd-analyze"); return err })
	dir := t.TempDir()
	unit := strings.ReplaceAll(readFile(t, "systemd/myriad.service"), "=/usr/local/bin/myriad ", "="+bin+" ") // ExecStart, ExecReload
	path := filepath.Join(dir, "myriad.service")
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "tune", "--write-systemd", filepath.Join(dir, "myriad.service.d", "90-limits.conf")).CombinedOutput(); err != nil {
		t.Fatalf("myriad tune: %v\n%s", err, out)
	}
	out, err := exec.Command("systemd-analyze", "verify", "--man=no", path).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// checkReload starts the binary, sends it SIGHUP and checks the unit
// declares ExecReload exactly when the binary survives it: systemctl
// reload must not kill the service. Surviving includes a restart: the
// process exits 0 after a new one took over, which the pid file names.
// A unit that reloads so must let the main process change: Type=notify
// with NotifyAccess=all, and PIDFile= the --pid-file of ExecStart.
func checkReload(t *testing.T, bin string) {
	pidFile := filepath.Join(t.TempDir(), "myriad.pid")
	cmd := exec.Command(bin, "--addr", "127.0.0.1:0", "--api-addr=", "--log-level", "info", "--drain-timeout", "1s", "--pid-file", pidFile)
	// A pipe of our own rather than StderrPipe: a restart's new process
	// inherits the write end, and Wait must not wait for it.
	stderr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	cmd.Stderr = pw
	err = cmd.Start()
	pw.Close()
	if err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	started := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		ok := false
		for sc.Scan() {
			if !ok && strings.Contains(sc.Text(), "myriad started") {
				ok = true
				started <- true
			}
		}
		if !ok {
			started <- false
		}
	}()
	go func() { exited <- cmd.Wait() }()
	if !<-started {
		t.Fatalf("myriad did not start: %v", <-exited)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	handled := true
	select {
	case err := <-exited:
		var ee *exec.ExitError
		switch {
		case err == nil:
			handled = stopSuccessor(t, pidFile, cmd.Process.Pid)
		case errors.As(err, &ee):
			ws, _ := ee.Sys().(syscall.WaitStatus)
			handled = !(ws.Signaled() && ws.Signal() == syscall.SIGHUP)
		default:
			t.Fatalf("after SIGHUP: %v", err)
		}
	case <-time.After(5 * time.Second):
		// Still running: SIGHUP is handled. Stop it as systemd would.
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(time.Minute):
			_ = cmd.Process.Kill()
			<-exited
		}
		stopSuccessor(t, pidFile, cmd.Process.Pid)
	}
	s := unitSettings(t, readFile(t, "systemd/myriad.service"))
	reload := s["ExecReload"]
	if handled != (len(reload) > 0) {
		t.Errorf("binary handles SIGHUP: %v; unit ExecReload: %v", handled, reload)
	}
	if len(reload) == 0 {
		return
	}
	for k, v := range map[string]string{"Type": "notify", "NotifyAccess": "all"} {
		if !slices.Equal(s[k], []string{v}) {
			t.Errorf("%s=%v, want %s: a restart's new process becomes the main one", k, s[k], v)
		}
	}
	execStart := strings.Fields(strings.Join(s["ExecStart"], " "))
	if pf := flagValue(execStart, "pid-file", ""); pf == "" || !slices.Equal(s["PIDFile"], []string{pf}) {
		t.Errorf("PIDFile=%v, ExecStart --pid-file %q: want both, the same", s["PIDFile"], pf)
	}
}

// stopSuccessor stops the process a restart started, named by pidFile,
// and reports whether there was one. It returns once the process is gone.
func stopSuccessor(t *testing.T, pidFile string, oldPID int) bool {
	t.Helper()
	b, err := os.ReadFile(pidFile)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 || pid == oldPID {
		return false
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return false
	}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil || strings.Contains(string(st[bytes.LastIndexByte(st, ')')+1:]), " Z ") {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("restarted process %d still running", pid)
	return true
}

// checkSysctl builds a /proc tree holding the drop-in's values and checks
// that `tuning.Check`, for the target its header names, finds every one of
// them sufficient.
func checkSysctl(t *testing.T) {
	conf := readFile(t, "sysctl.d/90-myriad.conf")
	m := regexp.MustCompile(`--conns (\d+) --port (\d+)`).FindStringSubmatch(conf)
	if m == nil {
		t.Fatal("sysctl file does not name the `myriad tune --conns N --port P` it came from")
	}
	conns, _ := strconv.Atoi(m[1])
	port, _ := strconv.Atoi(m[2])
	root := t.TempDir()
	write := func(rel, v string) {
		p := filepath.Join(root, "proc", rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	keys := map[string]bool{}
	for _, l := range strings.Split(conf, "\n") {
		k, v, ok := strings.Cut(l, " = ")
		if !ok || strings.HasPrefix(l, "#") {
			continue
		}
		keys[k] = true
		write(filepath.Join("sys", strings.ReplaceAll(k, ".", "/")), v)
	}
	if len(keys) == 0 {
		t.Fatal("no settings in the sysctl file")
	}
	write("sys/net/netfilter/nf_conntrack_count", "0")
	write("meminfo", "MemAvailable: 24457872 kB")
	host := tuning.Host{Root: root, NoFile: tuning.Rlimit{Soft: 1 << 30, Hard: 1 << 30}, Environ: []string{"GOMEMLIMIT=12GiB"}, PageSize: 4096}
	r, err := tuning.Check(host, tuning.Target{Conns: conns, Port: port})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Findings {
		if keys[f.Key] && f.Severity != tuning.OK {
			t.Errorf("%s = %s is %s for %d connections: needed %s", f.Key, f.Current, f.Severity, conns, f.Needed)
		}
		delete(keys, f.Key)
	}
	for k := range keys {
		t.Errorf("%s is not a setting myriad tune judges", k)
	}
}
