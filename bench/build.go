package bench

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"sort"
	"strings"
)

// build compiles every binary the harness runs into dir, from the module
// root. `go build` caches, so a second run only links what changed.
func build(ctx context.Context, goCmd, root, dir string) error {
	pkgs := make([]string, 0, len(binaries()))
	for _, pkg := range binaries() {
		pkgs = append(pkgs, pkg)
	}
	sort.Strings(pkgs)
	args := append([]string{"build", "-o", dir + "/"}, pkgs...)
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build: %w\n%s", err, out.String())
	}
	return nil
}

// moduleRoot returns the directory of the main module as the go command
// sees it from the current directory.
func moduleRoot(ctx context.Context, goCmd string) (string, error) {
	out, err := exec.CommandContext(ctx, goCmd, "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("finding the module root with go list: %w", err)
	}
	root := strings.TrimSpace(string(out))
	if root == "" {
		return "", fmt.Errorf("go list -m printed no module directory")
	}
	return root, nil
}
