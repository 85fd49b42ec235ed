package bench

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// Stat is the summary of one cell: a metric's values for one server over
// the rounds.
type Stat struct {
	Median, Min, Max float64
	N                int // rounds that gave a value
}

// Stat summarises metric key for server; N is 0 when there is no value.
// It does not modify r and may be called from any goroutine that does not
// modify r.
func (r *Result) Stat(key, server string) Stat {
	vs := slices.Clone(r.Values[key][server])
	if len(vs) == 0 {
		return Stat{}
	}
	slices.Sort(vs)
	m := vs[len(vs)/2]
	if len(vs)%2 == 0 {
		m = (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
	}
	return Stat{Median: m, Min: vs[0], Max: vs[len(vs)-1], N: len(vs)}
}

// Ratio is server's median of metric key divided by myriad's; NaN when
// either is missing or myriad's is zero. Like Stat, it only reads r.
func (r *Result) Ratio(key, server string) float64 {
	base, s := r.Stat(key, ServerMyriad), r.Stat(key, server)
	if base.N == 0 || s.N == 0 || base.Median == 0 {
		return math.NaN()
	}
	return s.Median / base.Median
}

// WriteTable writes the side-by-side table: one row per metric, one
// column per server holding "median [min..max]" and, for the peers, the
// ratio of their median to myriad's. The host warnings and the problems
// of single measurements follow it. It does not modify r.
func (r *Result) WriteTable(w io.Writer) error {
	c := r.Config
	var b strings.Builder
	fmt.Fprintf(&b, "side by side: %d round(s), servers interleaved, a fresh process per measurement; cells: median [min..max], ×: server ÷ myriad\n",
		c.Rounds)
	fmt.Fprintf(&b, "idle: %d conns, %d dialers, RSS read %s after the last upgrade; echo: %d conns closed loop, %d in flight each, %d B; broadcast: %d subscribers, %s msg/s, %d B\n\n",
		c.Conns, c.DialWorkers, c.Settle, c.EchoConns, c.EchoInFlight, c.EchoSize, c.Conns, ftoa(c.PubRate), c.PubSize)
	head := []string{"metric", "unit", "better"}
	head = append(head, c.Servers...)
	rows := [][]string{head}
	for _, m := range r.Metrics {
		better := "higher"
		if m.LowerIsBetter {
			better = "lower"
		}
		row := []string{m.Label, m.Unit, better}
		for _, s := range c.Servers {
			row = append(row, r.cell(m.Key, s))
		}
		rows = append(rows, row)
	}
	writeColumns(&b, rows)
	list(&b, "host", r.Warnings)
	list(&b, "problems", r.Problems)
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Result) cell(key, server string) string {
	st := r.Stat(key, server)
	if st.N == 0 {
		return "-"
	}
	s := fmt.Sprintf("%s [%s..%s]", num(st.Median), num(st.Min), num(st.Max))
	if server != ServerMyriad {
		if q := r.Ratio(key, server); !math.IsNaN(q) {
			s += fmt.Sprintf(" %.2f×", q)
		}
	}
	return s
}

// num formats a figure with about three significant digits, as integers
// from 100 up.
func num(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// writeColumns writes rows left-aligned in columns two spaces apart.
func writeColumns(b *strings.Builder, rows [][]string) {
	var width []int
	for _, row := range rows {
		for i, cell := range row {
			if i == len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], len([]rune(cell)))
		}
	}
	for _, row := range rows {
		var line strings.Builder
		for i, cell := range row {
			line.WriteString(cell)
			if i < len(row)-1 {
				line.WriteString(strings.Repeat(" ", width[i]-len([]rune(cell))+2))
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
}

func list(b *strings.Builder, title string, items []string) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s\n", title)
	for _, it := range items {
		fmt.Fprintf(b, "  ! %s\n", it)
	}
}
