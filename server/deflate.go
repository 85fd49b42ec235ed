package server

import (
	"compress/flate"
	"io"

	"github.com/gobwas/ws"

	"github.com/myriadws/myriad/frame"
)

// errDeflate fails a connection whose compressed message is not a valid
// DEFLATE stream. RFC 7692 names no close code for it; 1007 says the
// payload is inconsistent with what the message declared itself to be.
var errDeflate = &frame.ProtocolError{Code: ws.StatusInvalidFramePayloadData, Reason: "compressed message is not valid DEFLATE data"}

// deflateTail ends every compressed message before inflating it: the
// empty stored block that RFC 7692 §7.2.1 has senders remove, then an
// empty stored block with BFINAL set, so that the inflater reports io.EOF
// at the end of the message instead of waiting for more input.
const deflateTail = "\x00\x00\xff\xff\x01\x00\x00\xff\xff"

// codec is one event loop's permessage-deflate machinery: one inflater and
// one deflater, reset for every message, and their output buffers. Since
// both directions use no context takeover (see deflateResponse), nothing
// survives from one message to the next, so connections share these and
// an idle connection holds no compression state at all. The coders are
// created on first use: a loop that never sees a compressed message never
// pays for them (the deflater is about 1 MB).
type codec struct {
	level int

	fr  io.ReadCloser // flate reader; also a flate.Resetter
	src inflateSource
	in  []byte // the last inflated message

	fw  *flate.Writer
	out appendWriter // the last deflated message
}

// inflate decompresses one message's payload p (its frames' payloads
// joined). It stops with frame.ErrMessageTooBig as soon as the output
// passes limit, so a compression bomb costs at most limit bytes of
// memory, and for text it validates UTF-8 as the output is produced,
// failing at the first invalid byte. The result is valid until the next
// inflate or release.
func (z *codec) inflate(p []byte, limit int64, text bool) ([]byte, error) {
	z.src = inflateSource{p: p}
	if z.fr == nil {
		z.fr = flate.NewReader(&z.src)
	} else if err := z.fr.(flate.Resetter).Reset(&z.src, nil); err != nil {
		return nil, errDeflate
	}
	var utf frame.UTF8
	buf := z.in[:0]
	for {
		if len(buf) == cap(buf) {
			// Grow towards limit+1: one byte past the limit is enough to
			// know the message is too big.
			n := min(max(2*cap(buf), 4096), int(min(limit+1, int64(maxInt))))
			grown := make([]byte, len(buf), n)
			copy(grown, buf)
			buf = grown
		}
		n, err := z.fr.Read(buf[len(buf):cap(buf)])
		if text && !utf.Write(buf[len(buf):len(buf)+n]) {
			z.keep(buf)
			return nil, frame.ErrInvalidUTF8
		}
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			z.keep(buf)
			return nil, frame.ErrMessageTooBig
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			z.keep(buf)
			return nil, errDeflate
		}
	}
	z.keep(buf)
	if text && !utf.Complete() {
		return nil, frame.ErrInvalidUTF8
	}
	return buf, nil
}

// keep stores buf for reuse unless it has grown past what a loop keeps.
func (z *codec) keep(buf []byte) {
	if cap(buf) > maxKeptBuffer {
		buf = nil
	}
	z.in = buf[:0]
}

// deflate compresses p as one message (RFC 7692 §7.2.1: a sync flush, with
// its trailing 00 00 ff ff removed). The result is valid until the next
// deflate.
func (z *codec) deflate(p []byte) []byte {
	z.out.b = z.out.b[:0]
	if z.fw == nil {
		// The level was validated by Config.Validate.
		z.fw, _ = flate.NewWriter(&z.out, z.level)
	} else {
		z.fw.Reset(&z.out)
	}
	_, _ = z.fw.Write(p) // appendWriter never fails
	_ = z.fw.Flush()
	b := z.out.b
	if n := len(b); n >= 4 && b[n-4] == 0 && b[n-3] == 0 && b[n-2] == 0xff && b[n-1] == 0xff {
		b = b[:n-4]
	}
	return b
}

// deflated releases the output of the last deflate once it has been
// written, unless it is small enough to keep for the next message.
func (z *codec) deflated() {
	if cap(z.out.b) > maxKeptBuffer {
		z.out.b = nil
	}
}

// inflateSource feeds the inflater a message's payload and then
// deflateTail. It implements io.ByteReader so that flate uses it directly
// instead of wrapping it in a new bufio.Reader for every message.
type inflateSource struct {
	p    []byte
	tail int // bytes of deflateTail already read
}

func (s *inflateSource) Read(b []byte) (int, error) {
	if len(s.p) > 0 {
		n := copy(b, s.p)
		s.p = s.p[n:]
		return n, nil
	}
	if s.tail == len(deflateTail) {
		return 0, io.EOF
	}
	n := copy(b, deflateTail[s.tail:])
	s.tail += n
	return n, nil
}

func (s *inflateSource) ReadByte() (byte, error) {
	if len(s.p) > 0 {
		c := s.p[0]
		s.p = s.p[1:]
		return c, nil
	}
	if s.tail == len(deflateTail) {
		return 0, io.EOF
	}
	c := deflateTail[s.tail]
	s.tail++
	return c, nil
}

// appendWriter is an io.Writer appending to a slice.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

const maxInt = int(^uint(0) >> 1)
