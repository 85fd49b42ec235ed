package main

import (
	"fmt"
	"strconv"
	"strings"
)

// byteSize is a flag.Value for byte counts written as a plain number or
// with a binary suffix: 4096, 64KiB, 4MiB, 1GiB (KB, MB, GB and K, M, G are
// read as the binary units too). Exactly one of p and p64 is set.
type byteSize struct {
	p   *int
	p64 *int64
}

func (b byteSize) String() string {
	switch {
	case b.p != nil:
		return formatBytes(int64(*b.p))
	case b.p64 != nil:
		return formatBytes(*b.p64)
	}
	return "0"
}

func (b byteSize) Set(s string) error {
	n, err := parseBytes(s)
	if err != nil {
		return err
	}
	if b.p != nil {
		if n > int64(^uint(0)>>1) {
			return fmt.Errorf("%s is too large", s)
		}
		*b.p = int(n)
	} else {
		*b.p64 = n
	}
	return nil
}

func parseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	upper := strings.ToUpper(t)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{
		{"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10},
		{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10},
		{"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1},
	} {
		if strings.HasSuffix(upper, u.suffix) {
			mult = u.mult
			t = strings.TrimSpace(t[:len(t)-len(u.suffix)])
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("want a byte count such as 65536 or 64KiB")
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("%s is too large", s)
	}
	return n * mult, nil
}

func formatBytes(n int64) string {
	switch {
	case n != 0 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "GiB"
	case n != 0 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "MiB"
	case n != 0 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "KiB"
	}
	return strconv.FormatInt(n, 10)
}

// stringList is a flag.Value for a comma-separated list; empty items are
// dropped, so "" is the empty list.
type stringList struct {
	p *[]string
}

func (l stringList) String() string {
	if l.p == nil {
		return ""
	}
	return strings.Join(*l.p, ",")
}

func (l stringList) Set(s string) error {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	*l.p = out
	return nil
}
