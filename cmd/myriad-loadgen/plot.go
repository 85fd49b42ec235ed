package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/myriadws/myriad/loadgen"
	"github.com/myriadws/myriad/loadgen/chart"
)

// runPlot draws a --csv series as a PNG:
// myriad-loadgen plot --csv run.csv --out chart.png [--width W --height H].
func runPlot(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("plot", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	in := fs.String("csv", "", "the series written by --csv")
	out := fs.String("out", "", "the PNG to write")
	w := fs.Int("width", 1000, "width in pixels")
	h := fs.Int("height", 640, "height in pixels")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "myriad-loadgen plot: %v\n", err)
		return exitUsage
	}
	if *in == "" || *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "myriad-loadgen plot: give --csv FILE and --out FILE.png, nothing else")
		return exitUsage
	}
	if *w < chart.MinWidth || *h < chart.MinHeight || *w > chart.MaxWidth || *h > chart.MaxHeight {
		fmt.Fprintf(stderr, "myriad-loadgen plot: %v\n", chart.ErrSize)
		return exitUsage
	}
	f, err := os.Open(*in)
	if err != nil {
		fmt.Fprintf(stderr, "myriad-loadgen plot: %v\n", err)
		return exitRun
	}
	rows, err := loadgen.ReadSeries(f)
	f.Close()
	if err != nil {
		fmt.Fprintf(stderr, "myriad-loadgen plot: %s: %v\n", *in, err)
		return exitRun
	}
	o, err := os.Create(*out)
	if err != nil {
		fmt.Fprintf(stderr, "myriad-loadgen plot: %v\n", err)
		return exitRun
	}
	if err := chart.WritePNG(o, rows, *w, *h); err != nil {
		o.Close()
		os.Remove(*out)
		fmt.Fprintf(stderr, "myriad-loadgen plot: %v\n", err)
		return exitRun
	}
	if err := o.Close(); err != nil {
		fmt.Fprintf(stderr, "myriad-loadgen plot: %v\n", err)
		return exitRun
	}
	return exitOK
}
