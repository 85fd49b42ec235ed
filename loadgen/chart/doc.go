// Package chart draws a load generator run's per-second series (see
// loadgen.SeriesWriter) as a PNG: connections, server RSS and latency
// over time, one panel each, sharing the time axis.
//
// It is deliberately small: lines are rasterised here with Bresenham's
// algorithm into an image.RGBA and labels use the fixed 7x13 bitmap font
// of golang.org/x/image/font/basicfont, so a chart needs no plotting
// library, no fonts on the host and no cgo.
package chart
