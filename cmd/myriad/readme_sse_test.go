package main

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// sseID finds the first event id an SSE stream printed.
var sseID = regexp.MustCompile(`(?m)^id: (\S+)$`)

// TestReadmeSSECurl runs the README's Server-Sent Events lines with curl
// against the real command: the first stream prints each publish as an
// event whose id is its cursor, and the resume line, given the first
// event's id as Last-Event-ID, gets what was published after it without
// a new publish, through the recovery path.
func TestReadmeSSECurl(t *testing.T) {
	needTools(t, "curl")
	blocks := pick(readBlocks(t, "README.md"), "History and recovery", "sh", "curl -N")
	if len(blocks) != 1 {
		t.Fatalf("%d History and recovery blocks with curl -N, want 1", len(blocks))
	}
	var stream, resume string
	for _, line := range strings.Split(blocks[0].text, "\n") {
		switch {
		case strings.HasPrefix(line, "curl -N") && strings.Contains(line, "Last-Event-ID"):
			resume = line
		case strings.HasPrefix(line, "curl -N"):
			stream = line
		}
	}
	if stream == "" || resume == "" {
		t.Fatalf("want a stream line and a Last-Event-ID line in:\n%s", blocks[0].text)
	}
	ds := startDocServer(t, "go run ./cmd/myriad")
	publish := func(data string) {
		t.Helper()
		shell(t, ds.localize(fmt.Sprintf(
			`curl -s -XPOST -H 'Content-Type: application/json' localhost:8081/publish -d '{"topic":"news","data":%s}'`, data)))
	}

	first := startBackground(t, "sh", "-c", "exec "+ds.localize(stream)) // exec: the stop reaches curl itself
	n := 0
	eventually(t, "the stream's first event", func() bool {
		n++
		publish(fmt.Sprint(n)) // until the stream is subscribed, a publish reaches nobody
		return sseID.MatchString(first.String())
	})
	id := sseID.FindStringSubmatch(first.String())[1]
	publish(`"after the cursor"`)
	eventually(t, "the live event", func() bool { return strings.Contains(first.String(), "after the cursor") })

	line := regexp.MustCompile(`Last-Event-ID: [^']*`).ReplaceAllString(resume, "Last-Event-ID: "+id)
	second := startBackground(t, "sh", "-c", "exec "+ds.localize(line))
	eventually(t, "the resumed stream to replay the message after "+id, func() bool {
		return strings.Contains(second.String(), "after the cursor")
	})
	if out := second.String(); strings.Contains(out, "id: "+id+"\n") {
		t.Errorf("the resumed stream replayed the event at its own cursor %s:\n%s", id, out)
	}
}
