package main

import (
	"embed"
	"fmt"
	"io/fs"
	"net"

	"github.com/myriadws/myriad/clients/js"
	"github.com/myriadws/myriad/server"
)

// demoFiles is the demo page. embed needs a package variable; nothing
// writes it.
//
//go:embed demo/index.html
var demoFiles embed.FS

// demoPath is where --demo serves its page, on the WebSocket port.
const demoPath = "/demo"

// demoPages returns the pages --demo mounts: the chat page and the
// JavaScript client it imports, the very module of clients/js, so the
// page needs nothing from the network but this server.
func demoPages() (map[string]server.Page, error) {
	html, err := demoFiles.ReadFile("demo/index.html")
	if err != nil {
		return nil, fmt.Errorf("demo page: %w", err)
	}
	js, err := fs.ReadFile(jsclient.FS(), "myriad.js")
	if err != nil {
		return nil, fmt.Errorf("demo client: %w", err)
	}
	page := server.Page{ContentType: "text/html; charset=utf-8", Body: html}
	return map[string]server.Page{
		demoPath:                page,
		demoPath + "/":          page,
		demoPath + "/myriad.js": {ContentType: "text/javascript; charset=utf-8", Body: js},
	}, nil
}

// demoURL is the address a browser on this host opens for the demo.
func demoURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + demoPath
}
