package handshake

import (
	"net/http"
	"strconv"
)

// AppendSwitching appends the 101 response completing an upgrade: the
// accept value for key, then the chosen subprotocol and the accepted
// extensions when not empty. The caller has checked the request (key
// included) and chosen protocol and extensions from what it offered.
func AppendSwitching(dst, key []byte, protocol string, extensions []byte) []byte {
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	dst = AppendAccept(dst, key)
	dst = append(dst, "\r\n"...)
	if protocol != "" {
		dst = append(dst, "Sec-WebSocket-Protocol: "...)
		dst = append(dst, protocol...)
		dst = append(dst, "\r\n"...)
	}
	if len(extensions) > 0 {
		dst = append(dst, "Sec-WebSocket-Extensions: "...)
		dst = append(dst, extensions...)
		dst = append(dst, "\r\n"...)
	}
	return append(dst, "\r\n"...)
}

// AppendError appends a short, complete HTTP response refusing an upgrade:
// e's status, its header lines, and its reason as a plain-text body. The
// response says Connection: close, since the server closes after it.
func AppendError(dst []byte, e *Error) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(e.Status), 10)
	dst = append(dst, ' ')
	dst = append(dst, http.StatusText(e.Status)...)
	dst = append(dst, "\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(e.Reason)+1), 10)
	dst = append(dst, "\r\n"...)
	dst = append(dst, e.Header...)
	dst = append(dst, "\r\n"...)
	dst = append(dst, e.Reason...)
	return append(dst, '\n')
}
