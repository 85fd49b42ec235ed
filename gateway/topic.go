package gateway

import (
	"errors"
	"fmt"
	"strings"
)

// Topic names are 1 to Config.MaxTopicLen bytes of ASCII letters,
// digits and "._-:/@". The charset keeps names safe to splice into JSON and
// URLs without escaping, keeps ',' free as the list separator of the
// ?topics= parameter, and keeps '*' free for the wildcard of token claims.

// errTopicEmpty and friends describe a rejected topic name.
var (
	errTopicEmpty = errors.New("empty topic name")
	errTopicChars = errors.New("topic names may contain only letters, digits and . _ - : / @")
)

func validTopicByte(b byte) bool {
	switch {
	case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		return true
	}
	switch b {
	case '.', '_', '-', ':', '/', '@':
		return true
	}
	return false
}

// checkTopic reports why name is not a valid topic, or nil.
func checkTopic(name string, maxLen int) error {
	if name == "" {
		return errTopicEmpty
	}
	if len(name) > maxLen {
		return fmt.Errorf("topic name longer than %d bytes", maxLen)
	}
	for i := 0; i < len(name); i++ {
		if !validTopicByte(name[i]) {
			return errTopicChars
		}
	}
	return nil
}

// topicPatterns is a list of allowed topics from a token claim: exact
// names, or prefixes written with a trailing '*' ("news.*" allows every
// topic starting with "news."; "*" allows all).
type topicPatterns []string

// parsePatterns checks each pattern: a topic name, optionally followed by
// one '*', or "*" alone.
func parsePatterns(list []string, maxLen int) (topicPatterns, error) {
	p := make(topicPatterns, 0, len(list))
	for _, s := range list {
		name := strings.TrimSuffix(s, "*")
		if name != "" {
			if err := checkTopic(name, maxLen); err != nil {
				return nil, fmt.Errorf("pattern %q: %w", s, err)
			}
		}
		if name == "" && s != "*" {
			return nil, fmt.Errorf("pattern %q: %w", s, errTopicEmpty)
		}
		p = append(p, s)
	}
	return p, nil
}

// match reports whether topic is allowed by one of the patterns.
func (p topicPatterns) match(topic string) bool {
	for _, s := range p {
		if n := len(s); n > 0 && s[n-1] == '*' {
			if strings.HasPrefix(topic, s[:n-1]) {
				return true
			}
		} else if s == topic {
			return true
		}
	}
	return false
}

// splitTopics splits a comma-separated list, skipping empty items.
func splitTopics(list []string) []string {
	var out []string
	for _, s := range list {
		for _, t := range strings.Split(s, ",") {
			if t = strings.TrimSpace(t); t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}
