package broker

import (
	"net/url"
	"strings"
)

// Redact returns urls (a broker URL or a comma-separated list, as Config.URL
// takes) fit for a log line or an error: the password of each URL's user
// information, or a lone token (nats://TOKEN@host), is replaced by "xxxxx",
// so credentials given on the command line do not end up in logs. A part
// that does not parse as a URL loses everything up to its last '@'. Any
// goroutine may call it.
func Redact(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		parts[i] = redactOne(strings.TrimSpace(p))
	}
	return strings.Join(parts, ",")
}

func redactOne(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		if at := strings.LastIndexByte(s, '@'); at >= 0 {
			return "xxxxx" + s[at:]
		}
		return s
	}
	if u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	} else {
		u.User = url.User("xxxxx") // a token, or a user name that is a token
	}
	return u.String()
}
