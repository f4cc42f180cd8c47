package emailflow_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
)

func mailTo(id, to string, extra ...string) []byte {
	return followUpFrom(id, "client-"+id+"@exemple.fr", to, extra...)
}

// followUpFrom is mailTo from a given sender, such as a customer following up.
func followUpFrom(id, from, to string, extra ...string) []byte {
	return []byte("From: Client <" + from + ">\r\nTo: " + to + "\r\n" + strings.Join(extra, "") + "Subject: Question " + id +
		"\r\nMessage-ID: <" + id + "@exemple.fr>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBonjour " + id + "\r\n")
}

func TestRouteRulesSkillsAndLanguages(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{
		Queues: []emailflow.Queue{{Name: "billing", Skills: map[string]int{"billing": 2}, Priority: 5}},
		Routes: []emailflow.Route{
			{Pattern: "factures@boutique.example", Queue: "billing", Language: "fr"},
			{Pattern: "*@de.boutique.example", Queue: "support-de", Skills: map[string]int{"support": 1}, Language: "de"},
		},
	})
	put := func(a emailflow.Agent) {
		require.NoError(t, f.ws.PutAgent(ctx, a))
		require.NoError(t, f.ws.As(a.ID).SetStatus(ctx, emailflow.StatusReady))
	}
	put(emailflow.Agent{ID: "junior", Queues: []string{"billing"}, Skills: map[string]int{"billing": 1}, Languages: []string{"fr"}})
	put(emailflow.Agent{ID: "anglo", Queues: []string{"billing"}, Skills: map[string]int{"billing": 3}, Languages: []string{"en"}})

	it, err := f.ws.Ingest(ctx, "factures@boutique.example", bytes.NewReader(mailTo("b1", "factures@boutique.example")))
	require.NoError(t, err)
	assert.Equal(t, "billing", it.Queue)
	assert.Equal(t, 5, it.Priority, "the queue's default priority")
	assert.Equal(t, interaction.StateQueued, it.State, "junior lacks the level, anglo the language")

	put(emailflow.Agent{ID: "senior", Queues: []string{"billing"}, Skills: map[string]int{"billing": 2}, Languages: []string{"fr", "en"}})
	it, err = f.ws.As(admin).Interaction(ctx, it.ID)
	require.NoError(t, err)
	assert.Equal(t, "senior", it.OfferedTo)

	// A route matched on a To address, not the mailbox.
	put(emailflow.Agent{ID: "hans", Queues: []string{"support-de"}, Skills: map[string]int{"support": 1}, Languages: []string{"de"}})
	it, err = f.ws.Ingest(ctx, support, bytes.NewReader(mailTo("d1", "kunden@de.boutique.example")))
	require.NoError(t, err)
	assert.Equal(t, "support-de", it.Queue)
	assert.Equal(t, "hans", it.OfferedTo)
}

func TestOneInteractionForSeveralMailboxes(t *testing.T) {
	ctx := context.Background()
	raw := mailTo("multi", "support@boutique.example, ventes@boutique.example")
	f := newFixture(t, nil)
	a, err := f.ws.Ingest(ctx, "support@boutique.example", bytes.NewReader(raw))
	require.NoError(t, err)
	b, err := f.ws.Ingest(ctx, "ventes@boutique.example", bytes.NewReader(raw))
	require.NoError(t, err)
	assert.Equal(t, a.ID, b.ID, "one interaction by default")

	g := newFixture(t, &emailflow.Options{SplitRecipients: true})
	a, err = g.ws.Ingest(ctx, "support@boutique.example", bytes.NewReader(raw))
	require.NoError(t, err)
	b, err = g.ws.Ingest(ctx, "ventes@boutique.example", bytes.NewReader(raw))
	require.NoError(t, err)
	assert.NotEqual(t, a.ID, b.ID, "split on request")
	assert.Equal(t, "ventes@boutique.example", b.Mailbox)
}

func TestPriorityThenAge(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{Routes: []emailflow.Route{{Pattern: "urgent@boutique.example", Queue: "support-fr", Priority: 10}}})
	var ids []string
	for i, to := range []string{"support@boutique.example", "support@boutique.example", "urgent@boutique.example"} {
		f.clock.Advance(time.Minute)
		it, err := f.ws.Ingest(ctx, to, bytes.NewReader(mailTo("p"+string(rune('a'+i)), to)))
		require.NoError(t, err)
		ids = append(ids, it.ID)
	}
	require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: "alice", Queues: []string{"support-fr"}, Capacity: 1}))
	require.NoError(t, f.ws.As("alice").SetStatus(ctx, emailflow.StatusReady))
	var order []string
	for range ids {
		offered, err := f.ws.As(admin).Interactions(ctx, emailflow.Query{OfferedTo: "alice"})
		require.NoError(t, err)
		require.Len(t, offered, 1)
		order = append(order, offered[0].ID)
		_, err = f.ws.As("alice").Accept(ctx, offered[0].ID)
		require.NoError(t, err)
		require.NoError(t, f.ws.As("alice").MarkDone(ctx, offered[0].ID))
	}
	assert.Equal(t, []string{ids[2], ids[0], ids[1]}, order, "urgent first, then oldest first")
}

func TestLongestIdleAgentFirst(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	f.clock.Advance(time.Minute)
	f.agent(t, "bob")
	it, err := f.ws.Ingest(ctx, support, bytes.NewReader(mailTo("i1", support)))
	require.NoError(t, err)
	assert.Equal(t, "alice", it.OfferedTo, "alice has been idle longer")
	_, err = f.ws.As("alice").Accept(ctx, it.ID)
	require.NoError(t, err)
	f.clock.Advance(time.Minute)
	require.NoError(t, f.ws.As("alice").MarkDone(ctx, it.ID))
	it, err = f.ws.Ingest(ctx, support, bytes.NewReader(mailTo("i2", support)))
	require.NoError(t, err)
	assert.Equal(t, "bob", it.OfferedTo, "alice just finished; bob is idle longest")
}

func TestStickyFollowUpThenFallback(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{StickyFor: 5 * time.Minute})
	f.agent(t, "alice")
	id := f.handled(t, "alice")
	require.NoError(t, f.ws.As("alice").MarkDone(ctx, id))
	f.agent(t, "bob")
	require.NoError(t, f.ws.As("alice").SetStatus(ctx, emailflow.StatusNotReady))

	followUp := followUpFrom("follow", "helene.dupre@exemple.fr", support, "In-Reply-To: <CAF3x9-helene-2291@mail.exemple.fr>\r\n")
	it, err := f.ws.Ingest(ctx, support, bytes.NewReader(followUp))
	require.NoError(t, err)
	assert.Equal(t, interaction.StateQueued, it.State, "reserved for alice, who is not ready")
	assert.Equal(t, "alice", it.PreferredAgent)

	f.clock.Advance(4 * time.Minute)
	_, err = f.ws.Runner(nil).Tick(ctx)
	require.NoError(t, err)
	it, err = f.ws.As(admin).Interaction(ctx, it.ID)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateQueued, it.State, "still reserved")

	f.clock.Advance(time.Minute)
	_, err = f.ws.Runner(nil).Tick(ctx)
	require.NoError(t, err)
	it, err = f.ws.As(admin).Interaction(ctx, it.ID)
	require.NoError(t, err)
	assert.Equal(t, "bob", it.OfferedTo, "the preference ran out: anyone may take it")

	// With alice ready, a follow-up goes straight to her.
	g := newFixture(t, &emailflow.Options{StickyFor: 5 * time.Minute})
	g.agent(t, "alice")
	id = g.handled(t, "alice")
	require.NoError(t, g.ws.As("alice").MarkDone(ctx, id))
	g.agent(t, "bob")
	g.clock.Advance(time.Hour) // alice is busier-recent; bob idle longer
	it, err = g.ws.Ingest(ctx, support, bytes.NewReader(followUp))
	require.NoError(t, err)
	assert.Equal(t, "alice", it.OfferedTo)
}

func TestPull(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{Queues: []emailflow.Queue{{Name: "vip", Skills: map[string]int{"vip": 1}}}})
	require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: "alice", Queues: []string{"support-fr", "vip"}}))
	for _, m := range []string{"q1", "q2"} {
		f.clock.Advance(time.Second)
		f.ingest(t, newMail(m))
	}
	it, err := f.ws.As("alice").Pull(ctx, "")
	require.NoError(t, err, "pulling works while not ready")
	assert.Equal(t, interaction.StateHandling, it.State)
	assert.Equal(t, "alice", it.Owner)
	assert.Equal(t, "Question q1", it.Subject, "oldest first")

	_, err = f.ws.As("alice").Pull(ctx, "vip")
	assert.ErrorIs(t, err, emailflow.ErrNotFound)
	_, err = f.ws.As("alice").Pull(ctx, "billing")
	assert.ErrorIs(t, err, emailflow.ErrForbidden, "a queue alice does not serve")

	g := newFixture(t, &emailflow.Options{Privileges: map[emailflow.Role][]emailflow.Privilege{emailflow.RoleAgent: {emailflow.PrivilegeHandle}}})
	require.NoError(t, g.ws.PutAgent(ctx, emailflow.Agent{ID: "alice", Queues: []string{"support-fr"}}))
	g.ingest(t, newMail("q1"))
	_, err = g.ws.As("alice").Pull(ctx, "")
	assert.ErrorIs(t, err, emailflow.ErrForbidden, "no pull privilege")
}

func TestConsult(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{AcceptTimeout: 10 * time.Second})
	f.agent(t, "alice")
	id := f.handled(t, "alice")
	f.agent(t, "bob")
	f.agent(t, "carol")

	consults, err := f.ws.As("alice").Consult(ctx, id, []string{"bob", "carol"}, "Peut-on rembourser les frais de port ?")
	require.NoError(t, err)
	require.Len(t, consults, 2)
	for _, c := range consults {
		assert.Equal(t, interaction.KindConsult, c.Kind)
		assert.Equal(t, id, c.ParentID)
		assert.Equal(t, interaction.StateOffered, c.State)
	}
	bobs, carols := consults[0], consults[1]
	assert.Equal(t, "bob", bobs.OfferedTo)

	_, err = f.ws.As("bob").Accept(ctx, bobs.ID)
	require.NoError(t, err)
	assert.ErrorIs(t, f.ws.As("carol").Answer(ctx, bobs.ID, "x"), emailflow.ErrForbidden)
	require.NoError(t, f.ws.As("bob").Answer(ctx, bobs.ID, "Oui, jusqu'à 10 €."))

	parent, err := f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, "alice", parent.Owner, "the owner keeps it throughout")
	assert.Equal(t, interaction.StateHandling, parent.State)
	require.Len(t, parent.Notes, 1)
	assert.Equal(t, interaction.Note{Author: "bob", At: f.clock.Now(), Text: "Oui, jusqu'à 10 €."}, parent.Notes[0])
	done, err := f.ws.As(admin).Interaction(ctx, bobs.ID)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateDone, done.State)

	assert.ErrorIs(t, f.ws.As("bob").CancelConsult(ctx, carols.ID), emailflow.ErrForbidden, "only the owner cancels")
	require.NoError(t, f.ws.As("alice").CancelConsult(ctx, carols.ID))
	c, err := f.ws.As(admin).Interaction(ctx, carols.ID)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateDone, c.State)
	_, err = f.ws.As("carol").Accept(ctx, carols.ID)
	assert.ErrorIs(t, err, emailflow.ErrInvalidTransition)
	assert.ErrorIs(t, f.ws.As("alice").CancelConsult(ctx, bobs.ID), emailflow.ErrInvalidTransition, "already answered")

	// An unanswered offer times out.
	more, err := f.ws.As("alice").Consult(ctx, id, []string{"carol"}, "Et la TVA ?")
	require.NoError(t, err)
	f.clock.Advance(10 * time.Second)
	_, err = f.ws.Runner(nil).Tick(ctx)
	require.NoError(t, err)
	c, err = f.ws.As(admin).Interaction(ctx, more[0].ID)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateDone, c.State)

	_, err = f.ws.As("alice").Consult(ctx, id, []string{"alice"}, "?")
	assert.ErrorIs(t, err, emailflow.ErrInvalidInput)
	_, err = f.ws.As("alice").Consult(ctx, id, []string{"nobody"}, "?")
	assert.ErrorIs(t, err, emailflow.ErrNotFound)
	_, err = f.ws.As("bob").Consult(ctx, id, []string{"carol"}, "?")
	assert.ErrorIs(t, err, emailflow.ErrForbidden)
}

func TestTeamWorkbinsAndSupervisorAssign(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{TeamWorkbins: []string{"litiges"}})
	f.agent(t, "alice")
	f.agent(t, "bob")
	f.agent(t, "sue", emailflow.RoleSupervisor)
	require.NoError(t, f.ws.As("sue").SetStatus(ctx, emailflow.StatusNotReady))
	id := f.handled(t, "alice")

	assert.ErrorIs(t, f.ws.As("alice").SaveToWorkbin(ctx, id, emailflow.WorkbinRef{Bin: "nope"}), emailflow.ErrInvalidInput)
	require.NoError(t, f.ws.As("alice").SaveToWorkbin(ctx, id, emailflow.WorkbinRef{Bin: "litiges"}))
	bin, err := f.ws.As("bob").Workbin(ctx, emailflow.WorkbinRef{Owner: "", Bin: "litiges"})
	require.NoError(t, err)
	require.Len(t, bin, 1)
	assert.Empty(t, bin[0].Owner)

	require.NoError(t, f.ws.As("bob").TakeFromWorkbin(ctx, id), "any agent takes from a team workbin")
	it, err := f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, "bob", it.Owner)
	assert.Equal(t, interaction.StateHandling, it.State)

	// Bob parks it in his own workbin; the supervisor sees it and assigns
	// it to alice.
	require.NoError(t, f.ws.As("bob").SaveToWorkbin(ctx, id, emailflow.WorkbinRef{}))
	_, err = f.ws.As("alice").Workbin(ctx, emailflow.WorkbinRef{Owner: "bob", Bin: emailflow.WorkbinInProgress})
	assert.ErrorIs(t, err, emailflow.ErrForbidden, "agents do not list others' workbins")
	bobs, err := f.ws.As("sue").Workbin(ctx, emailflow.WorkbinRef{Owner: "bob", Bin: emailflow.WorkbinInProgress})
	require.NoError(t, err)
	require.Len(t, bobs, 1)
	assert.ErrorIs(t, f.ws.As("alice").Assign(ctx, id, emailflow.TransferTarget{Agent: "alice"}), emailflow.ErrForbidden)
	require.NoError(t, f.ws.As("sue").Assign(ctx, id, emailflow.TransferTarget{Agent: "alice", Note: "Alice connaît le dossier"}))
	alices, err := f.ws.As("alice").Workbin(ctx, emailflow.WorkbinRef{Bin: emailflow.WorkbinInProgress})
	require.NoError(t, err)
	require.Len(t, alices, 1)
	assert.Equal(t, "alice", alices[0].Owner)

	// Assign to a queue: queued and routed.
	require.NoError(t, f.ws.As("alice").SetStatus(ctx, emailflow.StatusNotReady))
	require.NoError(t, f.ws.As("sue").Assign(ctx, id, emailflow.TransferTarget{Queue: "support-fr"}))
	it, err = f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, "bob", it.OfferedTo)

	require.NoError(t, f.ws.As("bob").SetStatus(ctx, emailflow.StatusNotReady))
	waiting := f.ingest(t, newMail("w1"))
	_, err = f.ws.As("bob").Queue(ctx, "support-fr")
	assert.ErrorIs(t, err, emailflow.ErrForbidden)
	q, err := f.ws.As("sue").Queue(ctx, "support-fr")
	require.NoError(t, err)
	require.Len(t, q, 1)
	assert.Equal(t, waiting, q[0].ID)
	assert.ErrorIs(t, f.ws.As("sue").Assign(ctx, id, emailflow.TransferTarget{Queue: "x"}), emailflow.ErrInvalidTransition, "offered to bob: not assignable")
}

func TestQueueStats(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{Queues: []emailflow.Queue{{Name: "support-fr", ServiceLevel: 10 * time.Minute}}})
	f.agent(t, "sue", emailflow.RoleSupervisor)
	require.NoError(t, f.ws.As("sue").SetStatus(ctx, emailflow.StatusNotReady))
	f.ingest(t, newMail("s1"))
	f.clock.Advance(15 * time.Minute)
	f.ingest(t, newMail("s2"))
	f.clock.Advance(time.Minute)
	f.agent(t, "alice") // capacity 5: both are offered to her
	require.NoError(t, f.ws.As("alice").SetStatus(ctx, emailflow.StatusNotReady))
	f.ingest(t, newMail("s3"))

	st, err := f.ws.As("sue").QueueStats(ctx, "support-fr")
	require.NoError(t, err)
	assert.Equal(t, emailflow.QueueStats{Queue: "support-fr", Waiting: 1, Offered: 2, ServiceLevel: 10 * time.Minute}, st)

	f.clock.Advance(11 * time.Minute)
	st, err = f.ws.As("sue").QueueStats(ctx, "support-fr")
	require.NoError(t, err)
	assert.Equal(t, 11*time.Minute, st.Oldest)
	assert.Equal(t, 1, st.OverTarget)

	_, err = f.ws.As("alice").QueueStats(ctx, "support-fr")
	assert.ErrorIs(t, err, emailflow.ErrForbidden)
}
