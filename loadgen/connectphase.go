package loadgen

// ConnectPhase sums up the connect phase of a run: the time from the first
// scheduled attempt to the last upgrade or final failure (summed over the
// Connect calls of a scenario that connects in steps) and the upgrades in
// it. Merging processes that connected side by side keeps the longest
// phase and sums the upgrades, so PerSecond is the host's aggregate rate.
// Unlike an estimate from connect latency, it counts the time the dial
// workers and the server really took, queueing included.
type ConnectPhase struct {
	Seconds   float64 `json:"seconds"`
	Upgrades  int64   `json:"upgrades"`
	PerSecond float64 `json:"upgrades_per_s"`
}

func newConnectPhase(ns, upgrades int64) ConnectPhase {
	c := ConnectPhase{Seconds: float64(ns) / 1e9, Upgrades: upgrades}
	c.derive()
	return c
}

// derive recomputes PerSecond from the other fields.
func (c *ConnectPhase) derive() {
	c.PerSecond = 0
	if c.Seconds > 0 {
		c.PerSecond = float64(c.Upgrades) / c.Seconds
	}
}
