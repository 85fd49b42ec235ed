package tuning

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// ErrNotWritten wraps every error of WriteFiles: the files were not
// installed, and nothing was left behind.
var ErrNotWritten = errors.New("nothing written")

// File is one file for WriteFiles to install.
type File struct {
	// Path is where the file goes. Its missing parent directories are
	// created with mode 0755.
	Path string
	// Content is the whole file.
	Content []byte
}

// WriteFiles installs every file or none. A sysctl.d file and a systemd
// drop-in belong together: a host with one but not the other runs with
// half a configuration that nobody asked for, so the files are first
// written next to their targets as temporary files (creating the parent
// directories a fresh host lacks, such as myriad.service.d), and only
// when all of them were written are they renamed into place. When any
// step before the renames fails, the temporary files and the directories
// it created are removed and the error wraps ErrNotWritten. A rename is
// atomic per file and fails only in rare cases (the target turned into a
// directory meanwhile); such an error does not wrap ErrNotWritten, since
// the files renamed before it stay.
//
// Files are written with mode 0644, since both kinds are read by system
// services, not by this user only. It may be called from any goroutine,
// but not on the same paths at once.
func WriteFiles(files []File) error {
	var (
		made []string // directories created, parents first
		tmps []string // temporary files, one per file
	)
	undo := func() {
		for _, t := range tmps {
			_ = os.Remove(t)
		}
		for i := len(made) - 1; i >= 0; i-- {
			_ = os.Remove(made[i])
		}
	}
	for _, f := range files {
		dirs, tmp, err := stage(f)
		made = append(made, dirs...)
		if err != nil {
			undo()
			return fmt.Errorf("%w: %s: %w", ErrNotWritten, f.Path, err)
		}
		tmps = append(tmps, tmp)
	}
	for i, f := range files {
		if err := os.Rename(tmps[i], f.Path); err != nil {
			for _, t := range tmps[i:] {
				_ = os.Remove(t)
			}
			return fmt.Errorf("install %s: %w", f.Path, err)
		}
	}
	return nil
}

// stage creates f's missing parent directories and writes f's content to
// a synced temporary file beside f.Path. It returns the directories it
// created (parents first) even when it fails, so the caller can remove
// them.
func stage(f File) (made []string, tmp string, err error) {
	if f.Path == "" {
		return nil, "", errors.New("empty path")
	}
	if fi, err := os.Stat(f.Path); err == nil && !fi.Mode().IsRegular() {
		return nil, "", fmt.Errorf("exists and is not a regular file (%s)", fi.Mode().Type())
	}
	dir := filepath.Dir(f.Path)
	made, err = mkdirs(dir)
	if err != nil {
		return made, "", err
	}
	t, err := os.CreateTemp(dir, "."+filepath.Base(f.Path)+".*.tmp")
	if err != nil {
		return made, "", err
	}
	_, err = t.Write(f.Content)
	if err == nil {
		err = t.Chmod(0o644)
	}
	if err == nil {
		err = t.Sync()
	}
	if cerr := t.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(t.Name())
		return made, "", err
	}
	return made, t.Name(), nil
}

// mkdirs creates dir and its missing parents like os.MkdirAll, and
// returns the directories it created, parents first.
func mkdirs(dir string) ([]string, error) {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err == nil {
			if !fi.IsDir() {
				return nil, fmt.Errorf("%s is not a directory", d)
			}
			break
		}
		// ENOTDIR: an ancestor is a file; walk up to name it.
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return nil, err
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	var made []string
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(missing[i], 0o755); err != nil {
			return made, err
		}
		made = append(made, missing[i])
	}
	return made, nil
}
