package emailflow_test

import (
	"context"
	"net/mail"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/contact"
	"github.com/emailflow/emailflow/interaction"
)

// readScene: alice handles the French email; her reply is in review,
// handled by rita; bob is a colleague on the same queue with the default
// agent privileges (history included); sue supervises support-fr, sam
// supervises billing.
type readScene struct {
	f                           *fixture
	inbound, outbound, review   string
	inboundEmail, outboundEmail string
}

func newReadScene(t *testing.T) *readScene {
	t.Helper()
	ctx := context.Background()
	f := newFixture(t, reviewAll())
	f.agent(t, "alice")
	in, out, review := f.submitted(t, "Bonjour, nous regardons.")
	f.agent(t, "bob")
	f.reviewer(t, "rita")
	_, err := f.ws.As("rita").Accept(ctx, review)
	require.NoError(t, err)
	f.agent(t, "sue", emailflow.RoleSupervisor)
	require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: "sam", Queues: []string{"billing"}, Roles: []emailflow.Role{emailflow.RoleSupervisor}}))
	s := &readScene{f: f, inbound: in, outbound: out, review: review}
	emails, err := f.ws.As("alice").Emails(ctx, in)
	require.NoError(t, err)
	s.inboundEmail = emails[0].ID
	emails, err = f.ws.As("alice").Emails(ctx, out)
	require.NoError(t, err)
	s.outboundEmail = emails[0].ID
	return s
}

// Every read of an interaction's content takes the acting agent and
// refuses with ErrForbidden one who may not see it.
func TestEveryReadRefusesWhoMayNotSee(t *testing.T) {
	ctx := context.Background()
	s := newReadScene(t)
	ws := s.f.ws
	customer := []string{"alice", "sue", admin}                  // owner, supervisor of its queue, admin
	strangers := []string{"bob", "sam", "rita", "nobody"}        // colleague, other queue's supervisor, a reviewer of something else, unknown
	underReview := []string{"alice", "sue", admin, "rita"}       // the author, the supervisor, the admin, its reviewer
	notReviewers := []string{"bob", "sam", "nobody"}             //
	reviewers := []string{"rita"}                                // the review is seen by its reviewers only
	notOnReview := []string{"alice", "bob", "sue", "sam", admin} // the author (four eyes), no privilege, another queue
	tests := []struct {
		name             string
		read             func(agent string) error
		allowed, refused []string
	}{
		{"Interaction", func(a string) error { _, err := ws.As(a).Interaction(ctx, s.inbound); return err }, customer, strangers},
		{"Emails", func(a string) error { _, err := ws.As(a).Emails(ctx, s.inbound); return err }, customer, strangers},
		{"CaseData", func(a string) error { _, err := ws.As(a).CaseData(ctx, s.inbound); return err }, customer, strangers},
		{"OpenInteraction", func(a string) error { _, _, err := ws.As(a).OpenInteraction(ctx, s.inbound); return err }, customer, strangers},
		{"UnsafeHTML", func(a string) error { _, err := ws.As(a).UnsafeHTML(ctx, s.inboundEmail); return err }, customer, strangers},
		{"Interaction of the reply", func(a string) error { _, err := ws.As(a).Interaction(ctx, s.outbound); return err }, underReview, notReviewers},
		{"Emails of the reply", func(a string) error { _, err := ws.As(a).Emails(ctx, s.outbound); return err }, underReview, notReviewers},
		{"Rounds", func(a string) error { _, err := ws.As(a).Rounds(ctx, s.outbound); return err }, underReview, notReviewers},
		{"Review", func(a string) error { _, err := ws.As(a).Review(ctx, s.review); return err }, reviewers, notOnReview},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, a := range tt.allowed {
				assert.NoError(t, tt.read(a), a)
			}
			for _, a := range tt.refused {
				assert.ErrorIs(t, tt.read(a), emailflow.ErrForbidden, a)
			}
		})
	}
}

// Reads of lists leave out what the agent may not see.
func TestListsShowOnlyWhatTheAgentMaySee(t *testing.T) {
	ctx := context.Background()
	s := newReadScene(t)
	ws := s.f.ws

	none, err := ws.As("bob").Interactions(ctx, emailflow.Query{})
	require.NoError(t, err)
	assert.Empty(t, none, "bob has no part in any of them")
	mine, err := ws.As("alice").Interactions(ctx, emailflow.Query{})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{s.inbound, s.outbound}, idsOf(mine), "her email and her reply, not the review of it")
	page, err := ws.As("alice").Interactions(ctx, emailflow.Query{Offset: 1, Limit: 5})
	require.NoError(t, err)
	assert.Len(t, page, 1, "offset and limit count what she may see")
	all, err := ws.As(admin).Interactions(ctx, emailflow.Query{})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{s.inbound, s.outbound, s.review}, idsOf(all))

	bobs, err := ws.As("bob").Events(ctx, 0, 0)
	require.NoError(t, err)
	require.NotEmpty(t, bobs, "his status changes")
	for _, e := range bobs {
		assert.True(t, e.Agent == "bob" || e.Actor == "bob", "bob reads his own events only: %+v", e)
	}
	alices, err := ws.As("alice").Events(ctx, 0, 3)
	require.NoError(t, err)
	assert.Len(t, alices, 3, "limit counts what she may read")
	every, err := ws.As(admin).Events(ctx, 0, 0)
	require.NoError(t, err)
	assert.Greater(t, len(every), len(bobs)+len(alices))

	it, err := ws.As("alice").Interaction(ctx, s.inbound)
	require.NoError(t, err)
	history, total, err := ws.As("bob").ContactHistory(ctx, it.ContactID, contact.Page{})
	require.NoError(t, err)
	assert.Zero(t, total, "none of it is past: nothing for bob")
	assert.Empty(t, history)
	history, total, err = ws.As("alice").ContactHistory(ctx, it.ContactID, contact.Page{})
	require.NoError(t, err)
	assert.Equal(t, 2, total, "alice's own email and reply")
	assert.Len(t, history, 2)
}

// A supervisor sees and moves the interactions of the queues they serve,
// not those of others.
func TestSupervisorOfItsQueue(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "sue", emailflow.RoleSupervisor)
	require.NoError(t, f.ws.As("sue").SetStatus(ctx, emailflow.StatusNotReady))
	require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: "sam", Queues: []string{"billing"}, Roles: []emailflow.Role{emailflow.RoleSupervisor}}))
	id := f.ingest(t, readFile(t, "testdata/french-order.eml"))

	for agent, want := range map[string][]string{"sue": {id}, "sam": nil} {
		list, err := f.ws.As(agent).Queue(ctx, "support-fr")
		require.NoError(t, err)
		assert.Equal(t, want, idsOf(list), agent)
	}
	assert.ErrorIs(t, f.ws.As("sam").Assign(ctx, id, emailflow.TransferTarget{Queue: "billing"}), emailflow.ErrForbidden, "not a queue sam serves")
	assert.ErrorIs(t, f.ws.As("sam").Delete(ctx, id), emailflow.ErrForbidden)
	it, err := f.ws.As("sue").Interaction(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateQueued, it.State, "the refusals changed nothing")
	require.NoError(t, f.ws.As("sue").Assign(ctx, id, emailflow.TransferTarget{Agent: "sue"}))
	require.NoError(t, f.ws.As("sue").Assign(ctx, id, emailflow.TransferTarget{Queue: "billing"}))
	it, err = f.ws.As("sam").Interaction(ctx, id)
	require.NoError(t, err, "in billing now: sam's to see")
	assert.Equal(t, "billing", it.Queue)
	_, err = f.ws.As("sue").Interaction(ctx, id)
	assert.ErrorIs(t, err, emailflow.ErrForbidden, "no longer in a queue sue serves")
}

// A consultation is seen by its two parties only; the colleague asked sees
// the interaction consulted about while the consultation is open.
func TestConsultationSeenByItsPartiesOnly(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	id := f.handled(t, "alice")
	f.agent(t, "bob")
	f.agent(t, "carol")
	cs, err := f.ws.As("alice").Consult(ctx, id, []string{"carol"}, "Peut-on rembourser le port ?")
	require.NoError(t, err)
	consult := cs[0].ID

	for _, a := range []string{"alice", "carol"} {
		_, _, err := f.ws.As(a).OpenInteraction(ctx, consult)
		assert.NoError(t, err, a)
	}
	_, _, err = f.ws.As("bob").OpenInteraction(ctx, consult)
	assert.ErrorIs(t, err, emailflow.ErrForbidden, "bob has no part in it, history privilege or not")
	_, err = f.ws.As("bob").Interaction(ctx, consult)
	assert.ErrorIs(t, err, emailflow.ErrForbidden)

	_, err = f.ws.As("carol").Emails(ctx, id)
	assert.NoError(t, err, "the colleague asked reads the customer's email")
	_, err = f.ws.As("carol").Accept(ctx, consult)
	require.NoError(t, err)
	require.NoError(t, f.ws.As("carol").Answer(ctx, consult, "Oui."))
	_, err = f.ws.As("carol").Emails(ctx, id)
	assert.ErrorIs(t, err, emailflow.ErrForbidden, "answered: no longer hers to read")
	_, err = f.ws.As("carol").Interaction(ctx, consult)
	assert.NoError(t, err, "her own consultation stays hers")
}

// Another agent's unsent draft cannot be forwarded; a sent email of the
// contact's history can.
func TestForwardingAnotherAgentsDraftIsRefused(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	id := f.handled(t, "alice")
	f.agent(t, "bob")
	draft, err := f.ws.As("alice").Reply(ctx, id)
	require.NoError(t, err)
	setText(t, f, "alice", draft.ID, "Brouillon confidentiel")
	out := emailflow.ForwardRequest{To: []mail.Address{{Address: "someone@outside.example"}}}

	_, err = f.ws.As("bob").ForwardFromHistory(ctx, draft.ID, out)
	assert.ErrorIs(t, err, emailflow.ErrForbidden)
	_, err = f.ws.As("bob").ForwardFromHistory(ctx, id, out)
	assert.ErrorIs(t, err, emailflow.ErrForbidden, "nor the email alice is handling")
	_, err = f.ws.As("alice").ForwardFromHistory(ctx, draft.ID, out)
	assert.ErrorIs(t, err, emailflow.ErrInvalidInput, "a draft is not sent email, even for its author")
	theirs, err := f.ws.As("bob").Interactions(ctx, emailflow.Query{})
	require.NoError(t, err)
	assert.Empty(t, theirs, "bob got no draft out of it")
	f.clock.Advance(1)
	_, err = f.ws.Runner(nil).Dispatch(ctx)
	require.NoError(t, err)
	assert.Empty(t, f.sender.Sent(), "nothing left")

	_, err = f.ws.As("alice").Send(ctx, draft.ID, nil)
	require.NoError(t, err)
	fw, err := f.ws.As("bob").ForwardFromHistory(ctx, draft.ID, out)
	require.NoError(t, err, "sent, it is history bob may read and forward")
	assert.Equal(t, "bob", fw.Owner)
}

func idsOf(its []*interaction.Interaction) []string {
	var out []string
	for _, it := range its {
		out = append(out, it.ID)
	}
	return out
}

// Hosts get the customer's HTML sanitized; the raw form only through
// UnsafeHTML.
func TestHostsGetSanitizedHTML(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	raw := "From: jo@exemple.fr\r\nTo: support@boutique.example\r\nSubject: Facture\r\nMessage-ID: <html@exemple.fr>\r\n" +
		"Content-Type: text/html; charset=utf-8\r\n\r\n" +
		`<p onclick="steal()">Bonjour <img src="https://tracker.example/pixel.gif"><script>steal()</script><a href="javascript:steal()">ici</a></p>` + "\r\n"
	id := f.ingest(t, []byte(raw))
	_, err := f.ws.As("alice").Accept(ctx, id)
	require.NoError(t, err)

	emails, err := f.ws.As("alice").Emails(ctx, id)
	require.NoError(t, err)
	require.Len(t, emails, 1)
	_, opened, err := f.ws.As("alice").OpenInteraction(ctx, id)
	require.NoError(t, err)
	for _, html := range []string{emails[0].HTML, opened[0].HTML} {
		assert.Contains(t, html, "Bonjour")
		for _, bad := range []string{"onclick", "<script", "tracker.example", "javascript:"} {
			assert.NotContains(t, html, bad)
		}
	}
	unsafe, err := f.ws.As("alice").UnsafeHTML(ctx, emails[0].ID)
	require.NoError(t, err)
	assert.Contains(t, unsafe, "<script>steal()</script>", "as received, on explicit request")
	again, err := f.ws.As("alice").Emails(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, emails[0].HTML, again[0].HTML, "the stored email is untouched by the hand-out")
}
