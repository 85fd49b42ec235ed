package chart

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"testing"

	"github.com/myriadws/myriad/loadgen"
)

func sampleRows(n int) []loadgen.SeriesRow {
	rows := make([]loadgen.SeriesRow, n)
	for i := range rows {
		rows[i] = loadgen.SeriesRow{
			Elapsed: float64(i + 1), Conns: int64(i * 1000), ServerRSS: int64(40<<20 + i*(1<<20)),
			Latency: "rtt", P50: int64(200 + 10*i), P99: int64(900 + 50*i),
		}
	}
	return rows
}

// nonBackground counts the pixels in r that are not the background.
func nonBackground(img image.Image, r image.Rectangle) int {
	bg := Background()
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if uint8(cr>>8) != bg.R || uint8(cg>>8) != bg.G || uint8(cb>>8) != bg.B {
				n++
			}
		}
	}
	return n
}

func TestWritePNG(t *testing.T) {
	cases := []struct {
		name string
		rows []loadgen.SeriesRow
		w, h int
	}{
		{name: "a run", rows: sampleRows(30), w: 800, h: 500},
		{name: "smallest size", rows: sampleRows(5), w: MinWidth, h: MinHeight},
		{name: "one row", rows: sampleRows(1), w: 640, h: 400},
		{name: "no server rss and flat zero latency", rows: []loadgen.SeriesRow{{Elapsed: 1, Conns: 5}, {Elapsed: 2, Conns: 9}}, w: 640, h: 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WritePNG(&buf, tc.rows, tc.w, tc.h); err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(&buf)
			if err != nil {
				t.Fatalf("not a PNG: %v", err)
			}
			if b := img.Bounds(); b.Dx() != tc.w || b.Dy() != tc.h {
				t.Fatalf("size %v, want %dx%d", b, tc.w, tc.h)
			}
			for i, r := range PanelBounds(tc.w, tc.h) {
				// The plot area without its axes: the lines themselves.
				inner := image.Rect(r.Min.X+2, r.Min.Y, r.Max.X, r.Max.Y-1)
				if nonBackground(img, inner) == 0 {
					t.Errorf("panel %d (%v) is empty", i, inner)
				}
			}
		})
	}
}

func TestDrawRejects(t *testing.T) {
	cases := []struct {
		name string
		rows []loadgen.SeriesRow
		w, h int
		is   error
	}{
		{name: "too narrow", rows: sampleRows(3), w: MinWidth - 1, h: 400, is: ErrSize},
		{name: "too tall", rows: sampleRows(3), w: 400, h: MaxHeight + 1, is: ErrSize},
		{name: "negative", rows: sampleRows(3), w: -5, h: -5, is: ErrSize},
		{name: "no rows", w: 640, h: 400, is: ErrNoRows},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Draw(tc.rows, tc.w, tc.h); !errors.Is(err, tc.is) {
				t.Fatalf("Draw = %v, want %v", err, tc.is)
			}
		})
	}
}

func TestNiceCeil(t *testing.T) {
	for _, tc := range []struct{ in, want float64 }{{0, 1}, {-3, 1}, {0.7, 1}, {1, 1}, {1.2, 2}, {3, 5}, {7, 10}, {19000, 20000}, {0.013, 0.02}} {
		if got := niceCeil(tc.in); got != tc.want {
			t.Errorf("niceCeil(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestFormatValue(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{{0, "0"}, {0.5, "0.5"}, {3.256, "3.26"}, {250, "250"}, {2000, "2000"}, {25000, "25k"}, {12345, "12.3k"}, {1_000_000, "1M"}, {1_250_000, "1.3M"}} {
		if got := formatValue(tc.in); got != tc.want {
			t.Errorf("formatValue(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
