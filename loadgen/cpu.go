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

// cpuWatch tracks how busy the load generator's processes are, from
// cumulative CPU milliseconds sampled about once a second, and remembers
// the longest stretch during which they used nearly all cores: then the
// numbers measure the load generator, not the server.
type cpuWatch struct {
	cores      int
	lastCPU    int64
	lastWall   float64
	run        int     // consecutive saturated samples
	longest    int     // longest run, in samples
	longestSec float64 // its length in seconds
	runSec     float64
	peak       float64 // highest utilisation seen, fraction of all cores
}

// saturated is the share of all cores above which a sample counts as
// saturated.
const saturated = 0.9

func newCPUWatch() *cpuWatch { return &cpuWatch{cores: runtime.NumCPU()} }

// observe takes cumulative CPU ms and wall seconds since the start.
func (w *cpuWatch) observe(cpuMs int64, wall float64) {
	dw := wall - w.lastWall
	if dw <= 0.2 {
		return // too short to say anything
	}
	u := float64(cpuMs-w.lastCPU) / 1000 / dw / float64(w.cores)
	w.lastCPU, w.lastWall = cpuMs, wall
	w.peak = max(w.peak, u)
	if u >= saturated {
		w.run++
		w.runSec += dw
		if w.runSec > w.longestSec {
			w.longest, w.longestSec = w.run, w.runSec
		}
	} else {
		w.run, w.runSec = 0, 0
	}
}

// warning returns advice if the load generator was saturated for at least
// two samples in a row.
func (w *cpuWatch) warning(procs int) string {
	if w.longest < 2 {
		return ""
	}
	advice := "run the load generator on another host, or lower --rate/--msg-rate"
	if procs <= 1 && w.cores > 1 {
		advice = "add --procs to spread it over processes, " + advice
	}
	return fmt.Sprintf("the load generator used more than %.0f%% of all %d cores for %.0fs (peak %.0f%%): results may measure the load generator, not the server; %s",
		saturated*100, w.cores, w.longestSec, w.peak*100, advice)
}
