package history

import (
	"fmt"
	"runtime"
	"testing"
)

// BenchmarkLocalMemory stores 100,000 messages (1,000 topics of 100) and
// reports the heap bytes per stored message from runtime.MemStats deltas,
// next to what the store charges to its budget. The entryOverhead and
// topicOverhead constants come from these figures.
func BenchmarkLocalMemory(b *testing.B) {
	for _, size := range []int{64, 1024} {
		b.Run(fmt.Sprintf("payload=%d", size), func(b *testing.B) {
			const msgs, topics = 100_000, 1000
			payload := make([]byte, size)
			names := make([]string, topics)
			for i := range names {
				names[i] = fmt.Sprintf("topic-%d", i)
			}
			var heap, charged float64
			for range b.N {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				l, err := NewLocal(Config{Size: msgs / topics, TTL: -1, Memory: 1 << 30})
				if err != nil {
					b.Fatal(err)
				}
				for i := range msgs {
					if _, err := l.AppendAt(names[i%topics], payload, t0); err != nil {
						b.Fatal(err)
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				heap += float64(after.HeapAlloc-before.HeapAlloc) / msgs
				charged += float64(l.Stats().Bytes) / msgs
				runtime.KeepAlive(l)
			}
			b.ReportMetric(heap/float64(b.N), "heapB/msg")
			b.ReportMetric(charged/float64(b.N)-float64(size), "overheadB/msg")
			b.ReportMetric(charged/float64(b.N), "chargedB/msg")
		})
	}
}

// BenchmarkLocalAppend measures appends to distinct topics from parallel
// goroutines, the publish path's cost with history on.
func BenchmarkLocalAppend(b *testing.B) {
	l, err := NewLocal(Config{})
	if err != nil {
		b.Fatal(err)
	}
	names := make([]string, 4096)
	for i := range names {
		names[i] = fmt.Sprintf("topic-%d", i)
	}
	payload := make([]byte, 64)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := l.AppendAt(names[i%len(names)], payload, t0); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}
