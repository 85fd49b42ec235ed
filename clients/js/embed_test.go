package jsclient_test

import (
	"bytes"
	"io/fs"
	"os"
	"testing"

	jsclient "github.com/myriadws/myriad/clients/js"
)

// TestFSServesTheTestedFiles checks that the embedded files are the ones
// on disk, which the Node tests run.
func TestFSServesTheTestedFiles(t *testing.T) {
	for _, name := range []string{"myriad.js", "myriad.d.ts"} {
		t.Run(name, func(t *testing.T) {
			got, err := fs.ReadFile(jsclient.FS(), name)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) || len(got) == 0 {
				t.Fatalf("embedded %s differs from the file on disk (%d vs %d bytes)", name, len(got), len(want))
			}
		})
	}
	if _, err := fs.ReadFile(jsclient.FS(), "package.json"); err == nil {
		t.Fatal("package.json is embedded; only the client's files should be")
	}
}
