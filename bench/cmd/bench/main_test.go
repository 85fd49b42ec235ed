package main

import (
	"errors"
	"flag"
	"io"
	"reflect"
	"testing"
	"time"

	"github.com/myriadws/myriad/bench"
)

func TestParseFlags(t *testing.T) {
	quick := bench.Quick()
	quickWide := bench.Quick()
	quickWide.Conns = 800
	quickWide.Settle = time.Second
	tests := []struct {
		name    string
		args    []string
		want    *bench.Config
		wantErr bool
		is      error
	}{
		{name: "defaults", args: nil, want: &bench.Config{}},
		{name: "quick", args: []string{"--quick"}, want: &quick},
		{name: "quick with sizes", args: []string{"--quick", "--conns", "800", "--settle", "1s"}, want: &quickWide},
		{name: "servers", args: []string{"--servers", "myriad,gws"}, want: &bench.Config{Servers: []string{"myriad", "gws"}}},
		{name: "servers without myriad", args: []string{"--servers", "gws"}, wantErr: true, is: bench.ErrNoMyriad},
		{name: "unknown server", args: []string{"--servers", "myriad,uws"}, wantErr: true},
		{name: "stray argument", args: []string{"now"}, wantErr: true},
		{name: "bad number", args: []string{"--conns", "many"}, wantErr: true},
		{name: "help", args: []string{"-h"}, wantErr: true, is: flag.ErrHelp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFlags(tt.args, io.Discard)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseFlags err = %v, want error %v", err, tt.wantErr)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("parseFlags err = %v, want %v", err, tt.is)
			}
			if tt.want != nil && !reflect.DeepEqual(got, *tt.want) {
				t.Fatalf("parseFlags = %+v, want %+v", got, *tt.want)
			}
		})
	}
}

func TestRunExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"help", []string{"--help"}, 0},
		{"bad usage", []string{"--rounds", "-1"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := run(tt.args, io.Discard, io.Discard); got != tt.want {
				t.Fatalf("run(%q) = %d, want %d", tt.args, got, tt.want)
			}
		})
	}
}
