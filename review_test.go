package emailflow_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/mail"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/qa"
)

// reviewer registers a ready reviewer serving the review queue.
func (f *fixture) reviewer(t testing.TB, id string, roles ...emailflow.Role) {
	t.Helper()
	ctx := context.Background()
	if len(roles) == 0 {
		roles = []emailflow.Role{emailflow.RoleReviewer}
	}
	require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: id, Name: id, Queues: []string{"review"}, Capacity: 1000, Roles: roles}))
	require.NoError(t, f.ws.As(id).SetStatus(ctx, emailflow.StatusReady))
}

// reviewOf returns the id of the pending review of outbound id.
func (f *fixture) reviewOf(t testing.TB, id string) string {
	t.Helper()
	rounds, err := f.ws.As(admin).Rounds(context.Background(), id)
	require.NoError(t, err)
	require.NotEmpty(t, rounds)
	r := rounds[len(rounds)-1]
	require.Equal(t, qa.Pending, r.Decision)
	return r.ReviewID
}

// submitted has alice reply to the French email, write text and send it
// under a review-everything policy; it returns the inbound, the outbound
// and its review.
func (f *fixture) submitted(t testing.TB, text string) (inbound, outbound, review string) {
	t.Helper()
	ctx := context.Background()
	inbound = f.handled(t, "alice")
	r, err := f.ws.As("alice").Reply(ctx, inbound)
	require.NoError(t, err)
	setText(t, f, "alice", r.ID, text)
	o, err := f.ws.As("alice").Send(ctx, r.ID, nil)
	require.NoError(t, err)
	require.Equal(t, interaction.StateInReview, o.State)
	return inbound, r.ID, f.reviewOf(t, r.ID)
}

func setText(t testing.TB, f *fixture, agent, id, text string) {
	t.Helper()
	_, err := f.ws.As(agent).EditDraft(context.Background(), id, emailflow.DraftPatch{Text: &text, HTML: new("")})
	require.NoError(t, err)
}

func reviewAll() *emailflow.Options { return &emailflow.Options{ReviewPolicy: qa.All()} }

func qaStatus(t testing.TB, f *fixture, id string) interaction.Field {
	t.Helper()
	data, err := f.ws.As(admin).CaseData(context.Background(), id)
	require.NoError(t, err)
	fd, ok := data.Field(emailflow.CaseQAStatus)
	require.True(t, ok, "%s has a QA status", id)
	return fd
}

// TestReviewScenario: customer email → agent reply → reject with remarks →
// agent edits → approve → exactly one message, the approved version, with
// the right threading headers.
func TestReviewScenario(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{ReviewPolicy: qa.All(), RejectReasons: []string{"ton", "exactitude"}})
	f.agent(t, "alice")
	f.reviewer(t, "rita")
	inbound, out, review := f.submitted(t, "Votre colis arrive.")

	assert.Empty(t, f.sender.Sent(), "nothing is sent before approval")
	rv, err := f.ws.As(admin).Interaction(ctx, review)
	require.NoError(t, err)
	assert.Equal(t, interaction.KindReview, rv.Kind)
	assert.Equal(t, out, rv.ParentID)
	assert.Equal(t, "review", rv.Queue)
	assert.Equal(t, interaction.StateOffered, rv.State)
	assert.Equal(t, "rita", rv.OfferedTo, "routed to the ready reviewer")
	o, err := f.ws.As(admin).Interaction(ctx, out)
	require.NoError(t, err)
	assert.Equal(t, rv.ThreadID, o.ThreadID)
	assert.Equal(t, interaction.Field{Key: emailflow.CaseQAStatus, Value: qa.StatusInReview, ReadOnly: true}, qaStatus(t, f, out))

	// Round 1: rejected with remarks.
	_, err = f.ws.As("rita").Accept(ctx, review)
	require.NoError(t, err)
	item, err := f.ws.As("rita").Review(ctx, review)
	require.NoError(t, err)
	assert.Equal(t, "Votre colis arrive.", item.Email.Text)
	assert.Equal(t, 1, item.Round.Number)
	f.clock.Advance(10 * time.Minute)
	o, err = f.ws.As("rita").Reject(ctx, review, "exactitude", "Donnez le numéro de suivi et la date de livraison.")
	require.NoError(t, err)
	assert.Equal(t, interaction.StateRejected, o.State)
	assert.Equal(t, "alice", o.Owner, "back with its author")
	require.NotEmpty(t, o.Notes)
	assert.Contains(t, o.Notes[len(o.Notes)-1].Text, "Donnez le numéro de suivi")
	assert.Equal(t, "rita", o.Notes[len(o.Notes)-1].Author)
	for _, id := range []string{out, inbound} {
		assert.Equal(t, interaction.Field{Key: emailflow.CaseQAStatus, Value: qa.StatusRejected, ReadOnly: true}, qaStatus(t, f, id))
	}
	rv, err = f.ws.As(admin).Interaction(ctx, review)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateDone, rv.State)
	assert.Empty(t, f.sender.Sent())

	// The author edits (allowed in rejected) and sends again: round 2.
	const final = "Votre colis (suivi 6A123) sera livré jeudi."
	setText(t, f, "alice", out, final)
	o, err = interactionOf(f.ws.As("alice").Send(ctx, out, nil))
	require.NoError(t, err)
	assert.Equal(t, interaction.StateInReview, o.State)
	review2 := f.reviewOf(t, out)
	assert.NotEqual(t, review, review2)
	_, err = f.ws.As("rita").Accept(ctx, review2)
	require.NoError(t, err)
	f.clock.Advance(5 * time.Minute)
	approved, err := f.ws.As("rita").Approve(ctx, review2)
	require.NoError(t, err)
	assert.Equal(t, emailflow.DeliverySent, approved.Delivery.State, "Approve tells the delivery as Send does")
	assert.Equal(t, f.sender.Sent()[len(f.sender.Sent())-1].Raw, approved.Email.Raw, "exactly the bytes sent")
	o = approved.Interaction
	require.NoError(t, err)
	assert.Equal(t, interaction.StateSent, o.State)
	for _, id := range []string{out, inbound} {
		assert.Equal(t, qa.StatusApproved, qaStatus(t, f, id).Value)
	}

	sent := f.sender.Sent()
	require.Len(t, sent, 1, "exactly one message")
	assert.Equal(t, []string{"helene.dupre@exemple.fr"}, sent[0].To)
	msg, err := compose.Parse(bytes.NewReader(sent[0].Raw), nil)
	require.NoError(t, err)
	assert.Contains(t, msg.Text, final, "the approved version")
	assert.NotContains(t, msg.Text, "Votre colis arrive.")
	assert.Equal(t, []string{"CAF3x9-helene-2291@mail.exemple.fr"}, msg.InReplyTo)
	assert.Contains(t, msg.References, "CAF3x9-helene-2291@mail.exemple.fr")
	assert.Equal(t, "Re: Commande FR-2291 : colis non reçu", msg.Subject)

	rounds, err := f.ws.As(admin).Rounds(ctx, out)
	require.NoError(t, err)
	require.Len(t, rounds, 2)
	assert.Equal(t, []qa.Decision{qa.Rejected, qa.Approved}, []qa.Decision{rounds[0].Decision, rounds[1].Decision})
	assert.Equal(t, "exactitude", rounds[0].Reason)
	assert.Equal(t, "rita", rounds[0].Reviewer)
	assert.Equal(t, "alice", rounds[1].Author)
	assert.Equal(t, 10*time.Minute, rounds[0].DecidedAt.Sub(rounds[0].SubmittedAt))
	assert.NotEqual(t, rounds[0].Hash, rounds[1].Hash)
	assert.Equal(t, rounds[1].SubmittedHash, rounds[1].Hash, "approved as submitted")
}

func TestReviewEditThenApprove(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, reviewAll())
	f.agent(t, "alice")
	f.reviewer(t, "rita")
	_, out, review := f.submitted(t, "Bonjour, c'est en route")
	_, err := f.ws.As("rita").Accept(ctx, review)
	require.NoError(t, err)
	item, err := f.ws.As("rita").Review(ctx, review)
	require.NoError(t, err)
	e := item.Email
	edited := emailflow.DraftContent{To: e.To, Cc: e.Cc, Subject: e.Subject, Text: "Bonjour, votre colis est en route."}
	require.NoError(t, f.ws.As("rita").ReviewEdit(ctx, review, edited.Patch()))
	require.NoError(t, f.ws.As("rita").ReviewEdit(ctx, review, edited.Patch()), "the same content again records nothing")

	rounds, err := f.ws.As(admin).Rounds(ctx, out)
	require.NoError(t, err)
	require.Len(t, rounds, 1)
	require.Len(t, rounds[0].Edits, 1)
	ed := rounds[0].Edits[0]
	assert.Equal(t, "rita", ed.By)
	assert.Equal(t, "Bonjour, c'est en route", ed.Before.Text)
	assert.Equal(t, "Bonjour, votre colis est en route.", ed.After.Text)
	assert.Equal(t, qa.Hash(ed.After), rounds[0].Hash)
	assert.Equal(t, qa.Hash(ed.Before), rounds[0].SubmittedHash)

	_, err = f.ws.As("rita").Approve(ctx, review)
	require.NoError(t, err)
	sent := f.sender.Sent()
	require.Len(t, sent, 1)
	msg, err := compose.Parse(bytes.NewReader(sent[0].Raw), nil)
	require.NoError(t, err)
	assert.Contains(t, msg.Text, "Bonjour, votre colis est en route.", "the reviewer's version is sent")
	d, err := draftEmail(f.ws.As("alice").Draft(ctx, out))
	require.NoError(t, err)
	assert.Equal(t, "Bonjour, votre colis est en route.", d.Text, "the author sees what was sent")
	m, err := f.ws.Metrics(ctx, qa.Window{})
	require.NoError(t, err)
	assert.Equal(t, 1, m.Reviewers["rita"].Edited)
}

func TestWithdraw(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, reviewAll())
	f.agent(t, "alice")
	f.reviewer(t, "rita")
	inbound, out, review := f.submitted(t, "Premier jet")
	_, err := f.ws.As("rita").Accept(ctx, review)
	require.NoError(t, err)

	o, err := f.ws.As("alice").Withdraw(ctx, out)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateDraft, o.State)
	rv, err := f.ws.As(admin).Interaction(ctx, review)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateDone, rv.State, "the review is cancelled")
	assert.Equal(t, "cancel", rv.History[len(rv.History)-1].Action)
	_, err = f.ws.As("rita").Approve(ctx, review)
	assert.ErrorIs(t, err, emailflow.ErrInvalidTransition, "a withdrawn email cannot be approved")
	for _, id := range []string{out, inbound} {
		assert.Equal(t, qa.StatusWithdrawn, qaStatus(t, f, id).Value)
	}

	setText(t, f, "alice", out, "Second jet")
	o, err = interactionOf(f.ws.As("alice").Send(ctx, out, nil))
	require.NoError(t, err)
	assert.Equal(t, interaction.StateInReview, o.State)
	rounds, err := f.ws.As(admin).Rounds(ctx, out)
	require.NoError(t, err)
	require.Len(t, rounds, 2)
	assert.Equal(t, qa.Withdrawn, rounds[0].Decision)
	assert.Equal(t, qa.Pending, rounds[1].Decision)
	assert.Empty(t, f.sender.Sent())
}

// TestRejectedIsReviewedAgain: a rejection is lifted only by an approval,
// whatever the policy says now: an email reviewed on request, rejected,
// then sent without a request goes to review again, also after a
// withdrawal.
func TestRejectedIsReviewedAgain(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil) // default policy: on request only
	f.agent(t, "alice")
	f.reviewer(t, "rita")
	inbound := f.handled(t, "alice")
	r, err := f.ws.As("alice").Reply(ctx, inbound)
	require.NoError(t, err)
	o, err := f.ws.As("alice").Send(ctx, r.ID, &emailflow.SendOptions{RequestReview: true})
	require.NoError(t, err)
	require.Equal(t, interaction.StateInReview, o.State)
	review := f.reviewOf(t, r.ID)
	_, err = f.ws.As("rita").Accept(ctx, review)
	require.NoError(t, err)
	_, err = f.ws.As("rita").Reject(ctx, review, "tone", "Trop sec.")
	require.NoError(t, err)

	o, err = f.ws.As("alice").Send(ctx, r.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateInReview, o.State, "rejected: reviewed again without a request")
	_, err = f.ws.As("alice").Withdraw(ctx, r.ID)
	require.NoError(t, err)
	o, err = f.ws.As("alice").Send(ctx, r.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateInReview, o.State, "withdrawing does not lift the rejection")
	rounds, err := f.ws.As(admin).Rounds(ctx, r.ID)
	require.NoError(t, err)
	assert.Len(t, rounds, 3)
	assert.True(t, rounds[0].Requested)
	assert.False(t, rounds[2].Requested)
	assert.Empty(t, f.sender.Sent())
}

func TestReviewPolicyDecidesAtSend(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		policy  qa.Policy
		request bool
		roles   []emailflow.Role
		review  bool
	}{
		{"default policy, no request", nil, false, nil, false},
		{"default policy, on request", nil, true, nil, true},
		{"all", qa.All(), false, nil, true},
		{"none ignores a request", qa.None(), true, nil, false},
		{"by group, member", qa.ByGroup("new-hires"), false, nil, true},
		{"by group, other", qa.ByGroup("seniors"), false, nil, false},
		{"by queue", qa.ByQueue("support-fr"), false, nil, true},
		{"by other queue", qa.ByQueue("billing"), false, nil, false},
		{"sample 100%", qa.Sample(1), false, nil, true},
		{"sample 0%", qa.Sample(0), false, nil, false},
		{"supervisor exempt", qa.First(qa.Exempt("supervisor"), qa.All()), false, []emailflow.Role{emailflow.RoleSupervisor}, false},
		{"agent not exempt", qa.First(qa.Exempt("supervisor"), qa.All()), false, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, &emailflow.Options{ReviewPolicy: tt.policy})
			require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: "alice", Queues: []string{"support-fr"}, Capacity: 5, Groups: []string{"new-hires"}, Roles: tt.roles}))
			require.NoError(t, f.ws.As("alice").SetStatus(ctx, emailflow.StatusReady))
			inbound := f.handled(t, "alice")
			r, err := f.ws.As("alice").Reply(ctx, inbound)
			require.NoError(t, err)
			o, err := f.ws.As("alice").Send(ctx, r.ID, &emailflow.SendOptions{RequestReview: tt.request})
			require.NoError(t, err)
			if tt.review {
				assert.Equal(t, interaction.StateInReview, o.State)
				assert.Empty(t, f.sender.Sent())
				return
			}
			assert.Equal(t, interaction.StateSent, o.State)
			assert.Len(t, f.sender.Sent(), 1)
			assert.Empty(t, o.Rounds)
		})
	}
}

func TestReviewQueueNeedsReviewers(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, reviewAll())
	f.agent(t, "alice")
	// An agent without the reviewer role serving the review queue is never
	// offered a review, nor may they pull one.
	require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: "bob", Queues: []string{"review"}, Capacity: 5}))
	require.NoError(t, f.ws.As("bob").SetStatus(ctx, emailflow.StatusReady))
	_, _, review := f.submitted(t, "Texte")
	rv, err := f.ws.As(admin).Interaction(ctx, review)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateQueued, rv.State)
	_, err = f.ws.As("bob").Pull(ctx, "review")
	assert.ErrorIs(t, err, emailflow.ErrNotFound)

	// A reviewer becoming ready is offered it; one who pulls takes it.
	f.reviewer(t, "rita")
	rv, err = f.ws.As(admin).Interaction(ctx, review)
	require.NoError(t, err)
	assert.Equal(t, "rita", rv.OfferedTo)
	require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: "paul", Queues: []string{"review"}, Capacity: 5, Roles: []emailflow.Role{emailflow.RoleReviewer}}))
	require.NoError(t, f.ws.As("paul").SetStatus(ctx, emailflow.StatusNotReady))
	require.NoError(t, f.ws.As("rita").Decline(ctx, review, "busy"))
	rv, err = f.ws.As(admin).Interaction(ctx, review)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateQueued, rv.State, "declined: back in the review queue, waiting for paul, who has not declined it")
	got, err := f.ws.As("paul").Pull(ctx, "review")
	require.NoError(t, err)
	assert.Equal(t, review, got.ID)
	_, err = f.ws.As("paul").Approve(ctx, review)
	require.NoError(t, err)
	assert.Len(t, f.sender.Sent(), 1)
}

func TestReviewAcceptTimeoutRequeues(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{ReviewPolicy: qa.All(), AcceptTimeout: 10 * time.Second})
	f.agent(t, "alice")
	f.reviewer(t, "rita")
	f.reviewer(t, "paul")
	_, _, review := f.submitted(t, "Texte")
	rv, err := f.ws.As(admin).Interaction(ctx, review)
	require.NoError(t, err)
	first := rv.OfferedTo
	require.NotEmpty(t, first)
	f.clock.Advance(10 * time.Second)
	n, err := f.ws.Runner(nil).Tick(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	rv, err = f.ws.As(admin).Interaction(ctx, review)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateOffered, rv.State)
	assert.NotEqual(t, first, rv.OfferedTo, "offered to the other reviewer")
}

// TestFourEyes: an author who is also a reviewer is never offered their
// own email, cannot pull it, and cannot decide on it.
func TestFourEyes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, reviewAll())
	require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: "alice", Queues: []string{"support-fr", "review"}, Capacity: 5,
		Roles: []emailflow.Role{emailflow.RoleAgent, emailflow.RoleReviewer}}))
	require.NoError(t, f.ws.As("alice").SetStatus(ctx, emailflow.StatusReady))
	_, out, review := f.submitted(t, "Texte")
	rv, err := f.ws.As(admin).Interaction(ctx, review)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateQueued, rv.State, "not offered to its author")
	_, err = f.ws.As("alice").Pull(ctx, "review")
	assert.ErrorIs(t, err, emailflow.ErrNotFound, "nor pulled by them")
	for name, decide := range map[string]func() error{
		"approve": func() error { _, err := f.ws.As("alice").Approve(ctx, review); return err },
		"reject":  func() error { _, err := f.ws.As("alice").Reject(ctx, review, "tone", "x"); return err },
		"edit": func() error {
			return f.ws.As("alice").ReviewEdit(ctx, review, emailflow.DraftContent{To: []mail.Address{{Address: "a@b.example"}}, Text: "x"}.Patch())
		},
	} {
		err := decide()
		assert.ErrorIs(t, err, emailflow.ErrForbidden, name)
		assert.Contains(t, err.Error(), "four eyes", name)
	}
	o, err := f.ws.As(admin).Interaction(ctx, out)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateInReview, o.State)
}

// TestReviewRefusals: every refused QA action returns its sentinel and
// changes nothing (outbound, review, inbound, sent mail).
func TestReviewRefusals(t *testing.T) {
	ctx := context.Background()
	type ids struct{ inbound, out, review string }
	inReview := func(t *testing.T, f *fixture) ids {
		in, out, rv := f.submitted(t, "Texte")
		return ids{in, out, rv}
	}
	accepted := func(t *testing.T, f *fixture) ids {
		x := inReview(t, f)
		_, err := f.ws.As("rita").Accept(ctx, x.review)
		require.NoError(t, err)
		return x
	}
	decided := func(t *testing.T, f *fixture) ids {
		x := accepted(t, f)
		_, err := f.ws.As("rita").Reject(ctx, x.review, "tone", "Trop sec.")
		require.NoError(t, err)
		return x
	}
	to := []mail.Address{{Address: "helene.dupre@exemple.fr"}}
	tests := []struct {
		name   string
		setup  func(t *testing.T, f *fixture) ids
		action func(f *fixture, x ids) error
		want   error
	}{
		{"author sends while in review", inReview,
			func(f *fixture, x ids) error { _, err := f.ws.As("alice").Send(ctx, x.out, nil); return err }, emailflow.ErrInvalidTransition},
		{"author edits while in review", inReview,
			func(f *fixture, x ids) error {
				return errOf(f.ws.As("alice").ReplaceDraft(ctx, x.out, emailflow.DraftContent{To: to, Text: "changed"}))
			}, emailflow.ErrInvalidTransition},
		{"author attaches while in review", inReview,
			func(f *fixture, x ids) error {
				_, err := f.ws.As("alice").AddAttachment(ctx, x.out, emailflow.NewAttachment{Filename: "a.txt", ContentType: "text/plain", Body: bytes.NewReader([]byte("x"))})
				return err
			}, emailflow.ErrInvalidTransition},
		{"approve before accepting", inReview,
			func(f *fixture, x ids) error { _, err := f.ws.As("rita").Approve(ctx, x.review); return err }, emailflow.ErrInvalidTransition},
		{"approve without the review privilege", accepted,
			func(f *fixture, x ids) error { _, err := f.ws.As("bob").Approve(ctx, x.review); return err }, emailflow.ErrForbidden},
		{"reject without the review privilege", accepted,
			func(f *fixture, x ids) error { _, err := f.ws.As("bob").Reject(ctx, x.review, "tone", "x"); return err }, emailflow.ErrForbidden},
		{"edit without the review privilege", accepted,
			func(f *fixture, x ids) error {
				return f.ws.As("bob").ReviewEdit(ctx, x.review, emailflow.DraftContent{To: to, Text: "x"}.Patch())
			}, emailflow.ErrForbidden},
		{"approve another reviewer's review", accepted,
			func(f *fixture, x ids) error { _, err := f.ws.As("paul").Approve(ctx, x.review); return err }, emailflow.ErrForbidden},
		{"reject with a reason not in the list", accepted,
			func(f *fixture, x ids) error {
				_, err := f.ws.As("rita").Reject(ctx, x.review, "mood", "x")
				return err
			}, emailflow.ErrInvalidInput},
		{"reject without remarks", accepted,
			func(f *fixture, x ids) error {
				_, err := f.ws.As("rita").Reject(ctx, x.review, "tone", "  ")
				return err
			}, emailflow.ErrInvalidInput},
		{"reviewer edit with header injection", accepted,
			func(f *fixture, x ids) error {
				return f.ws.As("rita").ReviewEdit(ctx, x.review, emailflow.DraftContent{To: to, Subject: "a\r\nBcc: v@x.example"}.Patch())
			}, emailflow.ErrInvalidInput},
		{"reviewer edit without recipients", accepted,
			func(f *fixture, x ids) error {
				return f.ws.As("rita").ReviewEdit(ctx, x.review, emailflow.DraftContent{Text: "x"}.Patch())
			}, emailflow.ErrInvalidInput},
		{"approve an inbound", accepted,
			func(f *fixture, x ids) error { _, err := f.ws.As("rita").Approve(ctx, x.inbound); return err }, emailflow.ErrInvalidInput},
		{"approve an unknown review", accepted,
			func(f *fixture, x ids) error { _, err := f.ws.As("rita").Approve(ctx, "nope"); return err }, emailflow.ErrNotFound},
		{"approve twice", decided,
			func(f *fixture, x ids) error { _, err := f.ws.As("rita").Approve(ctx, x.review); return err }, emailflow.ErrInvalidTransition},
		{"reject a decided round", decided,
			func(f *fixture, x ids) error {
				_, err := f.ws.As("rita").Reject(ctx, x.review, "tone", "x")
				return err
			}, emailflow.ErrInvalidTransition},
		{"edit a decided round", decided,
			func(f *fixture, x ids) error {
				return f.ws.As("rita").ReviewEdit(ctx, x.review, emailflow.DraftContent{To: to, Text: "x"}.Patch())
			}, emailflow.ErrInvalidTransition},
		{"withdraw by another agent", inReview,
			func(f *fixture, x ids) error { _, err := f.ws.As("bob").Withdraw(ctx, x.out); return err }, emailflow.ErrForbidden},
		{"withdraw a rejected email", decided,
			func(f *fixture, x ids) error { _, err := f.ws.As("alice").Withdraw(ctx, x.out); return err }, emailflow.ErrInvalidTransition},
		{"agent edits the QA status", decided,
			func(f *fixture, x ids) error {
				return f.ws.As("alice").SetCaseData(ctx, x.inbound, emailflow.CaseQAStatus, qa.StatusApproved)
			}, emailflow.ErrForbidden},
		{"mark a review done without a decision", accepted,
			func(f *fixture, x ids) error { return f.ws.As("rita").MarkDone(ctx, x.review) }, emailflow.ErrInvalidTransition},
		{"rounds of an inbound", inReview,
			func(f *fixture, x ids) error { _, err := f.ws.As(admin).Rounds(ctx, x.inbound); return err }, emailflow.ErrInvalidInput},
		{"review seen by a non-reviewer", inReview,
			func(f *fixture, x ids) error { _, err := f.ws.As("bob").Review(ctx, x.review); return err }, emailflow.ErrForbidden},
		{"approve content changed behind the review", func(t *testing.T, f *fixture) ids {
			x := accepted(t, f)
			// A writer bypassing the Workspace changes the frozen email.
			require.NoError(t, f.store.Update(ctx, func(tx emailflow.Tx) error {
				emails, err := tx.EmailsOf(ctx, x.out)
				if err != nil {
					return err
				}
				e := emails[len(emails)-1]
				e.Text = "tampered"
				return tx.PutEmail(ctx, e)
			}))
			return x
		}, func(f *fixture, x ids) error { _, err := f.ws.As("rita").Approve(ctx, x.review); return err }, emailflow.ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, reviewAll())
			f.agent(t, "alice")
			f.agent(t, "bob")
			f.reviewer(t, "rita")
			require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: "paul", Queues: []string{"review"}, Roles: []emailflow.Role{emailflow.RoleReviewer}}))
			x := tt.setup(t, f)
			before := []string{snapshot(t, f, x.out), snapshot(t, f, x.review), snapshot(t, f, x.inbound)}
			sentBefore := len(f.sender.Sent())
			err := tt.action(f, x)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.want)
			assert.NotEmpty(t, err.Error())
			assert.Equal(t, before, []string{snapshot(t, f, x.out), snapshot(t, f, x.review), snapshot(t, f, x.inbound)}, "a refused action changes nothing")
			assert.Equal(t, sentBefore, len(f.sender.Sent()))
		})
	}
}

// TestApproveRejectRace: many rounds of an approval and a rejection of the
// same round racing from two goroutines: exactly one wins, the loser gets
// ErrInvalidTransition, and exactly the approved emails are sent.
func TestApproveRejectRace(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, reviewAll())
	require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: "alice", Queues: []string{"support-fr"}, Capacity: 1000}))
	require.NoError(t, f.ws.As("alice").SetStatus(ctx, emailflow.StatusReady))
	f.reviewer(t, "rita")
	approved := 0
	for round := 0; round < 100; round++ {
		raw := bytes.Replace(readFile(t, "testdata/french-order.eml"), []byte("CAF3x9-helene-2291"), []byte(fmt.Sprintf("race-%d", round)), 1)
		in := f.ingest(t, raw)
		_, err := f.ws.As("alice").Accept(ctx, in)
		require.NoError(t, err)
		r, err := f.ws.As("alice").Reply(ctx, in)
		require.NoError(t, err)
		_, err = f.ws.As("alice").Send(ctx, r.ID, nil)
		require.NoError(t, err)
		review := f.reviewOf(t, r.ID)
		_, err = f.ws.As("rita").Accept(ctx, review)
		require.NoError(t, err)

		var wg sync.WaitGroup
		var errApprove, errReject error
		wg.Add(2)
		go func() { defer wg.Done(); _, errApprove = f.ws.As("rita").Approve(ctx, review) }()
		go func() { defer wg.Done(); _, errReject = f.ws.As("rita").Reject(ctx, review, "tone", "Non.") }()
		wg.Wait()
		require.True(t, (errApprove == nil) != (errReject == nil), "round %d: exactly one wins (approve %v, reject %v)", round, errApprove, errReject)
		loser := errors.Join(errApprove, errReject)
		assert.ErrorIs(t, loser, emailflow.ErrInvalidTransition)

		rounds, err := f.ws.As(admin).Rounds(ctx, r.ID)
		require.NoError(t, err)
		require.Len(t, rounds, 1)
		o, err := f.ws.As(admin).Interaction(ctx, r.ID)
		require.NoError(t, err)
		if errApprove == nil {
			approved++
			assert.Equal(t, qa.Approved, rounds[0].Decision)
			assert.Equal(t, interaction.StateSent, o.State)
		} else {
			assert.Equal(t, qa.Rejected, rounds[0].Decision)
			assert.Equal(t, interaction.StateRejected, o.State)
		}
		decisions := 0
		for _, h := range o.History {
			if h.Action == "approve" || h.Action == "reject" {
				decisions++
			}
		}
		assert.Equal(t, 1, decisions)
		require.Len(t, f.sender.Sent(), approved, "round %d: only approved emails are sent", round)
	}
	t.Logf("approve won %d of 100 races", approved)
}

func TestReviewMetrics(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, reviewAll())
	require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: "alice", Queues: []string{"support-fr"}, Capacity: 100}))
	require.NoError(t, f.ws.As("alice").SetStatus(ctx, emailflow.StatusReady))
	f.reviewer(t, "rita")
	send := func(n int) string {
		in := f.ingest(t, newMail(fmt.Sprintf("metrics-%d", n)))
		_, err := f.ws.As("alice").Accept(ctx, in)
		require.NoError(t, err)
		r, err := f.ws.As("alice").Reply(ctx, in)
		require.NoError(t, err)
		_, err = f.ws.As("alice").Send(ctx, r.ID, nil)
		require.NoError(t, err)
		return r.ID
	}
	decide := func(out string, wait time.Duration, reason string) {
		review := f.reviewOf(t, out)
		_, err := f.ws.As("rita").Accept(ctx, review)
		require.NoError(t, err)
		f.clock.Advance(wait)
		if reason == "" {
			_, err = f.ws.As("rita").Approve(ctx, review)
		} else {
			_, err = f.ws.As("rita").Reject(ctx, review, reason, "À revoir.")
		}
		require.NoError(t, err)
	}
	// Email 1: rejected once, then approved; email 2: approved at once.
	e1 := send(1)
	decide(e1, 4*time.Minute, "tone")
	_, err := f.ws.As("alice").Send(ctx, e1, nil)
	require.NoError(t, err)
	decide(e1, 2*time.Minute, "")
	e2 := send(2)
	decide(e2, 6*time.Minute, "")

	m, err := f.ws.Metrics(ctx, qa.Window{})
	require.NoError(t, err)
	a := m.Agents["alice"]
	assert.Equal(t, 2, a.Emails)
	assert.Equal(t, 3, a.Rounds)
	assert.InDelta(t, 1.5, a.RoundsPerEmail, 1e-9)
	assert.InDelta(t, 2.0/3, a.ApprovalRate, 1e-9)
	assert.Equal(t, map[string]int{"tone": 1}, a.Reasons)
	assert.Equal(t, 4*time.Minute, a.MeanTimeInReview)
	assert.Equal(t, 6*time.Minute, a.MaxTimeInReview)
	assert.Equal(t, m.Agents["alice"].Rounds, m.Reviewers["rita"].Rounds)
	assert.Equal(t, []string{"rita"}, m.ReviewerIDs())

	since, err := f.ws.Metrics(ctx, qa.Window{From: f.clock.Now().Add(-6 * time.Minute)})
	require.NoError(t, err)
	assert.Equal(t, 1, since.Total.Rounds, "the window selects by submission time")
}

// TestWithdrawCancelsTheReviewWherever: withdrawing takes the review off
// the queue, off the reviewer's offers or off their desk, and frees them.
func TestWithdrawCancelsTheReviewWherever(t *testing.T) {
	ctx := context.Background()
	for _, where := range []interaction.State{interaction.StateQueued, interaction.StateOffered, interaction.StateHandling} {
		t.Run(string(where), func(t *testing.T) {
			f := newFixture(t, reviewAll())
			f.agent(t, "alice")
			if where != interaction.StateQueued {
				f.reviewer(t, "rita")
			}
			_, out, review := f.submitted(t, "Texte")
			if where == interaction.StateHandling {
				_, err := f.ws.As("rita").Accept(ctx, review)
				require.NoError(t, err)
			}
			rv, err := f.ws.As(admin).Interaction(ctx, review)
			require.NoError(t, err)
			require.Equal(t, where, rv.State)

			_, err = f.ws.As("alice").Withdraw(ctx, out)
			require.NoError(t, err)
			rv, err = f.ws.As(admin).Interaction(ctx, review)
			require.NoError(t, err)
			assert.Equal(t, interaction.StateDone, rv.State)
			assert.Empty(t, rv.OfferedTo)
			mine, err := f.ws.As(admin).Interactions(ctx, emailflow.Query{Kind: interaction.KindReview, States: []interaction.State{interaction.StateOffered, interaction.StateHandling}})
			require.NoError(t, err)
			assert.Empty(t, mine, "nothing left on a reviewer's desk")
			_, err = f.ws.As("alice").Withdraw(ctx, out)
			assert.ErrorIs(t, err, emailflow.ErrInvalidTransition, "a draft cannot be withdrawn")
		})
	}
}

// TestReviewEvents: the cycle's events reach subscribers, after commit,
// with the author as the agent concerned.
func TestReviewEvents(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, reviewAll())
	f.agent(t, "alice")
	f.reviewer(t, "rita")
	sub := f.ws.Subscribe(ctx, nil)
	defer sub.Close()
	_, out, review := f.submitted(t, "Texte")
	_, err := f.ws.As("rita").Accept(ctx, review)
	require.NoError(t, err)
	_, err = f.ws.As("rita").Reject(ctx, review, "tone", "Non.")
	require.NoError(t, err)
	var got []string
	for len(sub.C) > 0 {
		e := <-sub.C
		if e.InteractionID == out || e.InteractionID == review {
			got = append(got, string(e.Type)+":"+e.Agent)
		}
	}
	assert.Subset(t, got, []string{"submitted:alice", "queued:", "offered:rita", "accepted:rita", "rejected:alice", "done:rita"})
}

// TestApprovalCompletesTheInbound: with CompleteOnReply an approved reply
// closes the inbound as Send would; a required disposition is checked at
// submission, not left to fail the reviewer's approval.
func TestApprovalCompletesTheInbound(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{ReviewPolicy: qa.All(), CompleteOnReply: true, DispositionRequired: true})
	f.agent(t, "alice")
	f.reviewer(t, "rita")
	inbound := f.handled(t, "alice")
	r, err := f.ws.As("alice").Reply(ctx, inbound)
	require.NoError(t, err)
	_, err = f.ws.As("alice").Send(ctx, r.ID, nil)
	assert.ErrorIs(t, err, emailflow.ErrInvalidInput, "the disposition is needed before review")
	o, err := f.ws.As(admin).Interaction(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateDraft, o.State)
	assert.Empty(t, o.Rounds)

	require.NoError(t, f.ws.As("alice").SetDisposition(ctx, inbound, "answered"))
	_, err = f.ws.As("alice").Send(ctx, r.ID, nil)
	require.NoError(t, err)
	it, err := f.ws.As(admin).Interaction(ctx, inbound)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateHandling, it.State, "still open while in review")
	review := f.reviewOf(t, r.ID)
	_, err = f.ws.As("rita").Accept(ctx, review)
	require.NoError(t, err)
	_, err = f.ws.As("rita").Approve(ctx, review)
	require.NoError(t, err)
	it, err = f.ws.As(admin).Interaction(ctx, inbound)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateDone, it.State, "the approved reply closes the inbound")
}

func TestApproveWithManualDispatch(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{ReviewPolicy: qa.All(), ManualDispatch: true})
	f.agent(t, "alice")
	f.reviewer(t, "rita")
	_, out, review := f.submitted(t, "Texte")
	_, err := f.ws.As("rita").Accept(ctx, review)
	require.NoError(t, err)
	approved, err := f.ws.As("rita").Approve(ctx, review)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateOutbox, approved.State)
	assert.Equal(t, emailflow.DeliveryQueued, approved.Delivery.State)
	assert.Empty(t, f.sender.Sent())
	n, err := f.ws.Runner(nil).Dispatch(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	o, err := f.ws.As(admin).Interaction(ctx, out)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateSent, o.State)
}

// TestApproveWithdrawRace: the author withdrawing while the reviewer
// approves: exactly one wins; a withdrawn email is never sent.
func TestApproveWithdrawRace(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, reviewAll())
	require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: "alice", Queues: []string{"support-fr"}, Capacity: 1000}))
	require.NoError(t, f.ws.As("alice").SetStatus(ctx, emailflow.StatusReady))
	f.reviewer(t, "rita")
	approved := 0
	for round := 0; round < 50; round++ {
		in := f.ingest(t, newMail(fmt.Sprintf("withdraw-race-%d", round)))
		_, err := f.ws.As("alice").Accept(ctx, in)
		require.NoError(t, err)
		r, err := f.ws.As("alice").Reply(ctx, in)
		require.NoError(t, err)
		_, err = f.ws.As("alice").Send(ctx, r.ID, nil)
		require.NoError(t, err)
		review := f.reviewOf(t, r.ID)
		_, err = f.ws.As("rita").Accept(ctx, review)
		require.NoError(t, err)

		var wg sync.WaitGroup
		var errApprove, errWithdraw error
		wg.Add(2)
		go func() { defer wg.Done(); _, errApprove = f.ws.As("rita").Approve(ctx, review) }()
		go func() { defer wg.Done(); _, errWithdraw = f.ws.As("alice").Withdraw(ctx, r.ID) }()
		wg.Wait()
		require.True(t, (errApprove == nil) != (errWithdraw == nil), "round %d: exactly one wins (approve %v, withdraw %v)", round, errApprove, errWithdraw)
		assert.ErrorIs(t, errors.Join(errApprove, errWithdraw), emailflow.ErrInvalidTransition)
		o, err := f.ws.As(admin).Interaction(ctx, r.ID)
		require.NoError(t, err)
		if errApprove == nil {
			approved++
			assert.Equal(t, interaction.StateSent, o.State)
		} else {
			assert.Equal(t, interaction.StateDraft, o.State)
		}
		require.Len(t, f.sender.Sent(), approved)
	}
}

// TestReviewFreezesAttachments: attachments are part of the reviewed
// content and are sent as reviewed.
func TestReviewFreezesAttachments(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, reviewAll())
	f.agent(t, "alice")
	f.reviewer(t, "rita")
	in := f.handled(t, "alice")
	r, err := f.ws.As("alice").Reply(ctx, in)
	require.NoError(t, err)
	attID, err := f.ws.As("alice").AddAttachment(ctx, r.ID, emailflow.NewAttachment{Filename: "bon-de-retour.pdf", ContentType: "application/pdf", Body: bytes.NewReader([]byte("%PDF-1.4 retour"))})
	require.NoError(t, err)
	_, err = f.ws.As("alice").Send(ctx, r.ID, nil)
	require.NoError(t, err)
	review := f.reviewOf(t, r.ID)
	assert.ErrorIs(t, errOf(f.ws.As("alice").EditDraft(ctx, r.ID, emailflow.DraftPatch{RemoveAttachments: []string{attID.ID}})), emailflow.ErrInvalidTransition, "frozen in review")
	_, err = f.ws.As("rita").Accept(ctx, review)
	require.NoError(t, err)
	item, err := f.ws.As("rita").Review(ctx, review)
	require.NoError(t, err)
	require.Len(t, item.Email.Attachments, 1)
	_, err = f.ws.As("rita").Approve(ctx, review)
	require.NoError(t, err)
	sent := f.sender.Sent()
	require.Len(t, sent, 1)
	msg, err := compose.Parse(bytes.NewReader(sent[0].Raw), nil)
	require.NoError(t, err)
	require.Len(t, msg.Attachments, 1)
	assert.Equal(t, "bon-de-retour.pdf", msg.Attachments[0].Filename)
}

// TestDecidingFreesTheReviewer: a review takes the reviewer's capacity
// until it is decided; then the next waiting review is offered.
func TestDecidingFreesTheReviewer(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{ReviewPolicy: qa.All(), ReviewQueue: "qa-fr"})
	require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: "alice", Queues: []string{"support-fr"}, Capacity: 10}))
	require.NoError(t, f.ws.As("alice").SetStatus(ctx, emailflow.StatusReady))
	require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: "rita", Queues: []string{"qa-fr"}, Capacity: 1, Roles: []emailflow.Role{emailflow.RoleReviewer}}))
	require.NoError(t, f.ws.As("rita").SetStatus(ctx, emailflow.StatusReady))
	var reviews []string
	for i := range 2 {
		in := f.ingest(t, newMail(fmt.Sprintf("free-%d", i)))
		_, err := f.ws.As("alice").Accept(ctx, in)
		require.NoError(t, err)
		r, err := f.ws.As("alice").Reply(ctx, in)
		require.NoError(t, err)
		_, err = f.ws.As("alice").Send(ctx, r.ID, nil)
		require.NoError(t, err)
		reviews = append(reviews, f.reviewOf(t, r.ID))
	}
	first, err := f.ws.As(admin).Interaction(ctx, reviews[0])
	require.NoError(t, err)
	assert.Equal(t, "qa-fr", first.Queue, "Options.ReviewQueue")
	assert.Equal(t, "rita", first.OfferedTo)
	second, err := f.ws.As(admin).Interaction(ctx, reviews[1])
	require.NoError(t, err)
	assert.Equal(t, interaction.StateQueued, second.State, "rita is at capacity")

	_, err = f.ws.As("rita").Accept(ctx, reviews[0])
	require.NoError(t, err)
	_, err = f.ws.As("rita").Reject(ctx, reviews[0], "other", "Voir la procédure.")
	require.NoError(t, err)
	second, err = f.ws.As(admin).Interaction(ctx, reviews[1])
	require.NoError(t, err)
	assert.Equal(t, "rita", second.OfferedTo, "offered once rita decided")
}
