package storetest

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/interaction"
	transport "github.com/emailflow/emailflow/transport/memory"
)

// The classification group takes in mail that is not a customer writing
// through a Workspace on the store under test: what the store must keep
// of a bounce, a quarantined message and an automatic answer, and the
// sender lists and rate counters every Workspace on the store shares.

func testClassification(t *testing.T, newStore newFunc) {
	t.Run("BounceLinked", func(t *testing.T) { testBounceLinked(t, newStore) })
	t.Run("AutomaticAnswer", func(t *testing.T) { testAutomaticAnswer(t, newStore) })
	t.Run("QuarantineAndRelease", func(t *testing.T) { testQuarantineAndRelease(t, newStore) })
	t.Run("SharedListsAndCounters", func(t *testing.T) { testSharedListsAndCounters(t, newStore) })
}

// bounceOf is a Postfix bounce returning the header of our email id.
func bounceOf(id string) string {
	return "Return-Path: <>\r\nFrom: MAILER-DAEMON@mail.shop.example (Mail Delivery System)\r\nTo: " + deskMailbox + "\r\n" +
		"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <bounce-" + id + "@mail.shop.example>\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n" +
		"--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nYour message could not be delivered.\r\n" +
		"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mail.shop.example\r\n\r\n" +
		"Final-Recipient: rfc822; helene@exemple.fr\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 boîte inconnue\r\n" +
		"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: " + deskMailbox + "\r\nMessage-ID: <" + id + ">\r\nSubject: Re: Commande\r\n--B--\r\n"
}

// reply has ann answer in and send it; it returns the outbound and its
// Message-ID.
func (d *desk) reply(t *testing.T, in *interaction.Interaction) (*interaction.Interaction, string) {
	t.Helper()
	r, err := d.ws.As("ann").Reply(t.Context(), in.ID)
	require.NoError(t, err)
	return r.Interaction, d.send(t, r.ID)
}

func testBounceLinked(t *testing.T, newStore newFunc) {
	d := newDesk(t, newStore, nil)
	in := d.handled(t, "bounce-1")
	out, mid := d.reply(t, in)
	before := len(d.inbounds(t))
	raw := bounceOf(mid)
	it := d.ingest(t, raw)
	assert.Equal(t, out.ID, it.ID, "on the reply it reports on")
	assert.Equal(t, interaction.StateFailed, it.State)
	assert.Len(t, d.inbounds(t), before, "no interaction for it")
	var e *emailflow.Email
	for _, x := range d.emails(t, out.ID) {
		if string(x.Raw) == raw {
			e = x
		}
	}
	require.NotNil(t, e, "findable on the reply, whole")
	assert.True(t, e.IsBounce())
	require.NotNil(t, e.Report)
	assert.Equal(t, []compose.RecipientStatus{{Recipient: "helene@exemple.fr", Action: compose.ActionFailed, Status: "5.1.1", Diagnostic: "550 5.1.1 boîte inconnue"}}, e.Report.Recipients)
	assert.Equal(t, compose.ReturnedHeaders, e.Report.Returned)
	assert.Contains(t, historyDetails(t, d, out.ID, string(interaction.EventBounce)), "helene@exemple.fr: failed 5.1.1")
	draft, err := draftEmail(d.ws.As("ann").Draft(t.Context(), out.ID))
	require.NoError(t, err)
	assert.Equal(t, emailflow.Outbound, draft.Direction, "the draft is the reply, not its report")
}

func testAutomaticAnswer(t *testing.T, newStore newFunc) {
	d := newDesk(t, newStore, nil)
	in := d.handled(t, "ooo-1")
	_, mid := d.reply(t, in)
	raw := "From: Hélène Dupont <helene@exemple.fr>\r\nTo: " + deskMailbox + "\r\nSubject: Absente\r\nMessage-ID: <ooo@exemple.fr>\r\n" +
		"In-Reply-To: <" + mid + ">\r\nAuto-Submitted: auto-replied (vacation)\r\n\r\nJe suis absente.\r\n"
	it := d.ingest(t, raw)
	assert.Equal(t, in.ID, it.ID)
	assert.Equal(t, interaction.StateHandling, it.State)
	got := d.stored(t, raw)
	require.Len(t, got, 1)
	assert.True(t, got[0].Automatic)
	assert.Equal(t, "auto-reply", got[0].Auto)
	assert.NotEmpty(t, historyDetails(t, d, in.ID, "automatic"))
}

func testQuarantineAndRelease(t *testing.T, newStore newFunc) {
	ctx := t.Context()
	d := newDesk(t, newStore, &emailflow.Options{Filters: []emailflow.Filter{emailflow.FilterFunc(func(_ context.Context, m *emailflow.Incoming) (emailflow.Verdict, error) {
		if strings.Contains(m.Message.Subject, "Gagnant") {
			return emailflow.Verdict{Action: emailflow.VerdictQuarantine, Reason: "loterie", Score: 7.5, Scored: true, Filter: "maison"}, nil
		}
		return emailflow.Verdict{}, nil
	})}})
	require.NoError(t, d.ws.PutAgent(ctx, emailflow.Agent{ID: "sup", Queues: []string{"support"}, Roles: []emailflow.Role{emailflow.RoleSupervisor}}))
	raw := customerMail("Gagnant-1", "Loterie <win@lots.example>")
	it := d.ingest(t, raw)
	assert.Equal(t, interaction.StateQuarantined, it.State)
	got := d.stored(t, raw)
	require.Len(t, got, 1)
	require.NotNil(t, got[0].Verdict)
	assert.Equal(t, emailflow.Verdict{Action: emailflow.VerdictQuarantine, Reason: "loterie", Score: 7.5, Scored: true, Filter: "maison"}, *got[0].Verdict)
	list, err := d.ws.As("sup").Quarantine(ctx, "support")
	require.NoError(t, err)
	require.Len(t, list, 1)
	st, err := d.ws.As("sup").QueueStats(ctx, "support")
	require.NoError(t, err)
	assert.Equal(t, 1, st.Quarantined)
	assert.Zero(t, st.Waiting)

	rel, err := d.ws.As("sup").Release(ctx, it.ID)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateOffered, rel.State)
	assert.Equal(t, "ann", rel.OfferedTo)
	list, err = d.ws.As("sup").Quarantine(ctx, "support")
	require.NoError(t, err)
	assert.Empty(t, list)
}

// testSharedListsAndCounters runs two Workspaces on the store, as two
// processes would: a sender rule set through one applies in the other,
// and automated mail counts against one limit whichever takes it in.
func testSharedListsAndCounters(t *testing.T, newStore newFunc) {
	ctx := t.Context()
	opts := &emailflow.Options{AutoMailLimit: emailflow.RateLimit{Max: 3}}
	d := newDesk(t, newStore, opts)
	senderLists(t, d.store)
	rateCounters(t, d.store)
	o := *opts
	o.Hostname = deskHost
	o.Mailboxes = []emailflow.Mailbox{{Address: deskMailbox, Name: "Support", Queue: "support"}}
	other, err := emailflow.New(emailflow.Ports{Store: d.store, Sender: &transport.Sender{}, Directory: d.dir, Clock: d.clock}, &o)
	require.NoError(t, err)
	require.NoError(t, d.ws.PutAgent(ctx, emailflow.Agent{ID: "sup", Queues: []string{"support"}, Roles: []emailflow.Role{emailflow.RoleSupervisor}}))

	_, err = d.ws.As("sup").PutSenderRule(ctx, emailflow.SenderRule{Pattern: "spam.example", Action: emailflow.ListReject})
	require.NoError(t, err)
	_, err = other.Ingest(ctx, deskMailbox, strings.NewReader(customerMail("rejected", "x@spam.example")))
	assert.ErrorIs(t, err, emailflow.ErrRejected, "the rule set through one Workspace")
	rules, err := other.As("sup").SenderRules(ctx, 0, 0)
	require.NoError(t, err)
	assert.Len(t, rules, 1)

	var states []interaction.State
	for i, ws := range []*emailflow.Workspace{d.ws, other, d.ws, other} {
		raw := customerMail("auto-"+string(rune('a'+i)), "robot@auto.example", "Auto-Submitted: auto-generated\r\n")
		it, err := ws.Ingest(ctx, deskMailbox, strings.NewReader(raw))
		require.NoError(t, err)
		states = append(states, it.State)
		assert.Len(t, d.stored(t, raw), 1, "findable")
	}
	assert.Equal(t, interaction.StateQuarantined, states[3], "the fourth, beyond a limit of three counted by both")
	for _, s := range states[:3] {
		assert.NotEqual(t, interaction.StateQuarantined, s)
	}
}
