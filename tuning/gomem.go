package tuning

import (
	"errors"
	"strconv"
	"strings"
)

// byteUnit is a suffix GOMEMLIMIT accepts and the power of two it stands
// for.
type byteUnit struct {
	suffix string
	shift  uint
}

// byteUnits returns the suffixes GOMEMLIMIT accepts, largest first so
// formatting picks the largest exact unit. "B" comes after the binary units
// because every other suffix ends in it.
func byteUnits() [5]byteUnit {
	return [5]byteUnit{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}
}

// parseByteCount parses a GOMEMLIMIT value the way the Go runtime does: a
// non-negative integer with an optional B, KiB, MiB, GiB or TiB suffix.
func parseByteCount(s string) (int64, error) {
	shift := uint(0)
	for _, u := range byteUnits() {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, shift = rest, u.shift
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || (shift > 0 && n > (1<<63-1)>>shift) {
		return 0, errors.New("malformed byte count")
	}
	return n << shift, nil
}

// formatByteCount renders n in the largest unit that divides it exactly, in
// the syntax parseByteCount and the Go runtime accept.
func formatByteCount(n int64) string {
	for _, u := range byteUnits() {
		if u.shift > 0 && n > 0 && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}
