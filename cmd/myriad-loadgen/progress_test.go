package main

import (
	"os"
	"strings"
	"testing"

	"github.com/myriadws/myriad/loadgen"
)

func TestProgressPrinter(t *testing.T) {
	snaps := []loadgen.Progress{{Elapsed: 1, Phase: "connecting", Open: 5}, {Elapsed: 2, Phase: "holding", Open: 9}}
	cases := []struct {
		name string
		tty  bool
		want string
	}{
		{name: "terminal redraws one line", tty: true,
			want: clearLine + loadgen.FormatProgress(loadgen.Progress{}, snaps[0]) + clearLine + "warning: w\n" +
				clearLine + loadgen.FormatProgress(snaps[0], snaps[1]) + "\n"},
		{name: "pipe writes lines", tty: false,
			want: loadgen.FormatProgress(loadgen.Progress{}, snaps[0]) + "\nwarning: w\n" + loadgen.FormatProgress(snaps[0], snaps[1]) + "\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			p := &progressPrinter{w: &b, tty: tc.tty}
			p.print(snaps[0])
			p.warn("w")
			p.print(snaps[1])
			p.finish()
			if b.String() != tc.want {
				t.Fatalf("got %q\nwant %q", b.String(), tc.want)
			}
		})
	}
}

func TestIsTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) || isTerminal(&strings.Builder{}) {
		t.Fatal("a file or a buffer taken for a terminal")
	}
}
