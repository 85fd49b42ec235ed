package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// publisher posts broadcast messages to a gateway's publish API from one
// goroutine over one keep-alive HTTP connection, on a fixed schedule of
// BroadcastParams.PubRate per second. One request is out at a time, so the messages
// reach the gateway in sequence order and any reordering a subscriber sees
// is the gateway's. A message whose time comes while the previous request
// is still out is posted as soon as that one is answered (publish_lag_max_ms
// says how late); publishing stops after Plan.Duration, and scheduled
// messages not posted by then are counted in publish_skipped. Latencies
// count from when a message was actually posted: a publish API slower than
// the schedule shows in the publish histogram, the lag and the skips.
//
// Each message gets the next sequence number, except after an answer that
// says for certain it was not published (an HTTP error status, or a
// refused connection): the number is then used again, so subscribers see
// no gap for a message that never existed. A message whose fate is
// unknown (timeout, reset, an answer that is not JSON) keeps its number and
// counts as published: if it never arrives, every subscriber counts it lost.
type publisher struct {
	api    string
	key    string
	topic  []byte // JSON-encoded
	rate   float64
	size   int
	client *http.Client
	wall   func() int64 // Unix ns, the clock subscribers measure against

	lat     *Recorder
	counter func(name string) *Counter
}

// publishResult is what a publisher did.
type publishResult struct {
	Published int64 // sequence numbers used: messages each subscriber should get
	Accepted  int64 // 2xx answers
	Delivered int64 // sum of the answers' "delivered"
}

// Counter and histogram names of the publisher.
const (
	CounterPublishOK        = "publish_ok"         // 2xx answers
	CounterPublishDelivered = "publish_delivered"  // sum of "delivered" in the answers
	CounterPublishCluster   = "publish_cluster"    // 2xx answers of a cluster node: accepted by the broker, deliveries counted by each node
	CounterPublishErrors    = "publish_errors"     // failed requests, all causes
	CounterPublishLagMs     = "publish_lag_max_ms" // worst lateness of a post against its schedule
	CounterPublishSkipped   = "publish_skipped"    // scheduled posts not made within the duration: the API was slower than the schedule
	// PublishErrorPrefix starts the per-cause counters of failed requests:
	// publish_errors_http_401, publish_errors_refused, publish_errors_timeout,
	// publish_errors_reset, publish_errors_bad_answer, publish_errors_other.
	PublishErrorPrefix = "publish_errors_"
	HistPublish        = "publish" // publish request to answer
)

// CauseBadAnswer is the publish error cause of a 2xx answer without a
// readable {"delivered": N}, or a cluster node's {"accepted": true}.
const CauseBadAnswer = "bad_answer"

// publishTimeout bounds one publish request.
const publishTimeout = 10 * time.Second

func newPublisher(p Plan, bp BroadcastParams, lat *Recorder, counter func(string) *Counter, wall func() int64) (*publisher, error) {
	topic, err := json.Marshal(bp.Topic)
	if err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Timeout: publishTimeout}
	tr := &http.Transport{
		Proxy:               nil, // loopback benchmarks: never through a proxy from the environment
		DialContext:         dialer.DialContext,
		MaxIdleConns:        1,
		MaxIdleConnsPerHost: 1,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	return &publisher{
		api:     bp.API,
		key:     bp.APIKey,
		topic:   topic,
		rate:    bp.PubRate,
		size:    p.Size,
		client:  &http.Client{Transport: tr, Timeout: publishTimeout},
		wall:    wall,
		lat:     lat,
		counter: counter,
	}, nil
}

// run publishes for d, or until ctx ends, and returns what it did.
func (pb *publisher) run(ctx context.Context, d time.Duration) publishResult {
	defer pb.client.CloseIdleConnections()
	var res publishResult
	ok := pb.counter(CounterPublishOK)
	delivered := pb.counter(CounterPublishDelivered)
	cluster := pb.counter(CounterPublishCluster)
	errs := pb.counter(CounterPublishErrors)
	lag := pb.counter(CounterPublishLagMs)
	skipped := pb.counter(CounterPublishSkipped)
	interval := time.Duration(float64(time.Second) / pb.rate)
	scheduled := int((d + interval - 1) / interval)
	start := time.Now()
	var body []byte
	var seq uint64
	for i := 0; i < scheduled; i++ {
		due := start.Add(time.Duration(i) * interval)
		if time.Since(start) >= d {
			skipped.Add(int64(scheduled - i))
			break
		}
		if err := sleep(ctx, time.Until(due)); err != nil {
			break
		}
		if late := time.Since(due); late > 0 {
			maxInt64(&lag.Int64, int64(late/time.Millisecond))
		}
		ts := pb.wall()
		body = appendBroadcastBody(body[:0], pb.topic, seq, ts, pb.size)
		t0 := time.Now()
		n, cause, sure := pb.post(ctx, body)
		pb.lat.Record(int64(time.Since(t0)))
		switch {
		case cause == "":
			res.Accepted++
			ok.Add(1)
			if n == clusterAnswer {
				cluster.Add(1)
				break
			}
			res.Delivered += n
			delivered.Add(n)
		case ctx.Err() != nil:
			// Interrupted mid-request: neither an error of the API nor a
			// message anyone should wait for.
			return res
		default:
			errs.Add(1)
			pb.counter(PublishErrorPrefix + cause).Add(1)
		}
		if cause == "" || !sure {
			seq++
			res.Published++
		}
	}
	return res
}

// clusterAnswer is post's delivered count for a cluster node's answer,
// which has none: each node counts its own deliveries in /stats.
const clusterAnswer = -1

// post sends one message. It returns the answer's delivered count
// (clusterAnswer for a cluster node), the failure cause ("" on success),
// and whether a failure is certain not to have published the message.
func (pb *publisher) post(ctx context.Context, body []byte) (delivered int64, cause string, sure bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, pb.api, bytes.NewReader(body))
	if err != nil {
		return 0, CauseOther, true
	}
	req.Header.Set("Content-Type", "application/json")
	if pb.key != "" {
		req.Header.Set("Authorization", "Bearer "+pb.key)
	}
	resp, err := pb.client.Do(req)
	if err != nil {
		c := classify(unwrapURL(err))
		return 0, c, c == CauseRefused
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return 0, HTTPCause(resp.StatusCode), true
	}
	if err != nil {
		return 0, classify(err), false
	}
	var a struct {
		Delivered *int64 `json:"delivered"`
		Accepted  bool   `json:"accepted"`
		Cluster   bool   `json:"cluster"`
	}
	switch {
	case json.Unmarshal(answer, &a) != nil:
		return 0, CauseBadAnswer, false
	case a.Delivered != nil:
		return *a.Delivered, "", false
	case a.Cluster && a.Accepted:
		// A cluster node answers once the broker has the message; each
		// node counts its own deliveries, so there is nothing to add.
		return clusterAnswer, "", false
	}
	return 0, CauseBadAnswer, false
}

func unwrapURL(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// checkAPI reports a publish API address the publisher cannot use.
func checkAPI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("--api %q: %w", raw, err)
	}
	if u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("--api %q: want http://host:port/path", raw)
	}
	return nil
}
