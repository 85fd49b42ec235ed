package loadgen

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
)

// userHZ is the unit of utime and stime in /proc/PID/stat. The kernel
// reports them in USER_HZ, which is 100 on every Linux architecture Go
// supports, whatever the kernel's internal HZ.
const userHZ = 100

// cpuMillis returns the CPU time (user + system) this process has used,
// from /proc/self/stat.
func cpuMillis() (int64, error) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may contain spaces; fields are counted
	// from the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/self/stat: unexpected format")
	}
	f := bytes.Fields(b[i+1:])
	// After ')': state is field 3, so utime (14) and stime (15) are at
	// indexes 11 and 12.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/self/stat: too few fields")
	}
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/self/stat: bad utime or stime")
	}
	return (ut + st) * 1000 / userHZ, nil
}

// hostCPU returns the host's busy and total CPU time in USER_HZ ticks
// from the first line of /proc/stat.
func hostCPU() (busy, total int64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 8 || string(f[0]) != "cpu" {
		return 0, 0, fmt.Errorf("/proc/stat: unexpected format")
	}
	// user nice system idle iowait irq softirq steal
	var v [8]int64
	for i := range v {
		if v[i], err = strconv.ParseInt(string(f[i+1]), 10, 64); err != nil {
			return 0, 0, fmt.Errorf("/proc/stat: %w", err)
		}
	}
	busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
	return busy, busy + v[3] + v[4], nil
}

// busyRun remembers the longest stretch of consecutive saturated samples.
type busyRun struct {
	run, longest       int // in samples
	runSec, longestSec float64
	peak               float64
}

func (b *busyRun) add(u, dt float64) {
	b.peak = max(b.peak, u)
	if u < saturated {
		b.run, b.runSec = 0, 0
		return
	}
	b.run++
	b.runSec += dt
	if b.runSec > b.longestSec {
		b.longest, b.longestSec = b.run, b.runSec
	}
}

// saturated is the share of all cores above which a sample counts as
// saturated.
const saturated = 0.9

// cpuWatch tracks, about once a second, how busy the load generator's
// processes are and how busy the whole host is. If the load generator
// itself used nearly all cores, the numbers measure it rather than the
// server; if the host was saturated with the server sharing it, the server
// was measured with less than the whole machine.
type cpuWatch struct {
	cores     int
	lastCPU   int64
	lastWall  float64
	lastBusy  int64
	lastTotal int64
	own       busyRun
	host      busyRun
}

func newCPUWatch() *cpuWatch {
	w := &cpuWatch{cores: runtime.NumCPU()}
	w.lastBusy, w.lastTotal, _ = hostCPU()
	return w
}

// observe takes the load generator's cumulative CPU ms and the wall
// seconds since the start, and samples the host.
func (w *cpuWatch) observe(cpuMs int64, wall float64) {
	dw := wall - w.lastWall
	if dw <= 0.2 {
		return // too short to say anything
	}
	w.own.add(float64(cpuMs-w.lastCPU)/1000/dw/float64(w.cores), dw)
	w.lastCPU, w.lastWall = cpuMs, wall
	if busy, total, err := hostCPU(); err == nil && total > w.lastTotal {
		w.host.add(float64(busy-w.lastBusy)/float64(total-w.lastTotal), dw)
		w.lastBusy, w.lastTotal = busy, total
	}
}

// warning returns advice if the load generator, or else the host, was
// saturated for at least two samples in a row.
func (w *cpuWatch) warning() string {
	switch {
	case w.own.longest >= 2:
		return fmt.Sprintf("the load generator used more than %.0f%% of all %d cores for %.0fs (peak %.0f%%): results may measure the load generator, not the server; run it on another host or more cores, or lower --rate/--msg-rate",
			saturated*100, w.cores, w.own.longestSec, w.own.peak*100)
	case w.host.longest >= 2:
		return fmt.Sprintf("the host's %d cores were more than %.0f%% busy for %.0fs while the load generator used at most %.0f%% of them: it competes with the server for CPU, so the server had less than the whole machine; pin them to separate cores (taskset) or run the load generator on another host",
			w.cores, saturated*100, w.host.longestSec, w.own.peak*100)
	}
	return ""
}
