package main

import (
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/myriadws/myriad/loadgen"
)

// progressPrinter shows each snapshot: on a terminal as one line redrawn
// in place, otherwise as one line per snapshot (for logs), and writes the
// CSV series when asked. Its methods may be called from any goroutine.
type progressPrinter struct {
	mu     sync.Mutex
	w      io.Writer
	quiet  bool
	tty    bool
	csv    *loadgen.SeriesWriter
	csvErr error
	prev   loadgen.Progress
	inLine bool // a redrawn line is on the terminal, without its newline
}

// clearLine is carriage return plus "erase to end of line".
const clearLine = "\r\x1b[K"

func (p *progressPrinter) print(cur loadgen.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.csv != nil && p.csvErr == nil {
		p.csvErr = p.csv.Write(cur)
	}
	if !p.quiet {
		line := loadgen.FormatProgress(p.prev, cur)
		if p.tty {
			fmt.Fprint(p.w, clearLine+line)
			p.inLine = true
		} else {
			fmt.Fprintln(p.w, line)
		}
	}
	if cur.Elapsed-p.prev.Elapsed >= 0.5 {
		p.prev = cur // the base for rates
	}
}

// warn prints a warning on a line of its own; the progress line is
// redrawn after it with the next snapshot.
func (p *progressPrinter) warn(w string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inLine {
		fmt.Fprint(p.w, clearLine)
		p.inLine = false
	}
	fmt.Fprintf(p.w, "warning: %s\n", w)
}

// finish ends the redrawn line so that what follows starts on its own.
func (p *progressPrinter) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inLine {
		fmt.Fprintln(p.w)
		p.inLine = false
	}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
