package gateway

import (
	"context"
	"slices"
	"testing"

	"github.com/myriadws/myriad/server"
)

func TestTopTopics(t *testing.T) {
	srv, g := startGateway(t, server.Config{Loops: 3}, Config{})
	for _, topics := range []string{"a,b,c", "a,b", "a", "c", "d"} {
		dialGateway(t, srv, "topics="+topics, nil)
	}
	waitHub(t, g, "subscriptions", func(s HubStats) bool { return s.Subscriptions == 8 })
	cases := []struct {
		name string
		n    int
		want []TopicCount
	}{
		{"top two", 2, []TopicCount{{"a", 3}, {"b", 2}}},
		{"ties by name", 3, []TopicCount{{"a", 3}, {"b", 2}, {"c", 2}}},
		{"more than there are", 10, []TopicCount{{"a", 3}, {"b", 2}, {"c", 2}, {"d", 1}}},
		{"none asked", 0, nil},
		{"negative", -1, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := g.TopTopics(context.Background(), tc.n)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("TopTopics(%d) = %v, %v; want %v", tc.n, got, err, tc.want)
			}
		})
	}
}

func TestTopTopicsNotAttached(t *testing.T) {
	g, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.TopTopics(context.Background(), 3); err != ErrNotAttached {
		t.Fatalf("err %v, want ErrNotAttached", err)
	}
}
