package supervisor

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
)

// Signals of the steering protocol (Config.Steer), which a worker handles
// besides SIGTERM and SIGINT (drain):
//
//   - SignalRetire tells a replaced worker that new connections no longer
//     reach it: it lets the connections it already accepted finish their
//     upgrade, then drains as on SIGTERM.
//   - SignalUnsteer tells a worker to give its ports' groups back to the
//     kernel's own choice (handover.Unsteer): the last replacement's
//     program still skips the block that the new worker took over.
const (
	SignalRetire  = syscall.SIGUSR2
	SignalUnsteer = syscall.SIGUSR1
)

// Skip is a steering program on one port: pick any of the first Total+Len
// members of the group but the Len from First on (handover.SteerAround).
// Len 0 means no program on that port.
type Skip struct {
	First, Len, Total int
}

// Steering is what a replacement worker attaches: Skip on the WebSocket
// port and on the API port. The zero value attaches nothing.
type Steering struct {
	WS, API Skip
}

// Set reports whether s attaches anything.
func (s Steering) Set() bool { return s.WS.Len > 0 }

// String renders s for EnvSteer: "FIRST,LEN,TOTAL FIRST,LEN,TOTAL" (the
// WebSocket port, then the API port), or "" for the zero value.
func (s Steering) String() string {
	if !s.Set() {
		return ""
	}
	return fmt.Sprintf("%d,%d,%d %d,%d,%d", s.WS.First, s.WS.Len, s.WS.Total, s.API.First, s.API.Len, s.API.Total)
}

// ParseSteering reads what String wrote; "" is the zero value. It rejects
// a range a supervisor would not write. Any goroutine may call it.
func ParseSteering(v string) (Steering, error) {
	if v == "" {
		return Steering{}, nil
	}
	f := strings.Fields(v)
	if len(f) != 2 {
		return Steering{}, fmt.Errorf("%w: %s=%q", ErrConfig, EnvSteer, v)
	}
	var s Steering
	for i, p := range []*Skip{&s.WS, &s.API} {
		n := strings.Split(f[i], ",")
		if len(n) != 3 {
			return Steering{}, fmt.Errorf("%w: %s=%q", ErrConfig, EnvSteer, v)
		}
		var err [3]error
		p.First, err[0] = strconv.Atoi(n[0])
		p.Len, err[1] = strconv.Atoi(n[1])
		p.Total, err[2] = strconv.Atoi(n[2])
		if err[0] != nil || err[1] != nil || err[2] != nil || !p.valid() {
			return Steering{}, fmt.Errorf("%w: %s=%q", ErrConfig, EnvSteer, v)
		}
	}
	if s.WS.Len == 0 {
		return Steering{}, fmt.Errorf("%w: %s=%q skips nothing on the WebSocket port", ErrConfig, EnvSteer, v)
	}
	return s, nil
}

// valid reports whether k is a range SteerAround accepts, or the empty Skip.
func (k Skip) valid() bool {
	if k == (Skip{}) {
		return true
	}
	return k.First >= 0 && k.Len > 0 && k.Total > 0 && k.First+k.Len <= k.Total
}
