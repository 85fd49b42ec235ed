package chart

import (
	"image"
	"image/color"
	"image/draw"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// canvas is an RGBA image with the few drawing operations a chart needs.
// Drawing outside the image is clipped.
type canvas struct{ img *image.RGBA }

func newCanvas(w, h int, bg color.Color) canvas {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(bg), image.Point{}, draw.Src)
	return canvas{img}
}

// line draws from (x0, y0) to (x1, y1), thick pixels wide, with
// Bresenham's algorithm: integer steps only, every pixel of the line set
// once.
func (c canvas) line(x0, y0, x1, y1, thick int, col color.Color) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	for {
		for t := range thick {
			c.img.Set(x0, y0+t, col)
			c.img.Set(x0+t, y0, col)
		}
		if x0 == x1 && y0 == y1 {
			return
		}
		if e2 := 2 * e; e2 >= dy {
			e += dy
			x0 += sx
		} else {
			e += dx
			y0 += sy
		}
	}
}

// text writes s with its baseline at y, starting at x.
func (c canvas) text(x, y int, s string, col color.Color) {
	d := font.Drawer{Dst: c.img, Src: image.NewUniform(col), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// textWidth is the width of s in pixels in the label font.
func textWidth(s string) int { return font.MeasureString(basicfont.Face7x13, s).Round() }

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}
