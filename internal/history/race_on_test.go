//go:build race

package history

// raceEnabled is set when the race detector runs, which makes the
// million-topic test about fifteen times slower.
const raceEnabled = true
