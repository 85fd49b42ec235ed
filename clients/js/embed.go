package jsclient

import (
	"embed"
	"io/fs"
)

// files holds the client as shipped to npm, so a Go program can serve the
// very module that is tested here (a demo page, for one) without a copy.
//
//go:embed myriad.js myriad.d.ts
var files embed.FS

// FS returns the client's files: myriad.js and myriad.d.ts. The result is
// read-only and may be used from any goroutine.
func FS() fs.FS {
	return files
}
