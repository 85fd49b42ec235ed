package tuning

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// listTree returns every path below root, relative and sorted, so a test
// can tell that nothing (not even a temporary file) was left behind.
func listTree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != root {
			rel, _ := filepath.Rel(root, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func TestWriteFiles(t *testing.T) {
	tests := []struct {
		name string
		// setup prepares dir and returns the files to write.
		setup func(t *testing.T, dir string) []File
		// wantErr is "" for success, else a substring of the error.
		wantErr string
		// wantTree is every path below dir afterwards.
		wantTree []string
	}{
		{
			name: "creates the missing folders of a fresh host",
			setup: func(t *testing.T, dir string) []File {
				return []File{
					{Path: filepath.Join(dir, "sysctl.d/90-myriad.conf"), Content: []byte("a = 1\n")},
					{Path: filepath.Join(dir, "system/myriad.service.d/90-limits.conf"), Content: []byte("[Service]\n")},
				}
			},
			wantTree: []string{"sysctl.d", "sysctl.d/90-myriad.conf", "system", "system/myriad.service.d", "system/myriad.service.d/90-limits.conf"},
		},
		{
			name: "replaces an existing file",
			setup: func(t *testing.T, dir string) []File {
				p := filepath.Join(dir, "90-myriad.conf")
				if err := os.WriteFile(p, []byte("old\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				return []File{{Path: p, Content: []byte("a = 1\n")}}
			},
			wantTree: []string{"90-myriad.conf"},
		},
		{
			name: "a parent that cannot be created writes neither file",
			setup: func(t *testing.T, dir string) []File {
				if err := os.WriteFile(filepath.Join(dir, "system"), []byte("a file, not a folder"), 0o644); err != nil {
					t.Fatal(err)
				}
				return []File{
					{Path: filepath.Join(dir, "sysctl.d/90-myriad.conf"), Content: []byte("a = 1\n")},
					{Path: filepath.Join(dir, "system/myriad.service.d/90-limits.conf"), Content: []byte("[Service]\n")},
				}
			},
			wantErr:  "is not a directory",
			wantTree: []string{"system"},
		},
		{
			name: "a target that is a folder writes neither file",
			setup: func(t *testing.T, dir string) []File {
				if err := os.MkdirAll(filepath.Join(dir, "d/90-limits.conf"), 0o755); err != nil {
					t.Fatal(err)
				}
				return []File{
					{Path: filepath.Join(dir, "new/90-myriad.conf"), Content: []byte("a = 1\n")},
					{Path: filepath.Join(dir, "d/90-limits.conf"), Content: []byte("[Service]\n")},
				}
			},
			wantErr:  "not a regular file",
			wantTree: []string{"d", "d/90-limits.conf"},
		},
		{
			name: "an empty path writes nothing",
			setup: func(t *testing.T, dir string) []File {
				return []File{
					{Path: filepath.Join(dir, "90-myriad.conf"), Content: []byte("a = 1\n")},
					{Path: "", Content: []byte("[Service]\n")},
				}
			},
			wantErr: "empty path",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			files := tc.setup(t, dir)
			err := WriteFiles(files)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("WriteFiles: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("WriteFiles error %v, want one containing %q", err, tc.wantErr)
			case tc.wantErr != "" && !errors.Is(err, ErrNotWritten):
				t.Fatalf("error %v does not wrap ErrNotWritten", err)
			}
			if got := listTree(t, dir); strings.Join(got, " ") != strings.Join(tc.wantTree, " ") {
				t.Fatalf("tree after WriteFiles:\n got %q\nwant %q", got, tc.wantTree)
			}
			if err != nil {
				return
			}
			for _, f := range files {
				b, err := os.ReadFile(f.Path)
				if err != nil || string(b) != string(f.Content) {
					t.Fatalf("%s = %q, %v; want %q", f.Path, b, err, f.Content)
				}
				fi, err := os.Stat(f.Path)
				if err != nil || fi.Mode().Perm() != 0o644 {
					t.Fatalf("%s mode %v, %v; want 0644", f.Path, fi.Mode(), err)
				}
			}
		})
	}
}
