package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/myriadws/myriad/tuning"
)

// tuneUsage is printed for `myriad tune -h`.
const tuneUsage = `usage: myriad tune [flags]

Judges this host against a connection target: descriptor limits, sysctls,
memory, GOMEMLIMIT/GOGC. Prints a table and, for each shortfall, why it
matters and the exact command or file line that fixes it. It changes
nothing unless --apply is given.

Exit status: 0 when the report was printed, whatever it found (read the
table, or check for "no shortfalls"); 1 when the host could not be read or
a file or sysctl could not be written; 2 on bad flags.

--write-sysctl and --write-systemd write both files or neither: missing
folders are created, and when one file cannot be written the other is not
written either.

The descriptor limits judged are this command's own; a systemd service
gets its limits from its unit (see --write-systemd), not from the shell.

flags:
`

// tuneOptions is the command line of `myriad tune`.
type tuneOptions struct {
	target       tuning.Target
	role         string
	root         string
	writeSysctl  string
	writeSystemd string
	apply        bool
}

// runTune implements `myriad tune`. It returns the exit code: 0 when the
// report was printed, 1 on an I/O failure, 2 on bad usage. The environment
// it judges (GOMEMLIMIT, GOGC) is this process's.
func runTune(args []string, stdout, stderr io.Writer) int {
	return tune(args, os.Environ(), stdout, stderr)
}

// tune is runTune with the environment passed in, for tests.
func tune(args, environ []string, stdout, stderr io.Writer) int {
	o, err := parseTuneOptions(args, stdout)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintf(stderr, "myriad tune: %v (see myriad tune -h)\n", err)
		return 2
	}

	host, err := tuning.CurrentHost(environ)
	if err != nil {
		fmt.Fprintf(stderr, "myriad tune: %v\n", err)
		return 1
	}
	host.Root = o.root
	report, err := tuning.Check(host, o.target)
	if err != nil {
		fmt.Fprintf(stderr, "myriad tune: %v\n", err)
		return 2
	}
	if err := report.WriteText(stdout); err != nil {
		fmt.Fprintf(stderr, "myriad tune: %v\n", err)
		return 1
	}

	code := 0
	if err := writeTuneFiles(o, report, stdout); err != nil {
		fmt.Fprintf(stderr, "myriad tune: %v\n", err)
		code = 1
	}

	if o.apply {
		if applyTuning(o, host, report, stdout, stderr) != nil {
			code = 1
		}
	}
	return code
}

// writeTuneFiles writes the files asked for with --write-sysctl and
// --write-systemd, all of them or none, and says where each went.
func writeTuneFiles(o *tuneOptions, report tuning.Report, stdout io.Writer) error {
	var files []tuning.File
	var what []string
	if o.writeSysctl != "" {
		files = append(files, tuning.File{Path: o.writeSysctl, Content: []byte(tuning.SysctlConf(report))})
		what = append(what, "sysctl settings")
	}
	if o.writeSystemd != "" {
		files = append(files, tuning.File{Path: o.writeSystemd, Content: []byte(tuning.SystemdDropIn(report))})
		what = append(what, "systemd drop-in")
	}
	if len(files) == 0 {
		return nil
	}
	if err := tuning.WriteFiles(files); err != nil {
		return fmt.Errorf("write %s: %w", strings.Join(what, " and "), err)
	}
	for i, f := range files {
		fmt.Fprintf(stdout, "\nwrote %s to %s\n", what[i], f.Path)
	}
	return nil
}

// applyTuning writes the report's sysctl values, prints each change and
// then what is still short, which Apply cannot fix (limits, memory,
// environment, too few source addresses).
func applyTuning(o *tuneOptions, host tuning.Host, report tuning.Report, stdout, stderr io.Writer) error {
	changes, err := tuning.Apply(o.root, report)
	fmt.Fprintf(stdout, "\napplied %d sysctl change(s) to the running kernel (not persisted; see --write-sysctl):\n", len(changes))
	for _, c := range changes {
		fmt.Fprintf(stdout, "  %s\n", c)
	}
	if err != nil {
		fmt.Fprintf(stderr, "myriad tune: %v\n", err)
		return err
	}
	after, err := tuning.Check(host, o.target)
	if err != nil {
		fmt.Fprintf(stderr, "myriad tune: %v\n", err)
		return err
	}
	var left []string
	for _, f := range after.Shortfalls() {
		left = append(left, f.Name+" ("+f.Severity.String()+")")
	}
	if len(left) == 0 {
		fmt.Fprintln(stdout, "no shortfalls left.")
	} else {
		fmt.Fprintf(stdout, "still short: %s\n", strings.Join(left, ", "))
	}
	return nil
}

// parseTuneOptions parses and validates the flags. Errors are single lines
// without the usage text; -h prints the usage to stdout and returns
// flag.ErrHelp.
func parseTuneOptions(args []string, stdout io.Writer) (*tuneOptions, error) {
	o := &tuneOptions{}
	fs := flag.NewFlagSet("myriad tune", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	t := &o.target
	fs.IntVar(&t.Conns, "conns", 1_000_000, "connections one process must hold")
	fs.StringVar(&o.role, "role", "server", "server or loadgen")
	fs.IntVar(&t.Port, "port", 8080, "the server's listen port, checked against the ephemeral range (0: skip)")
	fs.IntVar(&t.Sources, "sources", 1, "loadgen: source addresses the connections are spread over")
	fs.IntVar(&t.Destinations, "destinations", 1, "loadgen: server address:port pairs dialled")
	fs.IntVar(&t.UserBytesPerConn, "user-bytes", tuning.DefaultUserBytesPerConn, "the process's own memory per connection, in bytes")
	fs.StringVar(&o.writeSysctl, "write-sysctl", "", "write a sysctl.d file that fixes the sysctl shortfalls to this path (e.g. "+tuning.SysctlFile+")")
	fs.StringVar(&o.writeSystemd, "write-systemd", "", "write a systemd drop-in with LimitNOFILE for the target to this path (e.g. "+tuning.DropInPath(tuning.Server)+"; missing folders are created)")
	fs.BoolVar(&o.apply, "apply", false, "write the needed sysctl values to the running kernel (needs root)")
	fs.StringVar(&o.root, "root", "/", "directory holding the proc/ tree to read and, with --apply, write")

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, tuneUsage)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return nil, flag.ErrHelp
		}
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	role, err := tuning.ParseRole(o.role)
	if err != nil {
		return nil, fmt.Errorf("invalid --role: %v", err)
	}
	t.Role = role
	switch {
	case t.Conns <= 0:
		return nil, fmt.Errorf("invalid --conns %d: must be positive", t.Conns)
	case t.Port < 0 || t.Port > 65535:
		return nil, fmt.Errorf("invalid --port %d: want 0-65535", t.Port)
	case t.Sources <= 0:
		return nil, fmt.Errorf("invalid --sources %d: must be positive", t.Sources)
	case t.Destinations <= 0:
		return nil, fmt.Errorf("invalid --destinations %d: must be positive", t.Destinations)
	case t.UserBytesPerConn <= 0:
		return nil, fmt.Errorf("invalid --user-bytes %d: must be positive", t.UserBytesPerConn)
	}
	return o, nil
}
