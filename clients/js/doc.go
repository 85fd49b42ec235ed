// Package jsclient is the home of the JavaScript client (myriad.js, an npm
// package). Its Go side is small: FS gives the client's files to a Go
// program that serves them, and the package's test runs the client's Node
// tests against a real myriad binary, so that `go test ./...` covers the
// client too.
package jsclient
