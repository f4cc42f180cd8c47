package emailflow_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/interaction"
)

// handledMail takes in mail id and has agent accept it.
func (f *fixture) handledMail(t *testing.T, agent, id string) string {
	t.Helper()
	in := f.ingest(t, newMail(id))
	_, err := f.ws.As(agent).Accept(context.Background(), in)
	require.NoError(t, err)
	return in
}

// TestInbox: one call gives what is offered to the agent, what they own
// and their workbins (the pending one included) with the team's; nothing
// done, nobody else's.
func TestInbox(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{TeamWorkbins: []string{"litiges"}, ServiceLevels: standardSLA()})
	f.agent(t, "alice")
	alice := f.ws.As("alice")

	handled := f.handledMail(t, "alice", "m-handled")
	parked := f.handledMail(t, "alice", "m-parked")
	require.NoError(t, alice.SaveToWorkbin(ctx, parked, emailflow.WorkbinRef{}))
	pending := f.handledMail(t, "alice", "m-pending")
	_, err := alice.SetPending(ctx, pending, emailflow.Pending{Until: f.clock.Now().Add(24 * time.Hour)})
	require.NoError(t, err)
	team := f.handledMail(t, "alice", "m-team")
	require.NoError(t, alice.SaveToWorkbin(ctx, team, emailflow.WorkbinRef{Bin: "litiges"}))
	done := f.handledMail(t, "alice", "m-done")
	require.NoError(t, alice.MarkDone(ctx, done))
	draft, err := alice.Reply(ctx, handled)
	require.NoError(t, err)
	second := f.handledMail(t, "alice", "m-second")
	aside, err := alice.Reply(ctx, second)
	require.NoError(t, err)
	require.NoError(t, alice.SaveToWorkbin(ctx, aside.ID, emailflow.WorkbinRef{}))
	offered := f.ingest(t, newMail("m-offered"))
	// bob's own mail is not alice's.
	f.agent(t, "bob")
	require.NoError(t, alice.SetStatus(ctx, emailflow.StatusNotReady))
	f.handledMail(t, "bob", "m-bob")

	in, err := alice.Inbox(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{offered}, idsOf(in.Offered), "offered")
	assert.ElementsMatch(t, []string{handled, second, draft.ID}, idsOf(in.Owned), "owned: open, not parked, not done")
	refs := make([]emailflow.WorkbinRef, 0, len(in.Workbins))
	for _, b := range in.Workbins {
		refs = append(refs, b.WorkbinRef)
	}
	assert.Equal(t, []emailflow.WorkbinRef{
		{Owner: "alice", Bin: emailflow.WorkbinInProgress}, {Owner: "alice", Bin: emailflow.WorkbinDrafts},
		{Owner: "alice", Bin: emailflow.WorkbinPending}, {Bin: "litiges"},
	}, refs, "personal workbins, then the team's")
	for _, tc := range []struct {
		bin  string
		want []string
	}{
		{emailflow.WorkbinInProgress, []string{parked}},
		{emailflow.WorkbinDrafts, []string{aside.ID}},
		{emailflow.WorkbinPending, []string{pending}},
		{"litiges", []string{team}},
		{"nowhere", nil},
	} {
		t.Run(tc.bin, func(t *testing.T) {
			assert.Equal(t, tc.want, idsOf(in.Workbin(tc.bin)))
		})
	}

	bob, err := f.ws.As("bob").Inbox(ctx)
	require.NoError(t, err)
	assert.Len(t, bob.Owned, 1)
	assert.Empty(t, bob.Offered)
	assert.Equal(t, []string{team}, idsOf(bob.Workbin("litiges")), "a team workbin is anyone's to take from")
	assert.Empty(t, bob.Workbin(emailflow.WorkbinInProgress))

	_, err = f.ws.As("nobody").Inbox(ctx)
	assert.ErrorIs(t, err, emailflow.ErrForbidden)
}

// TestInboxOffersConsultationsAndReviews: a consultation asked of an agent
// and a review offered to a reviewer are in their Offered, oldest first,
// and once taken in their Owned.
func TestInboxOffersConsultationsAndReviews(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, reviewAll())
	f.agent(t, "alice")
	f.agent(t, "bob")
	f.reviewer(t, "rita")
	_, _, review := f.submitted(t, "Bonjour, c'est en route.")
	in := f.handledMail(t, "bob", "m-consult")
	c, err := f.ws.As("bob").Consult(ctx, in, []string{"alice"}, "Un avis ?")
	require.NoError(t, err)

	for _, tc := range []struct {
		agent string
		want  string
		kind  interaction.Kind
	}{{"rita", review, interaction.KindReview}, {"alice", c[0].ID, interaction.KindConsult}} {
		t.Run(tc.agent, func(t *testing.T) {
			box, err := f.ws.As(tc.agent).Inbox(ctx)
			require.NoError(t, err)
			require.Equal(t, []string{tc.want}, idsOf(box.Offered))
			assert.Equal(t, tc.kind, box.Offered[0].Kind)
			_, err = f.ws.As(tc.agent).Accept(ctx, tc.want)
			require.NoError(t, err)
			box, err = f.ws.As(tc.agent).Inbox(ctx)
			require.NoError(t, err)
			assert.Empty(t, box.Offered)
			assert.Contains(t, idsOf(box.Owned), tc.want)
		})
	}
}

// TestQueueForReviewers: a reviewer lists the reviews waiting in the
// review queue that they may take, never their own email's, without the
// assign privilege; other queues stay a supervisor's.
func TestQueueForReviewers(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, reviewAll())
	put := func(id string, queues []string, roles ...emailflow.Role) {
		require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: id, Name: id, Queues: queues, Capacity: 5, Roles: roles}))
	}
	both := []string{"support-fr", "review"}
	// Nobody is ready to review: the reviews wait in the queue.
	put("alice", both, emailflow.RoleAgent, emailflow.RoleReviewer)
	put("bob", []string{"support-fr"}, emailflow.RoleAgent)
	put("rita", []string{"review"}, emailflow.RoleReviewer)
	put("rex", []string{"support-fr"}, emailflow.RoleReviewer)
	put("sue", both, emailflow.RoleSupervisor)
	submit := func(author, id string) string {
		require.NoError(t, f.ws.As(author).SetStatus(ctx, emailflow.StatusReady))
		in := f.handledMail(t, author, id)
		d, err := f.ws.As(author).Reply(ctx, in)
		require.NoError(t, err)
		s, err := f.ws.As(author).Send(ctx, d.ID, nil)
		require.NoError(t, err)
		require.Equal(t, interaction.StateInReview, s.State)
		require.NoError(t, f.ws.As(author).SetStatus(ctx, emailflow.StatusNotReady))
		return f.reviewOf(t, d.ID)
	}
	byAlice := submit("alice", "m-alice")
	byBob := submit("bob", "m-bob")

	for _, tc := range []struct {
		name, agent, queue string
		want               []string
		err                error
	}{
		{"a reviewer lists what they may take", "rita", "review", []string{byAlice, byBob}, nil},
		{"never their own email's", "alice", "review", []string{byBob}, nil},
		{"a supervisor lists the queue", "sue", "review", []string{byAlice, byBob}, nil},
		{"no review privilege", "bob", "review", nil, emailflow.ErrForbidden},
		{"a reviewer of another queue", "rex", "review", nil, emailflow.ErrForbidden},
		{"another queue is a supervisor's", "rita", "support-fr", nil, emailflow.ErrForbidden},
		{"an unknown agent", "nobody", "review", nil, emailflow.ErrForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.ws.As(tc.agent).Queue(ctx, tc.queue)
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err)
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			assert.ElementsMatch(t, tc.want, idsOf(got))
			for _, it := range got {
				assert.Equal(t, interaction.KindReview, it.Kind)
			}
		})
	}

	// What the list shows is what Pull gives, and the list follows.
	got, err := f.ws.As("alice").Pull(ctx, "review")
	require.NoError(t, err)
	assert.Equal(t, byBob, got.ID)
	left, err := f.ws.As("rita").Queue(ctx, "review")
	require.NoError(t, err)
	assert.Equal(t, []string{byAlice}, idsOf(left))
	mine, err := f.ws.As("alice").Queue(ctx, "review")
	require.NoError(t, err)
	assert.Empty(t, mine)
}

func responseLibrary(t *testing.T) *compose.Library {
	t.Helper()
	lib := &compose.Library{}
	for _, r := range []compose.Template{
		{ID: "thanks", Name: "Merci", Category: "général", Text: "Merci de votre message."},
		{ID: "late", Name: "Retard", Category: "livraison", Text: "Votre colis a du retard."},
		{ID: "lost", Name: "Colis perdu", Category: "livraison", Text: "Nous ouvrons une enquête."},
		{ID: "hello", Name: "Bonjour", Category: "général", Text: "Bonjour {{contact.firstName}},"},
		{ID: "refund", Name: "Remboursement", Category: "facturation", Text: "Le remboursement est fait."},
	} {
		require.NoError(t, lib.Add(r))
	}
	return lib
}

// TestResponses: the library listed whole, by category and a page at a
// time, sorted by category then name, with every category for the picker.
func TestResponses(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{Responses: responseLibrary(t)})
	f.agent(t, "alice")
	categories := []string{"facturation", "général", "livraison"}
	for _, tc := range []struct {
		name  string
		q     emailflow.ResponseQuery
		want  []string
		total int
	}{
		{"all", emailflow.ResponseQuery{}, []string{"refund", "hello", "thanks", "lost", "late"}, 5},
		{"one category", emailflow.ResponseQuery{Category: "livraison"}, []string{"lost", "late"}, 2},
		{"a page", emailflow.ResponseQuery{Offset: 1, Limit: 2}, []string{"hello", "thanks"}, 5},
		{"the last page", emailflow.ResponseQuery{Offset: 4, Limit: 2}, []string{"late"}, 5},
		{"past the end", emailflow.ResponseQuery{Offset: 9}, nil, 5},
		{"a page of a category", emailflow.ResponseQuery{Category: "général", Limit: 1}, []string{"hello"}, 2},
		{"an unknown category", emailflow.ResponseQuery{Category: "autre"}, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := f.ws.As("alice").Responses(ctx, tc.q)
			require.NoError(t, err)
			var got []string
			for _, r := range p.Responses {
				got = append(got, r.ID)
			}
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.total, p.Total)
			assert.Equal(t, categories, p.Categories)
		})
	}
}

// TestResponsesRefusals: bad pages and unknown agents are refused; a
// Workspace without a library lists none.
func TestResponsesRefusals(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{Responses: responseLibrary(t)})
	f.agent(t, "alice")
	for _, tc := range []struct {
		name  string
		agent string
		q     emailflow.ResponseQuery
		err   error
	}{
		{"negative offset", "alice", emailflow.ResponseQuery{Offset: -1}, emailflow.ErrInvalidInput},
		{"negative limit", "alice", emailflow.ResponseQuery{Limit: -1}, emailflow.ErrInvalidInput},
		{"unknown agent", "nobody", emailflow.ResponseQuery{}, emailflow.ErrForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := f.ws.As(tc.agent).Responses(ctx, tc.q)
			assert.ErrorIs(t, err, tc.err)
			assert.Nil(t, p)
		})
	}
	bare := newFixture(t, nil)
	bare.agent(t, "alice")
	p, err := bare.ws.As("alice").Responses(ctx, emailflow.ResponseQuery{})
	require.NoError(t, err)
	assert.Empty(t, p.Responses)
	assert.Zero(t, p.Total)
}
