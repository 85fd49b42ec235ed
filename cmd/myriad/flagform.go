package main

import (
	"flag"
	"fmt"
	"regexp"
	"time"
)

// formOf names the form a value of flag f takes, for the flag package's
// own types, whose errors say only "parse error" or "value out of range"
// and so name neither what was wrong nor what would do. Flags with their
// own Value types (sizes, lists) explain themselves and get "".
func formOf(f *flag.Flag) string {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return ""
	}
	switch g.Get().(type) {
	case time.Duration:
		return "a duration with a unit, such as 30s, 1m30s or 500ms"
	case int, int64:
		return "a whole number, such as 1000"
	case uint, uint64:
		return "a whole number of 0 or more, such as 1000"
	case float64:
		return "a number, such as 0.5"
	case bool:
		return "true or false"
	}
	return ""
}

// explainValue returns the reason to give for a value that flag f's Set
// refused: the expected form instead of the flag package's bare error.
func explainValue(f *flag.Flag, err error) string {
	if form := formOf(f); form != "" {
		return "want " + form
	}
	return err.Error()
}

// explainParseError rewrites an error of fs.Parse about a refused value
// ("invalid value "30" for flag -ping-interval: parse error") to give the
// expected form, and spells flags as the documentation does (--loops).
// The flag package's messages are its documented output; anything that
// does not match is passed on with only the dashes changed.
func explainParseError(fs *flag.FlagSet, err error) error {
	msg := err.Error()
	re := regexp.MustCompile(`^(invalid (?:boolean )?value ".*" for) (?:flag )?-([^:\s]+): (.*)$`)
	if m := re.FindStringSubmatch(msg); m != nil {
		if f := fs.Lookup(m[2]); f != nil {
			return fmt.Errorf("%s --%s: %s", m[1], m[2], explainValue(f, fmt.Errorf("%s", m[3])))
		}
	}
	if m := regexp.MustCompile(`^flag provided but not defined: -+(.*)$`).FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("unknown flag --%s", m[1])
	}
	return err
}
