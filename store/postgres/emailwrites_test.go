package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/port"
	"github.com/emailflow/emailflow/store/postgres"
)

// tracedStore is a Store in a fresh schema on a pool of its own whose
// statements c counts (see tripCounter), logging them.
func tracedStore(t *testing.T, c *tripCounter) *postgres.Store {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(dsn())
	require.NoError(t, err)
	cfg.MaxConns = 2
	cfg.ConnConfig.Tracer = c
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	s, err := postgres.New(context.Background(), pool, &postgres.Options{Schema: freshSchema(t)})
	require.NoError(t, err)
	c.mu.Lock()
	c.on = true
	c.mu.Unlock()
	return s
}

// logged returns how many statements c logged that contain part.
func (c *tripCounter) logged(part string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, l := range c.log {
		if strings.Contains(l, part) {
			n++
		}
	}
	return n
}

// TestEventsOfATransactionInOneStatement: the events of a transaction
// that writes its interaction twice (two sets of numbers taken ahead) go
// in one insert with COMMIT, keep the Seq order they were appended in and
// their payloads; a read of the events inside the transaction sees them;
// the feed gives them in that order.
func TestEventsOfATransactionInOneStatement(t *testing.T) {
	c := &tripCounter{}
	s := tracedStore(t, c)
	ctx := context.WithValue(t.Context(), counting{}, true)
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	answer := &interaction.Answer{ConsultID: "c1", Colleague: "bob", Text: "Oui, remboursé.", At: at}
	want := []emailflow.Event{
		{Type: emailflow.EventIngested, Detail: "one"},
		{Type: emailflow.EventUpdated, Detail: "two", Answer: answer},
		{Type: emailflow.EventUpdated, Detail: "three", Agent: "alice"},
		{Type: emailflow.EventUpdated, Detail: "four: after the second write"},
		{Type: emailflow.EventUpdated, Detail: "five"},
	}
	var inside []emailflow.Event
	var seqs []int64
	require.NoError(t, s.Update(ctx, func(tx emailflow.Tx) error {
		it, err := interaction.New("x", interaction.KindInbound, "system", at)
		if err != nil {
			return err
		}
		it.State, it.Queue = interaction.StateQueued, "q"
		if err := tx.CreateInteraction(ctx, it); err != nil {
			return err
		}
		for i := range want {
			if i == 3 { // new numbers, taken with this write
				it.Priority++
				if err := tx.UpdateInteraction(ctx, it); err != nil {
					return err
				}
			}
			e := want[i]
			e.InteractionID, e.Actor, e.State, e.At = "x", "system", it.State, at
			if err := tx.AppendEvent(ctx, &e); err != nil {
				return err
			}
			seqs = append(seqs, e.Seq)
		}
		inside, err = tx.Events(ctx, 0, 0)
		return err
	}))
	assert.Equal(t, 1, c.logged(".events (seq,"), "one insert of the transaction's events")
	require.Len(t, seqs, len(want))
	for i := 1; i < len(seqs); i++ {
		assert.Greater(t, seqs[i], seqs[i-1], "Seq increases in the order appended")
	}
	require.Len(t, inside, len(want), "the transaction reads its own events")

	var feed []emailflow.Event
	require.Eventually(t, func() bool {
		var err error
		feed, err = s.FeedAfter(ctx, 0, 100)
		return err == nil && len(feed) == len(want)
	}, 5*time.Second, 10*time.Millisecond)
	for name, got := range map[string][]emailflow.Event{"in the transaction": inside, "feed": feed} {
		for i, e := range got {
			assert.Equal(t, seqs[i], e.Seq, "%s %d", name, i)
			assert.Equal(t, want[i].Type, e.Type, "%s %d", name, i)
			assert.Equal(t, want[i].Detail, e.Detail, "%s %d", name, i)
			assert.Equal(t, want[i].Agent, e.Agent, "%s %d", name, i)
			assert.Equal(t, want[i].Answer, e.Answer, "%s %d", name, i)
			assert.Equal(t, at, e.At, "%s %d", name, i)
		}
	}
}

// TestRefusedEventRollsBack: an event the server refuses (a NUL byte in
// text) fails the commit; the interaction written with it is not kept,
// nor any other event of the transaction.
func TestRefusedEventRollsBack(t *testing.T) {
	s := freshStore(t)
	ctx := t.Context()
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	err := s.Update(ctx, func(tx emailflow.Tx) error {
		it, err := interaction.New("x", interaction.KindInbound, "system", at)
		if err != nil {
			return err
		}
		it.State, it.Queue = interaction.StateQueued, "q"
		if err := tx.CreateInteraction(ctx, it); err != nil {
			return err
		}
		for _, detail := range []string{"fine", "bad \x00 byte"} {
			e := &emailflow.Event{Type: emailflow.EventIngested, InteractionID: "x", Actor: "system", State: it.State, At: at, Detail: detail}
			if err := tx.AppendEvent(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "append event")
	require.NoError(t, s.View(ctx, func(tx emailflow.Tx) error {
		_, err := tx.Interaction(ctx, "x")
		assert.True(t, errors.Is(err, emailflow.ErrNotFound), "interaction rolled back: %v", err)
		evs, err := tx.Events(ctx, 0, 0)
		assert.Empty(t, evs)
		return err
	}))
}

// TestMessageIDRecordedOnce: a write of an email the transaction read
// with the same Message-ID does not record the Message-ID again; a new
// Message-ID on it is recorded in the same transaction (found by a read
// before the commit and after), the first one still naming the email.
func TestMessageIDRecordedOnce(t *testing.T) {
	c := &tripCounter{}
	s := tracedStore(t, c)
	ctx := context.WithValue(t.Context(), counting{}, true)
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	require.NoError(t, s.Update(ctx, func(tx emailflow.Tx) error {
		it, err := interaction.New("x", interaction.KindOutbound, "alice", at)
		if err != nil {
			return err
		}
		if err := tx.CreateInteraction(ctx, it); err != nil {
			return err
		}
		return tx.PutEmail(ctx, &emailflow.Email{ID: "e1", InteractionID: "x", MessageID: "m1@desk", Subject: "draft", Raw: []byte("raw")})
	}))
	const insert = ".message_ids (message_id, email_id)"
	tests := []struct {
		name    string
		write   func(tx emailflow.Tx) error // reads e1 and writes it
		inserts int
		ids     []string // Message-IDs naming e1 after
	}{
		{"unchanged after EmailsOf", func(tx emailflow.Tx) error {
			es, err := tx.EmailsOf(ctx, "x")
			if err != nil {
				return err
			}
			es[0].Subject = "edited"
			return tx.PutEmail(ctx, es[0])
		}, 0, []string{"m1@desk"}},
		{"unchanged after Email", func(tx emailflow.Tx) error {
			e, err := tx.Email(ctx, "e1")
			if err != nil {
				return err
			}
			e.Raw = []byte("raw 2")
			return tx.PutEmail(ctx, e)
		}, 0, []string{"m1@desk"}},
		{"changed", func(tx emailflow.Tx) error {
			e, err := tx.EmailByMessageID(ctx, "m1@desk")
			if err != nil {
				return err
			}
			e.MessageID = "m2@desk"
			if err := tx.PutEmail(ctx, e); err != nil {
				return err
			}
			got, err := tx.EmailByMessageID(ctx, "m2@desk") // before the commit
			if err != nil {
				return err
			}
			assert.Equal(t, "e1", got.ID)
			return tx.PutEmail(ctx, e) // again, the same: not recorded twice
		}, 1, []string{"m1@desk", "m2@desk"}},
		{"not read first", func(tx emailflow.Tx) error {
			return tx.PutEmail(ctx, &emailflow.Email{ID: "e1", InteractionID: "x", MessageID: "m2@desk", Subject: "blind"})
		}, 1, []string{"m1@desk", "m2@desk"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := c.logged(insert)
			require.NoError(t, s.Update(ctx, tc.write))
			assert.Equal(t, tc.inserts, c.logged(insert)-before, "inserts of a Message-ID")
			require.NoError(t, s.View(ctx, func(tx emailflow.Tx) error {
				for _, mid := range tc.ids {
					e, err := tx.EmailByMessageID(ctx, mid)
					if assert.NoError(t, err, mid) {
						assert.Equal(t, "e1", e.ID, mid)
					}
				}
				return nil
			}))
		})
	}
}

// TestChangedMessageIDThreadsAnswer: the Message-ID of a draft changed
// between Reply and Send is the one the customer answers; the answer
// threads to the conversation (an answer to an unknown Message-ID, the
// control, does not).
func TestChangedMessageIDThreadsAnswer(t *testing.T) {
	s := freshStore(t)
	ws, err := emailflow.New(emailflow.Ports{Store: s, Sender: &countSender{}}, benchOptions())
	require.NoError(t, err)
	ctx := t.Context()
	require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: "alice", Queues: []string{"support-fr"}, Capacity: 10}))
	require.NoError(t, ws.As("alice").SetStatus(ctx, emailflow.StatusReady))
	raw := benchOrder(t)
	in, err := ws.Ingest(ctx, benchMailbox, bytes.NewReader(benchMail(raw, 1)))
	require.NoError(t, err)
	require.Equal(t, "alice", in.OfferedTo)
	_, err = ws.As("alice").Accept(ctx, in.ID)
	require.NoError(t, err)
	r, err := ws.As("alice").Reply(ctx, in.ID)
	require.NoError(t, err)

	const changed = "reissued-1@desk.boutique.example"
	require.NoError(t, s.Update(ctx, func(tx emailflow.Tx) error {
		es, err := tx.EmailsOf(ctx, r.ID)
		if err != nil {
			return err
		}
		require.Len(t, es, 1)
		require.NotEqual(t, changed, es[0].MessageID)
		es[0].MessageID = changed
		return tx.PutEmail(ctx, es[0])
	}))
	sent, err := ws.As("alice").Send(ctx, r.ID, nil)
	require.NoError(t, err)
	require.Equal(t, changed, sent.Email.MessageID)

	answer := func(i int64, inReplyTo string) *interaction.Interaction {
		m := benchMail(raw, i)
		nl := "\n"
		if bytes.Contains(m, []byte("\r\n")) {
			nl = "\r\n"
		}
		m = bytes.Replace(m, []byte("MIME-Version:"), []byte("In-Reply-To: <"+inReplyTo+">"+nl+"MIME-Version:"), 1)
		m = bytes.Replace(m, []byte("Subject: =?UTF-8?Q?Commande_FR-2291_:_colis_non_re=C3=A7u?="), []byte("Subject: Merci"), 1)
		it, err := ws.Ingest(ctx, benchMailbox, bytes.NewReader(m))
		require.NoError(t, err)
		return it
	}
	assert.Equal(t, in.ThreadID, answer(2, changed).ThreadID, "the answer to the sent Message-ID threads")
	assert.NotEqual(t, in.ThreadID, answer(3, "unknown-1@desk.boutique.example").ThreadID, "control: an unknown Message-ID does not")
	var e *port.Email
	require.NoError(t, s.View(ctx, func(tx emailflow.Tx) error {
		e, err = tx.EmailByMessageID(ctx, changed)
		return err
	}))
	assert.Equal(t, r.Email.ID, e.ID)
}

// TestDuplicateEnqueueRefusesTheTransaction: Enqueue's insert rides with
// the transaction's next statement; an id taken refuses that statement
// (a read after it) or the commit, even when the caller goes on, and
// nothing of the transaction is stored.
func TestDuplicateEnqueueRefusesTheTransaction(t *testing.T) {
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	item := func(subject string) *emailflow.OutboxItem {
		return &emailflow.OutboxItem{ID: "o1", InteractionID: "a", MessageID: subject + "@desk", State: emailflow.OutboxPending,
			NextAttempt: at, CreatedAt: at, UpdatedAt: at, Raw: []byte(subject)}
	}
	tests := []struct {
		name     string
		thenRead bool
	}{
		{"then COMMIT", false},
		{"then a read", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			s := freshStore(t)
			require.NoError(t, s.Update(ctx, func(tx emailflow.Tx) error { return tx.Enqueue(ctx, item("first")) }))
			var readErr error
			err := s.Update(ctx, func(tx emailflow.Tx) error {
				if err := tx.CreateInteraction(ctx, offeredTo("b", "")); err != nil {
					return err
				}
				if err := tx.Enqueue(ctx, item("taken")); err != nil {
					return err
				}
				if tc.thenRead {
					_, readErr = tx.Interaction(ctx, "b")
				}
				return nil // the refusal, if seen, is ignored
			})
			assert.ErrorIs(t, err, emailflow.ErrConflict, "the transaction does not commit")
			if tc.thenRead {
				assert.ErrorIs(t, readErr, emailflow.ErrConflict, "the read the insert rode with is refused")
			}
			require.NoError(t, s.View(ctx, func(tx emailflow.Tx) error {
				o, err := tx.OutboxItem(ctx, "o1")
				require.NoError(t, err)
				assert.Equal(t, "first@desk", o.MessageID, "the first item stays")
				_, err = tx.Interaction(ctx, "b")
				assert.ErrorIs(t, err, emailflow.ErrNotFound, "nothing of the transaction is stored")
				return nil
			}))
		})
	}
}
