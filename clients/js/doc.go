// Package jsclient holds no Go code of its own: it is the home of the
// JavaScript client (myriad.js, an npm package) and of the Go test that
// runs the client's Node tests against a real myriad binary, so that
// `go test ./...` covers the client too.
package jsclient
