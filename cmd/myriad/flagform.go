package main

import (
	"flag"
	"fmt"
	"time"
)

// formValue wraps a flag's own Value so that a value it refuses is
// explained: the flag package alone says only "parse error", which names
// neither what was wrong nor what would do. The flag package (and, for
// MYRIAD_* variables, parseOptions) adds the flag or variable name and the
// value to the message.
type formValue struct {
	flag.Getter
	form string
}

// Set parses s with the wrapped Value, replacing its error with the
// expected form.
func (v formValue) Set(s string) error {
	if err := v.Getter.Set(s); err != nil {
		return fmt.Errorf("want %s", v.form)
	}
	return nil
}

// boolFormValue is formValue for a boolean flag, which the flag package
// lets stand alone (--compression) only when its Value says IsBoolFlag.
type boolFormValue struct{ formValue }

// IsBoolFlag lets the flag be given without a value.
func (boolFormValue) IsBoolFlag() bool { return true }

// explainForms wraps every flag of fs whose standard Value gives no reason
// for refusing a value. Flags with their own Value types (sizes, lists)
// explain themselves already and are left alone.
func explainForms(fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		g, ok := f.Value.(flag.Getter)
		if !ok {
			return
		}
		switch g.Get().(type) {
		case time.Duration:
			f.Value = formValue{g, "a duration with a unit, such as 30s, 1m30s or 500ms"}
		case int, int64:
			f.Value = formValue{g, "a whole number, such as 1000"}
		case uint, uint64:
			f.Value = formValue{g, "a whole number of 0 or more, such as 1000"}
		case float64:
			f.Value = formValue{g, "a number, such as 0.5"}
		case bool:
			f.Value = boolFormValue{formValue{g, "true or false"}}
		}
	})
}
