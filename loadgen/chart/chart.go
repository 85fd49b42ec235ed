package chart

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"strconv"

	"github.com/myriadws/myriad/loadgen"
)

// Size limits of a chart, in pixels: below the minimum the labels do not
// fit; above the maximum the image is too large to be meant.
const (
	MinWidth, MinHeight = 300, 240
	MaxWidth, MaxHeight = 8000, 8000
)

// ErrSize and ErrNoRows are returned by Draw for a size outside the
// limits and for a series without rows.
var (
	ErrSize   = fmt.Errorf("chart size must be between %dx%d and %dx%d pixels", MinWidth, MinHeight, MaxWidth, MaxHeight)
	ErrNoRows = errors.New("the series has no rows to draw")
)

// Colours of the chart.
var (
	background = color.RGBA{255, 255, 255, 255}
	axisColour = color.RGBA{90, 90, 90, 255}
	gridColour = color.RGBA{225, 225, 225, 255}
	textColour = color.RGBA{20, 20, 20, 255}
	blue       = color.RGBA{31, 119, 180, 255}
	orange     = color.RGBA{230, 120, 20, 255}
	green      = color.RGBA{44, 160, 44, 255}
)

// Background is the colour of every pixel nothing was drawn on.
func Background() color.RGBA { return background }

// layout margins in pixels.
const (
	marginLeft   = 70
	marginRight  = 16
	marginTop    = 18
	marginBottom = 30
	panelGap     = 26
)

// series is one line of a panel.
type series struct {
	name   string
	colour color.Color
	y      func(loadgen.SeriesRow) float64
}

// panel is one plot: a title, a unit and its lines.
type panel struct {
	title string
	lines []series
}

func panels() []panel {
	return []panel{
		{title: "open connections", lines: []series{{"conns", blue, func(r loadgen.SeriesRow) float64 { return float64(r.Conns) }}}},
		{title: "server RSS, MiB", lines: []series{{"rss", green, func(r loadgen.SeriesRow) float64 { return float64(r.ServerRSS) / (1 << 20) }}}},
		{title: "latency, ms", lines: []series{
			{"p50", blue, func(r loadgen.SeriesRow) float64 { return float64(r.P50) / 1e3 }},
			{"p99", orange, func(r loadgen.SeriesRow) float64 { return float64(r.P99) / 1e3 }},
		}},
	}
}

// PanelBounds returns the plot area of each panel of a w x h chart, top to
// bottom, for tests and for callers that add to the image.
func PanelBounds(w, h int) []image.Rectangle {
	ps := panels()
	ph := (h - marginTop - marginBottom - panelGap*(len(ps)-1)) / len(ps)
	out := make([]image.Rectangle, len(ps))
	for i := range ps {
		top := marginTop + i*(ph+panelGap)
		out[i] = image.Rect(marginLeft, top, w-marginRight, top+ph)
	}
	return out
}

// Draw renders rows into a w x h image.
func Draw(rows []loadgen.SeriesRow, w, h int) (*image.RGBA, error) {
	if w < MinWidth || h < MinHeight || w > MaxWidth || h > MaxHeight {
		return nil, ErrSize
	}
	if len(rows) == 0 {
		return nil, ErrNoRows
	}
	c := newCanvas(w, h, background)
	t0, t1 := rows[0].Elapsed, rows[len(rows)-1].Elapsed
	if t1 <= t0 {
		t1 = t0 + 1
	}
	bounds := PanelBounds(w, h)
	for i, p := range panels() {
		drawPanel(c, bounds[i], p, rows, t0, t1, i == len(bounds)-1)
	}
	return c.img, nil
}

// WritePNG draws rows as a w x h PNG to out.
func WritePNG(out io.Writer, rows []loadgen.SeriesRow, w, h int) error {
	img, err := Draw(rows, w, h)
	if err != nil {
		return err
	}
	return png.Encode(out, img)
}

// drawPanel draws the axes, grid, labels and lines of one panel in r.
func drawPanel(c canvas, r image.Rectangle, p panel, rows []loadgen.SeriesRow, t0, t1 float64, timeLabels bool) {
	top := 0.0
	for _, s := range p.lines {
		for _, row := range rows {
			top = max(top, s.y(row))
		}
	}
	top = niceCeil(top)
	// Grid and y labels at 0, half and the top.
	for _, f := range []float64{0, 0.5, 1} {
		y := r.Max.Y - int(f*float64(r.Dy()))
		c.line(r.Min.X, y, r.Max.X, y, 1, gridColour)
		label := formatValue(f * top)
		c.text(r.Min.X-6-textWidth(label), y+4, label, textColour)
	}
	// Time ticks, five of them.
	for i := 0; i <= 4; i++ {
		x := r.Min.X + i*r.Dx()/4
		c.line(x, r.Max.Y, x, r.Max.Y+4, 1, axisColour)
		if timeLabels {
			label := formatValue(t0+float64(i)*(t1-t0)/4) + "s"
			c.text(x-textWidth(label)/2, r.Max.Y+17, label, textColour)
		}
	}
	c.line(r.Min.X, r.Min.Y, r.Min.X, r.Max.Y, 1, axisColour)
	c.line(r.Min.X, r.Max.Y, r.Max.X, r.Max.Y, 1, axisColour)
	c.text(r.Min.X+4, r.Min.Y-4, p.title, textColour)
	if len(p.lines) > 1 {
		// A legend: each line's name in its colour.
		x := r.Min.X + 4 + textWidth(p.title) + 14
		for _, s := range p.lines {
			c.text(x, r.Min.Y-4, s.name, s.colour)
			x += textWidth(s.name) + 10
		}
	}
	for _, s := range p.lines {
		px, py := -1, -1
		for _, row := range rows {
			x := r.Min.X + int((row.Elapsed-t0)/(t1-t0)*float64(r.Dx()))
			y := r.Max.Y - int(s.y(row)/top*float64(r.Dy()))
			if px >= 0 {
				c.line(px, py, x, y, 2, s.colour)
			} else {
				c.line(x, y, x, y, 2, s.colour)
			}
			px, py = x, y
		}
	}
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (1 for v <= 0),
// so the axis top reads well.
func niceCeil(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// formatValue writes an axis value briefly: 2000, 25k, 1.2M, 0.5, 3.25.
func formatValue(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(math.Round(v/1e5)/10, 'f', -1, 64) + "M"
	case v >= 1e4:
		return strconv.FormatFloat(math.Round(v/1e2)/10, 'f', -1, 64) + "k"
	case v >= 100:
		return strconv.FormatFloat(math.Round(v), 'f', -1, 64)
	}
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}
