package postgres_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/contact"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/qa"
	"github.com/emailflow/emailflow/store/postgres"
	transport "github.com/emailflow/emailflow/transport/memory"
)

// Reply and Send read, build and write in one transaction. These tests
// make another instance change the same interaction between the action's
// reads and its write (from a hook the Workspace calls inside the
// transaction: the Directory for a signature's contact, the review
// policy), and check the action still ends right: its stale write is
// refused, it runs again on what changed, and nothing is kept twice.

// raceDesk is two instances (a pool, a Store and a Workspace each) on one
// schema, and ann, ready, with an inbound she accepted.
type raceDesk struct {
	ws      []*emailflow.Workspace
	store   *postgres.Store
	sender  *transport.Sender
	inbound string
}

// newRaceDesk starts the instances with options o; dir, when not nil,
// makes each instance's Directory from its Store.
func newRaceDesk(t *testing.T, o *emailflow.Options, dir func(*postgres.Store) emailflow.Directory) *raceDesk {
	t.Helper()
	schema := freshSchema(t)
	d := &raceDesk{sender: &transport.Sender{}}
	for range 2 {
		pool, err := connect(t.Context(), 4)
		require.NoError(t, err)
		t.Cleanup(pool.Close)
		s, err := postgres.New(t.Context(), pool, &postgres.Options{Schema: schema})
		require.NoError(t, err)
		ports := emailflow.Ports{Store: s, Sender: d.sender}
		if dir != nil {
			ports.Directory = dir(s)
		}
		ws, err := emailflow.New(ports, o)
		require.NoError(t, err)
		if d.store == nil {
			d.store = s
		}
		d.ws = append(d.ws, ws)
	}
	ctx := t.Context()
	require.NoError(t, d.ws[0].PutAgent(ctx, emailflow.Agent{ID: "ann", Name: "Ann", Queues: []string{"support-fr"}, Capacity: 5}))
	require.NoError(t, d.ws[0].As("ann").SetStatus(ctx, emailflow.StatusReady))
	it, err := d.ws[0].Ingest(ctx, benchMailbox, bytes.NewReader(benchOrder(t)))
	require.NoError(t, err)
	require.Equal(t, "ann", it.OfferedTo)
	_, err = d.ws[1].As("ann").Accept(ctx, it.ID)
	require.NoError(t, err)
	d.inbound = it.ID
	return d
}

// countEventsOfType counts the events of type typ in the schema.
func countEventsOfType(t *testing.T, s *postgres.Store, typ emailflow.EventType) int {
	t.Helper()
	n := 0
	require.NoError(t, s.View(t.Context(), func(tx emailflow.Tx) error {
		evs, err := tx.Events(t.Context(), 0, 0)
		for _, e := range evs {
			if e.Type == typ {
				n++
			}
		}
		return err
	}))
	return n
}

// historyCount counts the entries of it's history with action.
func historyCount(it *interaction.Interaction, action string) int {
	n := 0
	for _, h := range it.History {
		if h.Action == action {
			n++
		}
	}
	return n
}

// racingDirectory is a Store as Directory, but not the Workspace's Store
// itself, so that a signature's contact is asked of it inside Reply's
// transaction, after the inbound was read and before it is written:
// race, once armed, runs there first.
type racingDirectory struct {
	*postgres.Store
	mu    sync.Mutex
	race  func()
	calls int
}

func (d *racingDirectory) Contact(ctx context.Context, id string) (contact.Contact, error) {
	d.mu.Lock()
	d.calls++
	race := d.race
	d.race = nil
	d.mu.Unlock()
	if race != nil {
		race()
	}
	return d.Store.Contact(ctx, id)
}

// TestReplyRacesAChangeFromAnotherInstance: while Reply builds its draft
// on one instance, the other changes the inbound and commits. Reply's
// write of the inbound is stale: a note added meanwhile makes it build
// the draft again and store it once, the note kept; the inbound marked
// done meanwhile makes it refuse with ErrInvalidTransition, as before,
// with no draft kept.
func TestReplyRacesAChangeFromAnotherInstance(t *testing.T) {
	sigs := &compose.Signatures{}
	sigs.SetAgent("ann", compose.Signature{Text: "{{agent.name}}"})
	tests := []struct {
		name    string
		change  func(ctx context.Context, other *emailflow.Actor, id string) error
		wantErr error
		drafts  int
		builds  int // the signature's contact asked, once per try that got that far
		last    string
	}{
		{"note added", func(ctx context.Context, other *emailflow.Actor, id string) error {
			return other.AddNote(ctx, id, "rappelée entre-temps")
		}, nil, 1, 2, string(interaction.PurposeReply)},
		{"marked done", func(ctx context.Context, other *emailflow.Actor, id string) error {
			return other.MarkDone(ctx, id)
		}, emailflow.ErrInvalidTransition, 0, 1, string(interaction.EventComplete)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			o := benchOptions()
			o.Signatures = sigs
			var dirs []*racingDirectory
			d := newRaceDesk(t, o, func(s *postgres.Store) emailflow.Directory {
				r := &racingDirectory{Store: s}
				dirs = append(dirs, r)
				return r
			})
			var changeErr error
			dirs[0].race = func() { changeErr = tt.change(ctx, d.ws[1].As("ann"), d.inbound) }

			draft, err := d.ws[0].As("ann").Reply(ctx, d.inbound)
			require.NoError(t, changeErr, "the other instance's change")
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
				assert.Nil(t, draft)
			} else {
				require.NoError(t, err)
				assert.Contains(t, draft.Email.Text, "\n-- \nAnn\n", "signed")
			}
			assert.Equal(t, tt.builds, dirs[0].calls, "tries that built the draft")

			inbound, err := d.ws[1].As("ann").Interaction(ctx, d.inbound)
			require.NoError(t, err)
			assert.Equal(t, tt.last, inbound.History[len(inbound.History)-1].Action)
			assert.Equal(t, tt.drafts, historyCount(inbound, string(interaction.PurposeReply)), "replies recorded on the inbound")
			if tt.drafts == 1 {
				assert.Equal(t, draft.ID, inbound.History[len(inbound.History)-1].Detail)
				require.Len(t, inbound.Notes, 1, "the change kept")
			}
			drafts, err := d.ws[1].As("ann").Interactions(ctx, emailflow.Query{ThreadID: inbound.ThreadID, Kind: interaction.KindOutbound})
			require.NoError(t, err)
			assert.Len(t, drafts, tt.drafts, "drafts stored")
			assert.Equal(t, tt.drafts, countEventsOfType(t, d.store, emailflow.EventDraft), "draft events")
		})
	}
}

// racingPolicy is a review policy whose Decide, called inside Send's
// transaction after the draft and its email were read and before they are
// written, runs race first, once armed.
type racingPolicy struct {
	verdict qa.Verdict
	mu      sync.Mutex
	race    func()
	calls   int
}

func (p *racingPolicy) Decide(qa.Submission) qa.Verdict {
	p.mu.Lock()
	p.calls++
	race := p.race
	p.race = nil
	p.mu.Unlock()
	if race != nil {
		race()
	}
	return p.verdict
}

// TestSendRacesAChangeFromAnotherInstance: while Send renders a draft on
// one instance, the other changes it and commits. An edit meanwhile makes
// Send's write stale: it runs again and sends the edited version, once
// (or, under review, freezes the edited version in one round). A Send of
// the same draft from the other instance, which read the draft before
// this one committed and then waited for the agent's lock, is refused
// with ErrInvalidTransition, as before: one outbox item, one delivery.
func TestSendRacesAChangeFromAnotherInstance(t *testing.T) {
	const edited = "Re: colis retrouvé"
	tests := []struct {
		name    string
		verdict qa.Verdict
		// race runs inside the first Send's transaction; it returns what
		// the test waits for once that Send returned.
		race      func(t *testing.T, ctx context.Context, d *raceDesk, draft *emailflow.Draft) (wait func() error)
		delivery  emailflow.DeliveryState
		subject   string
		sent      int // messages the Sender took, outbox and sent events
		reviews   int
		otherFail error
	}{
		{"edited", qa.Skip, edit(edited), emailflow.DeliverySent, edited, 1, 0, nil},
		{"edited, under review", qa.Review, edit(edited), emailflow.DeliveryInReview, edited, 0, 1, nil},
		{"sent from the other instance", qa.Skip, func(t *testing.T, ctx context.Context, d *raceDesk, draft *emailflow.Draft) func() error {
			done := make(chan error, 1)
			go func() {
				_, err := d.ws[1].As("ann").Send(ctx, draft.ID, nil)
				done <- err
			}()
			// It read the draft, and waits for ann's row, which this Send
			// holds until it commits.
			waitForLock(t, d.store, "agents WHERE id = $1 FOR UPDATE")
			return func() error { return <-done }
		}, emailflow.DeliverySent, "", 1, 0, emailflow.ErrInvalidTransition},
		// The inbound the reply answers changes while Send writes it: a
		// note, written by another transaction (which takes no agent lock:
		// Send holds ann's) that keeps the inbound's row until Send's write
		// of it waits for the row, then commits. That write, checked with
		// the statements after it, is refused, and Send runs again.
		{"inbound noted", qa.Skip, func(t *testing.T, ctx context.Context, d *raceDesk, draft *emailflow.Draft) func() error {
			held, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
			go func() {
				done <- d.store.Update(ctx, func(tx emailflow.Tx) error {
					in, err := tx.Interaction(ctx, d.inbound)
					if err != nil {
						return err
					}
					in.Notes = append(in.Notes, interaction.Note{Author: "bob", At: time.Now().UTC(), Text: "Client rappelé : colis retrouvé au dépôt."})
					if err := tx.UpdateInteraction(ctx, in); err != nil {
						return err
					}
					close(held)
					<-release
					return nil
				})
			}()
			select {
			case <-held:
			case err := <-done:
				t.Fatalf("the note was not written: %v", err)
			}
			go func() {
				defer close(release)
				for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
					var n int
					err := sharedPool(t).QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
						WHERE wait_event_type = 'Lock' AND position($1 in query) > 0 AND position('UPDATE' in query) > 0`, d.store.Schema()).Scan(&n)
					if err != nil || n > 0 {
						return
					}
				}
			}()
			return func() error { return <-done }
		}, emailflow.DeliverySent, "", 1, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			policy := &racingPolicy{verdict: tt.verdict}
			o := benchOptions()
			o.ReviewPolicy = policy
			d := newRaceDesk(t, o, nil)
			draft, err := d.ws[0].As("ann").Reply(ctx, d.inbound)
			require.NoError(t, err)
			subject := tt.subject
			if subject == "" {
				subject = draft.Email.Subject
			}
			var wait func() error
			policy.race = func() { wait = tt.race(t, ctx, d, draft) }

			sent, err := d.ws[0].As("ann").Send(ctx, draft.ID, nil)
			require.NoError(t, err)
			require.NotNil(t, wait, "the race ran inside Send's transaction")
			otherErr := wait()
			if tt.otherFail != nil {
				assert.ErrorIs(t, otherErr, tt.otherFail, "the other instance's Send")
			} else {
				require.NoError(t, otherErr, "the other instance's change")
			}
			assert.Equal(t, tt.delivery, sent.Delivery.State)
			assert.Equal(t, subject, sent.Email.Subject, "the version sent")

			got, err := d.ws[1].As("ann").Interaction(ctx, draft.ID)
			require.NoError(t, err)
			assert.Len(t, d.sender.Sent(), tt.sent, "messages delivered")
			for _, m := range d.sender.Sent() {
				assert.Contains(t, string(m.Raw), "Message-ID: <"+sent.Email.MessageID+">")
			}
			assert.Equal(t, tt.sent, historyCount(got, string(interaction.EventSend)), "sends in the history")
			assert.Equal(t, tt.sent, countEventsOfType(t, d.store, emailflow.EventOutbox), "outbox items queued")
			assert.Equal(t, tt.sent, countEventsOfType(t, d.store, emailflow.EventSent), "sent events")
			assert.Equal(t, tt.reviews, countEventsOfType(t, d.store, emailflow.EventSubmitted), "reviews")
			in, err := d.ws[1].As("ann").Interaction(ctx, d.inbound)
			require.NoError(t, err)
			if tt.reviews == 0 {
				assert.Equal(t, interaction.StateDone, in.State, "the reply completed the inbound")
				assert.Equal(t, 1, historyCount(in, "sent"), "the reply recorded on the inbound once")
			}
			if tt.name == "inbound noted" {
				policy.mu.Lock()
				assert.Equal(t, 2, policy.calls, "Send's write of the inbound was refused, and Send ran again")
				policy.mu.Unlock()
				require.Len(t, in.Notes, 1, "the note kept")
				assert.Contains(t, in.Notes[0].Text, "colis retrouvé")
			}
			require.Len(t, got.Rounds, tt.reviews)
			if tt.reviews == 1 {
				assert.Equal(t, interaction.StateInReview, got.State)
				now, err := d.ws[1].As("ann").Draft(ctx, draft.ID)
				require.NoError(t, err)
				require.Equal(t, edited, now.Email.Subject)
				assert.Equal(t, contentHash(now.Email), got.Rounds[0].SubmittedHash, "the edited version is the one reviewed")
				assert.NotEqual(t, contentHash(draft.Email), got.Rounds[0].SubmittedHash, "not the version first read")
			}
		})
	}
}

// edit is a race that edits the draft from the other instance, to
// subject, and commits before the Send that runs it writes.
func edit(subject string) func(t *testing.T, ctx context.Context, d *raceDesk, draft *emailflow.Draft) func() error {
	return func(t *testing.T, ctx context.Context, d *raceDesk, draft *emailflow.Draft) func() error {
		_, err := d.ws[1].As("ann").ReplaceDraft(ctx, draft.ID, emailflow.DraftContent{
			To: draft.Email.To, Subject: subject, Text: strings.Repeat("Bonne nouvelle. ", 3),
		})
		return func() error { return err }
	}
}

// contentHash is the hash a review round keeps of e's content.
func contentHash(e *emailflow.Email) string {
	c := qa.Content{
		From: e.From, To: e.To, Cc: e.Cc, Bcc: e.Bcc, ReplyTo: e.ReplyTo,
		Subject: e.Subject, Text: e.Text, HTML: e.HTML, InReplyTo: e.InReplyTo, References: e.References,
	}
	for _, a := range e.Attachments {
		c.Attachments = append(c.Attachments, qa.Digest(a.Filename, a.ContentType, a.ContentID, a.Inline, a.Data))
	}
	return qa.Hash(c)
}
