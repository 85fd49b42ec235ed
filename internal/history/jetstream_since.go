package history

import (
	"context"
	"errors"
	"fmt"

	"github.com/myriadws/myriad/internal/broker"
	"github.com/nats-io/nats.go/jetstream"
)

// Since implements Store.Since over the stream. Any goroutine may call it.
//
// Whether the history still reaches back to since.Offset+1 follows from
// how JetStream removes messages: the per-subject limit, MaxAge and
// MaxBytes all remove a topic's oldest message before its newer ones, so a
// topic's retained messages are always the newest of those it had. Hence
// nothing after offset S was lost when
//
//   - the topic still holds a message at or before S, or
//   - the stream's first sequence is at most S+1 (nothing after S went from
//     the head of the stream, by age, bytes or purge) and the topic holds
//     fewer messages than the per-subject limit (the limit never removed
//     one; it would have left the topic full).
//
// Otherwise Since answers ok=false, which may be pessimistic when exactly
// the limit's worth of messages arrived after S and none was lost. The
// check runs before and after reading the messages, so a removal racing
// with the reads is seen. Messages deleted one by one through the
// JetStream API break the first rule and are not detected.
func (s *JetStream) Since(ctx context.Context, topic string, since Position, limit int) ([]Entry, bool, Position, error) {
	if s.closed.Load() {
		return nil, false, Position{}, ErrClosed
	}
	if topic == "" {
		return nil, false, Position{}, ErrBadTopic
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	st := s.current()
	subj := broker.Subject(s.cfg.Prefix, topic)
	ok, cur, err := s.reaches(ctx, st, subj, since)
	if err != nil || !ok {
		return nil, false, cur, err
	}
	if limit <= 0 {
		limit = s.cfg.sizeBound()
		if limit == 0 {
			limit = maxPage
		}
	}
	var out []Entry
	for seq := since.Offset + 1; len(out) < limit && seq <= cur.Offset; {
		m, err := st.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subj))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			break
		}
		if err != nil {
			return nil, false, cur, fmt.Errorf("history: since: %w", err)
		}
		if m.Sequence > cur.Offset {
			break
		}
		out = append(out, Entry{Offset: m.Sequence, Time: m.Time, Payload: m.Data})
		seq = m.Sequence + 1
	}
	if ok, _, err = s.reaches(ctx, st, subj, since); err != nil || !ok {
		return nil, false, cur, err
	}
	return out, true, cur, nil
}

// reaches applies the rules of Since to the stream as it is now and
// returns the position to read up to.
func (s *JetStream) reaches(ctx context.Context, st jetstream.Stream, subj string, since Position) (bool, Position, error) {
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(subj))
	if err != nil {
		return false, Position{}, fmt.Errorf("history: since: %w", err)
	}
	cur := Position{Offset: info.State.LastSeq, Epoch: s.learn(info)}
	if since.Epoch != cur.Epoch || since.Offset > cur.Offset {
		return false, cur, nil
	}
	first, err := st.GetMsg(ctx, 1, jetstream.WithGetMsgSubject(subj))
	switch {
	case err == nil && first.Sequence <= since.Offset:
		return true, cur, nil
	case err != nil && !errors.Is(err, jetstream.ErrMsgNotFound):
		return false, cur, fmt.Errorf("history: since: %w", err)
	}
	held := int64(info.State.Subjects[subj])
	n := info.Config.MaxMsgsPerSubject // the stream's, if another node made it
	return since.Offset+1 >= info.State.FirstSeq && (n <= 0 || held < n), cur, nil
}
