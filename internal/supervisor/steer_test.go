package supervisor

import (
	"bufio"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// prober dials addr from several goroutines until stopped and sorts the
// outcomes: answers by pid, drainingLine answers (a real worker's 503),
// and failures (refused, reset, no line).
type prober struct {
	mu       sync.Mutex
	byPID    map[int]int
	draining int
	failed   []string
	stop     chan struct{}
	wg       sync.WaitGroup
}

func startProber(addr string, goroutines int) *prober {
	p := &prober{byPID: map[int]int{}, stop: make(chan struct{})}
	for range goroutines {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for {
				select {
				case <-p.stop:
					return
				default:
				}
				p.probe(addr)
			}
		}()
	}
	return p
}

func (p *prober) probe(addr string) {
	line, err := func() (string, error) {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return "", err
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		return bufio.NewReader(c).ReadString('\n')
	}()
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case err != nil:
		p.failed = append(p.failed, err.Error())
	case line == drainingLine:
		p.draining++
	default:
		p.byPID[pidOf(line)]++
	}
}

// answered returns how many answers came from each of pids.
func (p *prober) answered(pids ...int) []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []int
	for _, pid := range pids {
		out = append(out, p.byPID[pid])
	}
	return out
}

func (p *prober) end() {
	close(p.stop)
	p.wg.Wait()
}

func (p *prober) total() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.draining + len(p.failed)
	for _, k := range p.byPID {
		n += k
	}
	return n
}

// TestReplaceSteersAroundTheDrainingWorker replaces every worker while
// several goroutines keep connecting: with steering no connection reaches
// a worker that drains (its listeners stay in the port's group until it
// exits), whichever block of the group it holds, also after a worker was
// killed and restarted at the group's end. Without steering the draining
// workers keep their share: the check has teeth.
func TestReplaceSteersAroundTheDrainingWorker(t *testing.T) {
	cases := []struct {
		name    string
		workers int
		kill    bool
		steer   bool
	}{
		{"two workers", 2, false, true},
		{"three workers", 3, false, true},
		{"three workers, one killed and restarted first", 3, true, true},
		{"without steering", 2, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(tc.workers, "serve")
			cfg.Steer = tc.steer
			// The kill comes right after the start: a real crash that close
			// to another worker's start would rightly lose the layout.
			cfg.closeSpan = 50 * time.Millisecond
			s := startSupervisor(t, cfg)
			eventually(t, "workers running", func() bool { return allRunning(s) })
			if tc.kill {
				// A crash within closeSpan of a join would rightly lose the
				// layout: kill once the last start is that far behind.
				eventually(t, "the last start to be closeSpan old", func() bool {
					s.mu.Lock()
					defer s.mu.Unlock()
					return time.Since(s.layout.joinEnd) > cfg.closeSpan
				})
				killed := s.Workers()[0].PID
				if err := syscall.Kill(killed, syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				eventually(t, "the killed worker restarted", func() bool {
					w := s.Workers()[0]
					return w.Ready && w.PID != killed
				})
			}
			before := pids(s)
			p := startProber(s.Addr(), 4)
			defer func() {
				select {
				case <-p.stop:
				default:
					p.end()
				}
			}()
			eventually(t, "answers from every worker", func() bool { return !slices.Contains(p.answered(before...), 0) })
			if err := s.Replace(); err != nil {
				t.Fatalf("Replace: %v", err)
			}
			after := pids(s)
			for _, pid := range before {
				eventually(t, "the replaced worker "+strconv.Itoa(pid)+" to exit", func() bool { return gone(pid) })
			}
			eventually(t, "answers from every new worker", func() bool { return !slices.Contains(p.answered(after...), 0) })
			p.end()
			bad := p.draining + len(p.failed)
			t.Logf("%d connections, %d reached a draining worker, %d failed; new workers answered %v",
				p.total(), p.draining, len(p.failed), p.answered(after...))
			switch {
			case tc.steer && bad != 0:
				t.Errorf("%d of %d connections reached a draining worker or failed; failures: %v", bad, p.total(), firstFew(p.failed))
			case !tc.steer && bad == 0:
				t.Errorf("without steering no connection reached a draining worker: the churn did not cover the drains")
			}
		})
	}
}

func firstFew(s []string) string {
	if len(s) > 3 {
		return fmt.Sprint(s[:3], " ...")
	}
	return fmt.Sprint(s)
}

// TestReplaceWithOtherListenerCountsFallsBack gives the replacements two
// listeners where the old workers had one: the first slot cannot steer
// (its program would count the wrong members) and says so, the layout is
// lost once that worker's block is filled by a bigger one, and the
// second slot says that; both are still replaced.
func TestReplaceWithOtherListenerCountsFallsBack(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	s, err := Start(testConfig(2, "wide"), zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Stop(syscall.SIGKILL)
		<-s.Done()
	})
	eventually(t, "workers running", func() bool { return allRunning(s) })
	before := pids(s)
	if err := s.Replace(); err != nil {
		t.Fatalf("Replace: %v", err)
	}
	for i, p := range pids(s) {
		if p == 0 || slices.Contains(before, p) {
			t.Fatalf("slot %d has pid %d after Replace; before: %v", i, p, before)
		}
	}
	for _, want := range []string{
		"replacing a worker without steering: the new worker's listener counts differ from the old one's",
		"replacing a worker without steering: its place in the port's listener group is unknown",
	} {
		if n := logs.FilterMessage(want).Len(); n != 1 {
			t.Errorf("%d log lines %q, want 1", n, want)
		}
	}
	if n := logs.FilterField(zap.Bool("steered", true)).Len(); n != 0 {
		t.Errorf("%d slots claim to be steered", n)
	}
}
