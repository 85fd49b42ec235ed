package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// clusterNode is one entry of /stats' cluster.per_node.
type clusterNode struct {
	Node     string `json:"node"`
	Upgraded int64  `json:"upgraded"`
}

// pid is the process id at the end of the node id (host-pid).
func (n clusterNode) pid() int {
	p, _ := strconv.Atoi(n.Node[strings.LastIndexByte(n.Node, '-')+1:])
	return p
}

// clusterStats fetches /stats from apiAddr and returns the per-node
// entries, or an error while the workers are not all up.
func clusterStats(apiAddr string) ([]clusterNode, error) {
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + apiAddr + "/stats")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Cluster struct {
			Partial bool          `json:"partial"`
			PerNode []clusterNode `json:"per_node"`
		} `json:"cluster"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	if body.Cluster.Partial {
		return nil, errors.New("partial answer")
	}
	return body.Cluster.PerNode, nil
}

// apiPublish posts data to topic on apiAddr's /publish.
func apiPublish(t *testing.T, apiAddr, topic, data string) {
	t.Helper()
	body := fmt.Sprintf(`{"topic":%q,"data":%s}`, topic, data)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Post("http://"+apiAddr+"/publish", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("publish: status %d", resp.StatusCode)
	}
}

// subscriber reads a client's messages until "end" and reports its first.
type subscriber struct {
	c     *websocket.Conn
	data  []string
	first chan struct{}
	err   error
}

func (s *subscriber) read(wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		_ = s.c.SetReadDeadline(time.Now().Add(20 * time.Second))
		var m struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		if err := s.c.ReadJSON(&m); err != nil {
			s.err = err
			return
		}
		if m.Type != "message" {
			continue
		}
		if len(s.data) == 0 {
			close(s.first)
		}
		s.data = append(s.data, string(m.Data))
		if string(m.Data) == `"end"` {
			return
		}
	}
}

// check verifies warm-up messages numbered without gaps or repeats, then
// "hello" and "end" once each.
func (s *subscriber) check() error {
	if s.err != nil {
		return s.err
	}
	n := len(s.data)
	if n < 2 || s.data[n-2] != `"hello"` || s.data[n-1] != `"end"` {
		return fmt.Errorf("got %v, want warm-ups, \"hello\", \"end\"", s.data)
	}
	for i := 1; i < n-2; i++ {
		a, _ := strconv.Atoi(s.data[i-1])
		b, _ := strconv.Atoi(s.data[i])
		if b != a+1 {
			return fmt.Errorf("warm-ups %v are not consecutive", s.data[:n-2])
		}
	}
	return nil
}

// TestWorkersShareOnePort runs `myriad --workers 2`: clients on one port
// land on both workers, a publish to the API reaches all of them once, a
// worker killed with SIGKILL is restarted while the port keeps accepting,
// and SIGTERM stops everything.
func TestWorkersShareOnePort(t *testing.T) {
	addr, apiAddr := freePort(t), freePort(t)
	sigs := make(chan os.Signal, 2)
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), []string{"--workers", "2", "--addr", addr, "--api-addr", apiAddr,
			"--drain-timeout", "1s", "--log-level", "warn"}, envFrom(nil), &stdout, &stderr, sigs)
	}()
	defer func() {
		select {
		case <-done:
		default:
			sigs <- syscall.SIGKILL
		}
	}()
	var nodes []clusterNode
	eventually(t, "two workers answering /stats", func() bool {
		var err error
		nodes, err = clusterStats(apiAddr)
		return err == nil && len(nodes) == 2
	})

	// Connect until both workers hold some clients.
	var subs []*subscriber
	var wg sync.WaitGroup
	eventually(t, "clients on both workers", func() bool {
		for range 4 {
			c := dialRetry(t, "ws://"+addr+"/ws?topics=room")
			s := &subscriber{c: c, first: make(chan struct{})}
			t.Cleanup(func() { _ = c.Close() })
			subs = append(subs, s)
			wg.Add(1)
			go s.read(&wg)
		}
		ns, err := clusterStats(apiAddr)
		return err == nil && len(ns) == 2 && ns[0].Upgraded > 0 && ns[1].Upgraded > 0 && ns[0].Upgraded+ns[1].Upgraded == int64(len(subs))
	})

	// Warm up until every client's worker has its interest at the broker,
	// then publish once.
	k := 0
	eventually(t, "every client receiving", func() bool {
		apiPublish(t, apiAddr, "room", strconv.Itoa(k))
		k++
		for _, s := range subs {
			select {
			case <-s.first:
			default:
				return false
			}
		}
		return true
	})
	apiPublish(t, apiAddr, "room", `"hello"`)
	apiPublish(t, apiAddr, "room", `"end"`)
	wg.Wait()
	for i, s := range subs {
		if err := s.check(); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
	}

	killed := nodes[0].pid()
	if err := syscall.Kill(killed, syscall.SIGKILL); err != nil {
		t.Fatalf("kill worker %d: %v", killed, err)
	}
	eventually(t, "the killed worker restarted", func() bool {
		ns, err := clusterStats(apiAddr)
		if err != nil || len(ns) != 2 || ns[0].pid() == killed || ns[1].pid() == killed {
			return false
		}
		nodes = ns
		return true
	})
	for range 8 {
		c := dialRetry(t, "ws://"+addr+"/echo")
		_ = c.Close()
	}

	sigs <- syscall.SIGTERM
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit code %d, want 0; stderr: %s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("supervisor did not exit after SIGTERM")
	}
	for _, n := range nodes {
		if err := syscall.Kill(n.pid(), 0); !errors.Is(err, syscall.ESRCH) {
			t.Fatalf("worker %d still exists after the supervisor exited: %v", n.pid(), err)
		}
	}
}

// TestClusterFlagErrors checks the cluster flags and worker environment
// the command refuses.
func TestClusterFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		env    map[string]string
		stderr string
	}{
		{"workers below -1", []string{"--workers", "-2"}, nil, "invalid --workers"},
		{"workers with an external broker", []string{"--workers", "2", "--broker", "nats://127.0.0.1:1"}, nil, "leave --broker out"},
		{"negative cluster size", []string{"--broker", "nats://127.0.0.1:1", "--cluster-nodes", "-1"}, nil, "cluster-nodes"},
		{"node timeout within a heartbeat", []string{"--broker", "nats://127.0.0.1:1", "--presence-heartbeat", "2s", "--presence-node-timeout", "1s"}, nil, "presence-node-timeout"},
		{"negative publish queue", []string{"--broker", "nats://127.0.0.1:1", "--cluster-publish-queue", "-1"}, nil, "cluster-publish-queue"},
		{"no cluster query wait", []string{"--broker", "nats://127.0.0.1:1", "--cluster-query-wait", "0s"}, nil, "cluster-query-wait"},
		{"no cluster queries", []string{"--broker", "nats://127.0.0.1:1", "--cluster-max-queries", "0"}, nil, "cluster-max-queries"},
		{"broker-closed neither exit nor stay", []string{"--broker", "nats://127.0.0.1:1", "--broker-closed", "restart"}, nil, "invalid --broker-closed"},
		{"broker-closed from the environment", nil, map[string]string{"MYRIAD_BROKER": "nats://127.0.0.1:1", "MYRIAD_BROKER_CLOSED": "Exit"}, "invalid --broker-closed"},
		{"publish queue bytes under a client message", nil, map[string]string{"MYRIAD_BROKER": "nats://127.0.0.1:1", "MYRIAD_ADDR": "127.0.0.1:0", "MYRIAD_API_ADDR": "", "MYRIAD_CLUSTER_PUBLISH_QUEUE_BYTES": "1KiB"}, "cluster-publish-queue-bytes"},
		{"bad worker index", nil, map[string]string{"MYRIAD_WORKER": "x"}, "MYRIAD_WORKER"},
		{"worker without broker", nil, map[string]string{"MYRIAD_WORKER": "0", "MYRIAD_WORKERS": "1", "MYRIAD_MAX_CONNS": "0", "MYRIAD_ADDR": "127.0.0.1:0"}, "MYRIAD_BROKER"},
		{"broker URL that is not one", []string{"--addr", "127.0.0.1:0", "--api-addr", "", "--broker", "http://[::1"}, nil, "broker"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr syncBuffer
			if code := run(context.Background(), tc.args, envFrom(tc.env), &stdout, &stderr, nil); code != 2 {
				t.Fatalf("exit code %d, want 2; stderr: %s", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.stderr) {
				t.Fatalf("stderr %q does not mention %q", stderr.String(), tc.stderr)
			}
			if strings.Contains(stderr.String(), `\n`) || !strings.HasSuffix(stderr.String(), "\n") {
				t.Fatalf("stderr %q is not whole lines", stderr.String())
			}
		})
	}
}

// TestWorkersReplacedOnSIGHUP sends the supervisor SIGHUP under a churn
// of upgrades from several goroutines: every worker is replaced by a new
// process, one at a time, each replacement steers new connections around
// the worker it replaces, no upgrade fails (none reaches a draining
// worker, whose listeners stay in the port's group until it exits), and
// the port keeps accepting afterwards on the new workers.
func TestWorkersReplacedOnSIGHUP(t *testing.T) {
	enableMigrate(t)
	cases := []struct {
		name           string
		workers, loops int
	}{
		{"2 workers of one loop", 2, 1},
		{"3 workers of two loops", 3, 2}, // two listeners per worker on the WebSocket port
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { replaceUnderChurn(t, tc.workers, tc.loops) })
	}
}

// replaceUnderChurn is TestWorkersReplacedOnSIGHUP with n workers of
// loops event loops each.
func replaceUnderChurn(t *testing.T, n, loops int) {
	addr, apiAddr, stderr := startSupervisor(t, "--workers", strconv.Itoa(n), "--loops", strconv.Itoa(loops),
		"--drain-timeout", "1s", "--log-level", "info")
	var before []clusterNode
	eventually(t, "the workers answering /stats", func() bool {
		var err error
		before, err = clusterStats(apiAddr)
		return err == nil && len(before) == n
	})
	churns := make([]*churn, 4)
	for i := range churns {
		churns[i] = startChurn("ws://" + addr + "/echo")
	}
	upgrades := func() (sum int64) {
		for _, c := range churns {
			sum += c.upgrades.Load()
		}
		return sum
	}
	eventually(t, "churn upgrades", func() bool { return upgrades() > 50 })
	atHUP := upgrades()
	// The supervisor runs in this process and has SIGHUP routed to it.
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the replacement to finish", func() bool { return strings.Contains(stderr.String(), "every worker replaced") })
	eventually(t, "new workers answering /stats", func() bool {
		nodes, err := clusterStats(apiAddr)
		if err != nil || len(nodes) != n {
			return false
		}
		for _, nd := range nodes {
			for _, b := range before {
				if nd.pid() == b.pid() {
					return false
				}
			}
		}
		return true
	})
	atDone := upgrades()
	eventually(t, "upgrades on the new workers", func() bool { return upgrades() > atDone+50 })
	var failures int64
	var errs []string
	for _, c := range churns {
		c.end()
		failures += c.failures.Load()
		errs = append(errs, c.errs...)
	}
	log := stderr.String()
	if failures != 0 {
		t.Errorf("%d of %d upgrades failed across the replacement; first: %v", failures, failures+upgrades(), errs)
	}
	if got := strings.Count(log, `"steered":true`); got != n {
		t.Errorf("%d of %d slots replaced with steering", got, n)
	}
	for _, bad := range []string{"worker died", "without steering", "order in the port's listener group lost"} {
		if strings.Contains(log, bad) {
			t.Errorf("log says %q", bad)
		}
	}
	t.Logf("%d upgrades, %d during the replacement, %d failed", upgrades(), atDone-atHUP, failures)
}

// startSupervisor runs `myriad` with args (a --workers supervisor, in
// this process) on fresh WebSocket and API ports and returns them and its
// log (standard error). At cleanup it sends SIGTERM, waits for the exit, and logs the supervisor's
// output if the test failed.
func startSupervisor(t *testing.T, args ...string) (addr, apiAddr string, log *syncBuffer) {
	t.Helper()
	addr, apiAddr = freePort(t), freePort(t)
	sigs := make(chan os.Signal, 2)
	var stdout syncBuffer
	log = &syncBuffer{}
	done := make(chan int, 1)
	args = append([]string{"--addr", addr, "--api-addr", apiAddr}, args...)
	go func() { done <- run(context.Background(), args, envFrom(nil), &stdout, log, sigs) }()
	t.Cleanup(func() {
		sigs <- syscall.SIGTERM
		select {
		case <-done:
		case <-time.After(ioWait):
			t.Error("supervisor did not stop")
		}
		if t.Failed() {
			t.Logf("log:\n%s", log.String())
		}
	})
	return addr, apiAddr, log
}
