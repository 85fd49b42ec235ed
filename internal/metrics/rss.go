package metrics

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// ReadRSS returns the resident set size of this process, from
// /proc/self/statm (Linux). Any goroutine may call it.
func ReadRSS() (uint64, error) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, err
	}
	fields := bytes.Fields(b)
	if len(fields) < 2 {
		return 0, fmt.Errorf("metrics: unexpected /proc/self/statm %q", b)
	}
	pages, err := strconv.ParseUint(string(fields[1]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("metrics: /proc/self/statm: %w", err)
	}
	return pages * uint64(os.Getpagesize()), nil
}
