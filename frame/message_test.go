package frame_test

import (
	"testing"

	"github.com/gobwas/ws"

	"github.com/myriadws/myriad/frame"
)

// msgStep is one call on a frame.Message, with what it must return, or a
// check of the accessors.
type msgStep struct {
	do    func(m *frame.Message) (first bool, err error)
	first bool
	err   error
	state *msgState
}

type msgState struct {
	active     bool
	op         ws.OpCode
	size       int64
	compressed bool
}

func hdr(fin bool, rsv1 bool, op ws.OpCode, length int64) ws.Header {
	return ws.Header{Fin: fin, Rsv: ws.Rsv(rsv1, false, false), OpCode: op, Masked: true, Mask: testMask, Length: length}
}

func frameStep(h ws.Header, limit int64, first bool, err error) msgStep {
	return msgStep{do: func(m *frame.Message) (bool, error) { return m.Frame(h, limit) }, first: first, err: err}
}

func textStep(p string, final bool, err error) msgStep {
	return msgStep{do: func(m *frame.Message) (bool, error) { return false, m.Text([]byte(p), final) }, err: err}
}

func endStep() msgStep {
	return msgStep{do: func(m *frame.Message) (bool, error) { m.End(); return false, nil }}
}

func stateStep(active bool, op ws.OpCode, size int64, compressed bool) msgStep {
	return msgStep{state: &msgState{active, op, size, compressed}}
}

var idle = stateStep(false, ws.OpContinuation, 0, false)

func TestMessage(t *testing.T) {
	const none = 0 // no size limit
	cases := []struct {
		name  string
		steps []msgStep
	}{
		{"zero value is idle", []msgStep{idle}},
		{"single text frame", []msgStep{
			frameStep(hdr(true, false, ws.OpText, 5), none, true, nil),
			stateStep(true, ws.OpText, 5, false),
			textStep("hello", true, nil),
			endStep(),
			idle,
		}},
		{"fragmented binary", []msgStep{
			frameStep(hdr(false, false, ws.OpBinary, 3), none, true, nil),
			frameStep(hdr(false, false, ws.OpContinuation, 4), none, false, nil),
			frameStep(hdr(true, false, ws.OpContinuation, 5), none, false, nil),
			stateStep(true, ws.OpBinary, 12, false),
			endStep(),
			idle,
		}},
		{"empty fragments", []msgStep{
			frameStep(hdr(false, false, ws.OpText, 0), none, true, nil),
			frameStep(hdr(true, false, ws.OpContinuation, 0), none, false, nil),
			textStep("", true, nil),
			stateStep(true, ws.OpText, 0, false),
		}},
		{"continuation without message", []msgStep{
			frameStep(hdr(false, false, ws.OpContinuation, 1), none, false, frame.ErrUnexpectedContinue),
			idle,
		}},
		{"final continuation without message", []msgStep{
			frameStep(hdr(true, false, ws.OpContinuation, 1), none, false, frame.ErrUnexpectedContinue),
		}},
		{"continuation after end", []msgStep{
			frameStep(hdr(true, false, ws.OpText, 1), none, true, nil),
			endStep(),
			frameStep(hdr(true, false, ws.OpContinuation, 1), none, false, frame.ErrUnexpectedContinue),
		}},
		{"text during text message", []msgStep{
			frameStep(hdr(false, false, ws.OpText, 1), none, true, nil),
			frameStep(hdr(true, false, ws.OpText, 1), none, false, frame.ErrExpectedContinue),
		}},
		{"binary during text message", []msgStep{
			frameStep(hdr(false, false, ws.OpText, 1), none, true, nil),
			frameStep(hdr(true, false, ws.OpBinary, 1), none, false, frame.ErrExpectedContinue),
		}},
		{"text during binary message after continuation", []msgStep{
			frameStep(hdr(false, false, ws.OpBinary, 1), none, true, nil),
			frameStep(hdr(false, false, ws.OpContinuation, 1), none, false, nil),
			frameStep(hdr(true, false, ws.OpText, 1), none, false, frame.ErrExpectedContinue),
		}},
		{"next message after end", []msgStep{
			frameStep(hdr(true, false, ws.OpText, 1), none, true, nil),
			endStep(),
			frameStep(hdr(true, false, ws.OpBinary, 2), none, true, nil),
			stateStep(true, ws.OpBinary, 2, false),
		}},

		{"size exactly at limit", []msgStep{
			frameStep(hdr(true, false, ws.OpBinary, 10), 10, true, nil),
			stateStep(true, ws.OpBinary, 10, false),
		}},
		{"size one over limit", []msgStep{
			frameStep(hdr(true, false, ws.OpBinary, 11), 10, true, frame.ErrMessageTooBig),
		}},
		{"fragments exactly at limit", []msgStep{
			frameStep(hdr(false, false, ws.OpText, 4), 10, true, nil),
			frameStep(hdr(false, false, ws.OpContinuation, 5), 10, false, nil),
			frameStep(hdr(true, false, ws.OpContinuation, 1), 10, false, nil),
			stateStep(true, ws.OpText, 10, false),
		}},
		{"fragments one over limit", []msgStep{
			frameStep(hdr(false, false, ws.OpText, 4), 10, true, nil),
			frameStep(hdr(false, false, ws.OpContinuation, 5), 10, false, nil),
			frameStep(hdr(true, false, ws.OpContinuation, 2), 10, false, frame.ErrMessageTooBig),
		}},
		{"empty continuation at limit", []msgStep{
			frameStep(hdr(false, false, ws.OpBinary, 10), 10, true, nil),
			frameStep(hdr(true, false, ws.OpContinuation, 0), 10, false, nil),
		}},
		{"huge length does not overflow the limit check", []msgStep{
			frameStep(hdr(false, false, ws.OpBinary, 10), 10, true, nil),
			frameStep(hdr(true, false, ws.OpContinuation, 1<<62), 10, false, frame.ErrMessageTooBig),
		}},
		{"no limit", []msgStep{
			frameStep(hdr(false, false, ws.OpBinary, 1<<40), 0, true, nil),
			frameStep(hdr(true, false, ws.OpContinuation, 1<<40), 0, false, nil),
			stateStep(true, ws.OpBinary, 1<<41, false),
		}},
		{"negative limit means none", []msgStep{
			frameStep(hdr(true, false, ws.OpBinary, 1<<40), -1, true, nil),
		}},
		{"size resets for the next message", []msgStep{
			frameStep(hdr(true, false, ws.OpBinary, 10), 10, true, nil),
			endStep(),
			frameStep(hdr(true, false, ws.OpBinary, 10), 10, true, nil),
			stateStep(true, ws.OpBinary, 10, false),
		}},

		{"ping between fragments", []msgStep{
			frameStep(hdr(false, false, ws.OpText, 2), 10, true, nil),
			textStep("\xce", false, nil),
			frameStep(hdr(true, false, ws.OpPing, 125), 10, false, nil),
			stateStep(true, ws.OpText, 2, false),
			frameStep(hdr(true, false, ws.OpContinuation, 8), 10, false, nil),
			textStep("\xbaabcdefg", true, nil),
		}},
		{"pong and close between fragments", []msgStep{
			frameStep(hdr(false, true, ws.OpBinary, 2), none, true, nil),
			frameStep(hdr(true, false, ws.OpPong, 3), none, false, nil),
			frameStep(hdr(true, false, ws.OpClose, 2), none, false, nil),
			stateStep(true, ws.OpBinary, 2, true),
			frameStep(hdr(true, false, ws.OpContinuation, 1), none, false, nil),
		}},
		{"ping without message", []msgStep{
			frameStep(hdr(true, false, ws.OpPing, 4), none, false, nil),
			idle,
			frameStep(hdr(true, false, ws.OpText, 1), none, true, nil),
		}},
		{"control frame length not counted", []msgStep{
			frameStep(hdr(false, false, ws.OpBinary, 10), 10, true, nil),
			frameStep(hdr(true, false, ws.OpPing, 125), 10, false, nil),
			frameStep(hdr(true, false, ws.OpContinuation, 0), 10, false, nil),
			stateStep(true, ws.OpBinary, 10, false),
		}},

		{"text valid across frames", []msgStep{
			frameStep(hdr(false, false, ws.OpText, 3), none, true, nil),
			textStep("\xce\xba\xe1", false, nil),
			frameStep(hdr(false, false, ws.OpContinuation, 1), none, false, nil),
			textStep("\xbd", false, nil),
			frameStep(hdr(true, false, ws.OpContinuation, 1), none, false, nil),
			textStep("\xb9", true, nil),
		}},
		{"text unfinished at end", []msgStep{
			frameStep(hdr(false, false, ws.OpText, 3), none, true, nil),
			textStep("\xce\xba\xe1", false, nil),
			frameStep(hdr(true, false, ws.OpContinuation, 1), none, false, nil),
			textStep("\xbd", true, frame.ErrInvalidUTF8),
		}},
		{"text fails at the bad piece, not at the end", []msgStep{
			frameStep(hdr(false, false, ws.OpText, 3), none, true, nil),
			textStep("\xf4\x90", false, frame.ErrInvalidUTF8),
		}},
		{"text stays failed", []msgStep{
			frameStep(hdr(false, false, ws.OpText, 3), none, true, nil),
			textStep("\xff", false, frame.ErrInvalidUTF8),
			textStep("", false, frame.ErrInvalidUTF8),
			textStep("a", true, frame.ErrInvalidUTF8),
		}},
		{"text validator resets for the next message", []msgStep{
			frameStep(hdr(true, false, ws.OpText, 1), none, true, nil),
			textStep("\xff", true, frame.ErrInvalidUTF8),
			endStep(),
			frameStep(hdr(true, false, ws.OpText, 2), none, true, nil),
			textStep("\xce\xba", true, nil),
		}},
		{"unfinished text does not leak into the next message", []msgStep{
			frameStep(hdr(false, false, ws.OpText, 1), none, true, nil),
			textStep("\xce", false, nil),
			endStep(),
			frameStep(hdr(true, false, ws.OpText, 1), none, true, nil),
			textStep("a", true, nil),
		}},
		{"binary not validated", []msgStep{
			frameStep(hdr(true, false, ws.OpBinary, 2), none, true, nil),
			textStep("\xff\xce", true, nil),
		}},
		{"no message not validated", []msgStep{
			textStep("\xff", true, nil),
		}},

		{"rsv1 on first frame", []msgStep{
			frameStep(hdr(false, true, ws.OpText, 1), none, true, nil),
			stateStep(true, ws.OpText, 1, true),
			frameStep(hdr(true, false, ws.OpContinuation, 1), none, false, nil),
			stateStep(true, ws.OpText, 2, true),
			endStep(),
			idle,
		}},
		{"rsv1 on continuation", []msgStep{
			frameStep(hdr(false, true, ws.OpText, 1), none, true, nil),
			frameStep(hdr(true, true, ws.OpContinuation, 1), none, false, frame.ErrCompressedContinue),
		}},
		{"rsv1 on continuation of uncompressed message", []msgStep{
			frameStep(hdr(false, false, ws.OpBinary, 1), none, true, nil),
			frameStep(hdr(false, true, ws.OpContinuation, 1), none, false, frame.ErrCompressedContinue),
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var m frame.Message
			for i, s := range tc.steps {
				if s.state != nil {
					checkMessageState(t, i, &m, *s.state)
					continue
				}
				first, err := s.do(&m)
				if err != s.err || first != s.first {
					t.Fatalf("step %d: got first=%v, err=%v; want first=%v, err=%v", i, first, err, s.first, s.err)
				}
			}
		})
	}
}

func checkMessageState(t *testing.T, step int, m *frame.Message, want msgState) {
	t.Helper()
	got := msgState{m.Active(), m.OpCode(), m.Size(), m.Compressed()}
	if got != want {
		t.Fatalf("step %d: state %+v, want %+v", step, got, want)
	}
}
