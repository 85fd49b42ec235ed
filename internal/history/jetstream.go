package history

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/myriadws/myriad/internal/broker"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Headers of stored and republished messages.
const (
	// HeaderEpoch carries the stream epoch the appending node knew.
	HeaderEpoch = "Myriad-Epoch"
	// metaEpoch is the stream metadata key holding the epoch.
	metaEpoch = "myriad.epoch"
	// maxPage bounds a Since page when neither the caller nor Size does.
	maxPage = 1000
)

// JetStream is the cluster history store: one JetStream stream holds every
// topic, on subject Prefix.<encoded topic>, so every node that connects to
// the same NATS reads the same messages with the same offsets.
//
// Offsets are stream sequences. They increase per topic but skip the
// sequences of other topics; per-topic counters would need a
// read-modify-write on every publish, contended between nodes, while the
// stream sequence comes with the publish acknowledgement for free and is
// the order the stream republishes in.
//
// The epoch is a random value in the stream's metadata, chosen when the
// store creates the stream and again by Purge; a stream deleted and
// recreated (by a node, or lost with a memory-storage broker's restart)
// has a new one. Losses inside an epoch are found by sequence (see Since).
//
// All methods may be called from any goroutine.
type JetStream struct {
	cfg    JetStreamConfig
	js     jetstream.JetStream
	epoch  atomic.Pointer[string]
	maxSeq atomic.Uint64

	mu     sync.Mutex // serialises stream (re)creation
	stream jetstream.Stream
	closed atomic.Bool
}

var _ Store = (*JetStream)(nil)

// NewJetStream creates the stream if it does not exist (another node may
// have created it: then its configuration and epoch are used as they are)
// and returns the store.
func NewJetStream(ctx context.Context, cfg JetStreamConfig) (*JetStream, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	js, err := jetstream.New(cfg.Conn)
	if err != nil {
		return nil, fmt.Errorf("history: jetstream: %w", err)
	}
	s := &JetStream{cfg: cfg, js: js}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if err := s.ensure(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// streamConfig is the stream this store wants, with a new epoch.
func (s *JetStream) streamConfig() jetstream.StreamConfig {
	c := s.cfg
	sc := jetstream.StreamConfig{
		Name:              c.Stream,
		Subjects:          []string{c.Prefix + ".>"},
		Storage:           jetstream.MemoryStorage,
		Retention:         jetstream.LimitsPolicy,
		Discard:           jetstream.DiscardOld,
		MaxMsgsPerSubject: int64(c.sizeBound()),
		MaxAge:            c.ttlBound(),
		MaxBytes:          c.Memory,
		Replicas:          c.Replicas,
		Metadata:          map[string]string{metaEpoch: strconv.FormatUint(rand.Uint64(), 36)},
	}
	if c.File {
		sc.Storage = jetstream.FileStorage
	}
	if sc.MaxMsgsPerSubject == 0 {
		sc.MaxMsgsPerSubject = -1
	}
	if c.Republish != "" {
		sc.RePublish = &jetstream.RePublish{Source: c.Prefix + ".>", Destination: c.Republish + ".>"}
	}
	return sc
}

// ensure binds the store to the stream, creating it when missing, and
// learns its epoch.
func (s *JetStream) ensure(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.js.CreateStream(ctx, s.streamConfig())
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		st, err = s.js.Stream(ctx, s.cfg.Stream)
	}
	if err != nil {
		return fmt.Errorf("history: stream %s: %w", s.cfg.Stream, err)
	}
	s.stream = st
	info, err := st.Info(ctx)
	if err != nil {
		return fmt.Errorf("history: stream %s: %w", s.cfg.Stream, err)
	}
	s.learn(info)
	return nil
}

// learn caches the epoch and the last sequence of info.
func (s *JetStream) learn(info *jetstream.StreamInfo) string {
	e := info.Config.Metadata[metaEpoch]
	if e == "" { // made by someone else: its creation time stands in
		e = strconv.FormatInt(info.Created.UnixNano(), 36)
	}
	s.epoch.Store(&e)
	s.maxSeq.Store(info.State.LastSeq)
	return e
}

func (s *JetStream) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.cfg.CallTimeout)
}

func (s *JetStream) current() jetstream.Stream {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stream
}

// Append publishes payload to the topic's stored subject and returns after
// the stream's acknowledgement, with the message's stream sequence as its
// offset. When the stream is gone it is recreated once, in a new epoch.
// A sequence lower than one seen before means the stream was recreated
// behind this node's back; the epoch is then read again.
func (s *JetStream) Append(ctx context.Context, topic string, payload []byte) (Position, error) {
	if s.closed.Load() {
		return Position{}, ErrClosed
	}
	if topic == "" {
		return Position{}, ErrBadTopic
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	msg := &nats.Msg{Subject: broker.Subject(s.cfg.Prefix, topic), Data: payload, Header: nats.Header{}}
	msg.Header.Set(HeaderEpoch, *s.epoch.Load())
	ack, err := s.js.PublishMsg(ctx, msg)
	if errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) {
		if err = s.ensure(ctx); err != nil {
			return Position{}, err
		}
		msg.Header.Set(HeaderEpoch, *s.epoch.Load())
		ack, err = s.js.PublishMsg(ctx, msg)
	}
	if err != nil {
		return Position{}, fmt.Errorf("history: append to %q: %w", topic, err)
	}
	if prev := s.maxSeq.Load(); ack.Sequence <= prev {
		if info, err := s.current().Info(ctx); err == nil {
			s.learn(info)
		}
	} else {
		s.maxSeq.CompareAndSwap(prev, ack.Sequence)
	}
	return Position{Offset: ack.Sequence, Epoch: *s.epoch.Load()}, nil
}

// Position returns the stream's last sequence and epoch: every later
// message of the topic has a higher offset. Any goroutine may call it.
func (s *JetStream) Position(ctx context.Context, topic string) (Position, error) {
	if s.closed.Load() {
		return Position{}, ErrClosed
	}
	if topic == "" {
		return Position{}, ErrBadTopic
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	info, err := s.current().Info(ctx)
	if err != nil {
		return Position{}, fmt.Errorf("history: position: %w", err)
	}
	return Position{Offset: info.State.LastSeq, Epoch: s.learn(info)}, nil
}

// Purge empties the stream and gives it a new epoch. Any goroutine may
// call it.
func (s *JetStream) Purge(ctx context.Context) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	st := s.current()
	info, err := st.Info(ctx)
	if err != nil {
		return fmt.Errorf("history: purge: %w", err)
	}
	sc := info.Config
	sc.Metadata = map[string]string{metaEpoch: strconv.FormatUint(rand.Uint64(), 36)}
	if _, err := s.js.UpdateStream(ctx, sc); err != nil {
		return fmt.Errorf("history: purge: %w", err)
	}
	if err := st.Purge(ctx); err != nil {
		return fmt.Errorf("history: purge: %w", err)
	}
	info, err = st.Info(ctx)
	if err != nil {
		return fmt.Errorf("history: purge: %w", err)
	}
	s.learn(info)
	return nil
}

// Close stops the store; the connection stays open. Any goroutine may
// call it.
func (s *JetStream) Close() error {
	s.closed.Store(true)
	return nil
}

// OffsetOf returns the offset of a message the stream republished, from
// its Nats-Sequence header, and whether it had one.
func OffsetOf(h nats.Header) (uint64, bool) {
	v := h.Get(jetstream.SequenceHeader)
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, 64)
	return n, err == nil
}
