package emailflow_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/contact"
	"github.com/emailflow/emailflow/interaction"
)

// The samples of compose/testdata/automated report on, or answer, the
// message with this Message-ID: the tests put their own email's in its
// place.
const sampleID = "ef.t1.sampleoriginal0000@desk.boutique.example"

// sample reads a sample of compose/testdata/automated, about the email
// whose Message-ID is id ("" keeps the sample's).
func sample(t testing.TB, name, id string) []byte {
	t.Helper()
	raw := readFile(t, "compose/testdata/automated/"+name)
	if id != "" {
		raw = bytes.ReplaceAll(raw, []byte(sampleID), []byte(id))
	}
	return raw
}

// sentReply has agent take the French order and send a reply; it returns
// the inbound, the outbound and the reply's Message-ID.
func (f *fixture) sentReply(t testing.TB, agent string) (inbound, outbound, messageID string) {
	t.Helper()
	ctx := context.Background()
	inbound = f.handled(t, agent)
	r, err := f.ws.As(agent).Reply(ctx, inbound)
	require.NoError(t, err)
	o, err := f.ws.As(agent).Send(ctx, r.ID, nil)
	require.NoError(t, err)
	require.Equal(t, interaction.StateSent, o.State)
	d, err := f.ws.As(admin).Emails(ctx, r.ID)
	require.NoError(t, err)
	require.Len(t, d, 1)
	return inbound, r.ID, d[0].MessageID
}

// findable asserts that nothing was lost: the message is stored whole on
// interaction id (delivered, linked or quarantined there), and returns
// the email holding it.
func (f *fixture) findable(t testing.TB, id string, raw []byte) *emailflow.Email {
	t.Helper()
	emails, err := f.ws.As(admin).Emails(context.Background(), id)
	require.NoError(t, err)
	for _, e := range emails {
		if bytes.Equal(e.Raw, raw) {
			return e
		}
	}
	require.Failf(t, "message lost", "no email of interaction %s holds the message taken in", id)
	return nil
}

// interactions returns every interaction, as the admin sees them.
func (f *fixture) interactions(t testing.TB) []*interaction.Interaction {
	t.Helper()
	its, err := f.ws.As(admin).Interactions(context.Background(), emailflow.Query{})
	require.NoError(t, err)
	return its
}

// eventsOf returns the events of type typ, oldest first.
func (f *fixture) eventsOf(t testing.TB, typ emailflow.EventType) []emailflow.Event {
	t.Helper()
	evs, err := f.ws.As(admin).Events(context.Background(), 0, 100_000)
	require.NoError(t, err)
	var out []emailflow.Event
	for _, e := range evs {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// lastEntry returns the latest history entry of it with action.
func lastEntry(it *interaction.Interaction, action string) (interaction.Entry, bool) {
	for i := len(it.History) - 1; i >= 0; i-- {
		if it.History[i].Action == action {
			return it.History[i], true
		}
	}
	return interaction.Entry{}, false
}

// A bounce of one of our replies, in each shape the servers write them,
// is linked to the reply: the reply fails back to its agent with the
// report's status and diagnostic, the agent hears of it, the conversation
// shows it, no interaction is offered for it, no contact is made for the
// mailer daemon, and the report is found on the reply.
func TestBounceLinkedToOurEmail(t *testing.T) {
	tests := []struct {
		file   string
		status string // in the history and the event
	}{
		{"postfix-headers.eml", "helene.dupre@exemple.fr: failed 5.1.1 (550 5.1.1 <helene.dupre@exemple.fr>: Recipient address rejected: User unknown in virtual mailbox table)"},
		{"exchange-ndr.eml", "marc.dupre@exemple.fr: failed 5.1.10 (550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup)"},
		{"gmail-bounce.eml", "helene.dupre@exemple.fr: failed 5.1.1 (550 5.1.1 <helene.dupre@exemple.fr>: Recipient address rejected: User unknown)"},
		{"exim-bounce.eml", "helene.dupre@exemple.fr: failed 5.0.0 (550 5.2.2 <helene.dupre@exemple.fr>: Mailbox full)"},
		{"exim-text.eml", "helene.dupre@exemple.fr: failed 5.1.1"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, nil)
			f.agent(t, "alice")
			f.agent(t, "bruno") // ready: nothing must be offered to him
			f.agent(t, "sophie", emailflow.RoleSupervisor)
			require.NoError(t, f.ws.As("sophie").SetStatus(ctx, emailflow.StatusNotReady))
			inbound, outbound, msgID := f.sentReply(t, "alice")
			before := len(f.interactions(t))
			raw := sample(t, tt.file, msgID)

			it, err := f.ws.Ingest(ctx, support, bytes.NewReader(raw))
			require.NoError(t, err)
			assert.Equal(t, outbound, it.ID, "Ingest returns the reply it is about")
			assert.Equal(t, interaction.StateFailed, it.State)
			assert.Len(t, f.interactions(t), before, "no interaction for a bounce of ours")

			e := f.findable(t, outbound, raw)
			assert.True(t, e.IsBounce())
			assert.Equal(t, string(compose.AutoBounce), e.Auto)
			require.NotNil(t, e.Report)
			assert.True(t, e.Report.Failed())
			assert.Equal(t, msgID, e.Report.OriginalMessageID)
			draft, err := f.ws.As(admin).Emails(ctx, outbound)
			require.NoError(t, err)
			assert.Equal(t, draft[0].ID, e.BounceOf, "the report names the reply's email")

			o, err := f.ws.As("alice").Interaction(ctx, outbound)
			require.NoError(t, err)
			last := o.History[len(o.History)-1]
			assert.Equal(t, string(interaction.EventBounce), last.Action)
			assert.Equal(t, interaction.StateSent, last.From)
			assert.Contains(t, last.Detail, tt.status)
			evs := f.eventsOf(t, emailflow.EventBounced)
			require.Len(t, evs, 1)
			assert.Equal(t, "alice", evs[0].Agent, "its author hears of it")
			assert.Equal(t, outbound, evs[0].InteractionID)
			assert.Contains(t, evs[0].Detail, tt.status)
			in, err := f.ws.As("alice").Interaction(ctx, inbound)
			require.NoError(t, err)
			entry, ok := lastEntry(in, string(emailflow.EventBounced))
			require.True(t, ok, "the conversation shows the bounce")
			assert.Contains(t, entry.Detail, outbound)
			assert.Equal(t, interaction.StateHandling, in.State)

			found, err := f.ws.SearchContacts(ctx, "daemon", contactPage)
			require.NoError(t, err)
			assert.Zero(t, found.Total, "no contact for a mailer daemon")
			st, err := f.ws.As("sophie").QueueStats(ctx, "support-fr")
			require.NoError(t, err)
			assert.Equal(t, 1, st.Bounced)

			// The agent mends the address and sends again: the draft is
			// the reply, not the report.
			require.NoError(t, errOf(f.ws.As("alice").ReplaceDraft(ctx, outbound, emailflow.DraftContent{To: draft[0].To, Subject: draft[0].Subject, Text: "Bonjour"})))
			d, err := draftEmail(f.ws.As("alice").Draft(ctx, outbound))
			require.NoError(t, err)
			assert.Equal(t, emailflow.Outbound, d.Direction)

			// Taken in again (relayed twice): the same one, no second event.
			again, err := f.ws.Ingest(ctx, support, bytes.NewReader(raw))
			require.NoError(t, err)
			assert.Equal(t, outbound, again.ID)
			assert.Len(t, f.eventsOf(t, emailflow.EventBounced), 1)
		})
	}
}

// A delay warning is recorded on the reply, which stays sent; its agent
// hears of it.
func TestDelayedReportRecorded(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	_, outbound, msgID := f.sentReply(t, "alice")
	raw := sample(t, "postfix-delayed.eml", msgID)
	it, err := f.ws.Ingest(ctx, support, bytes.NewReader(raw))
	require.NoError(t, err)
	assert.Equal(t, outbound, it.ID)
	assert.Equal(t, interaction.StateSent, it.State, "a delay fails nothing")
	e := f.findable(t, outbound, raw)
	assert.True(t, e.Report.Delayed())
	entry, ok := lastEntry(it, "delivery-delayed")
	require.True(t, ok)
	assert.Contains(t, entry.Detail, "helene.dupre@exemple.fr: delayed 4.4.1")
	evs := f.eventsOf(t, emailflow.EventDelayed)
	require.Len(t, evs, 1)
	assert.Equal(t, "alice", evs[0].Agent)
	assert.Empty(t, f.eventsOf(t, emailflow.EventBounced))
}

// When the conversation the bounced reply answered is done, the
// supervisors of its queue hear of it; a bounced acknowledgement (the
// customer's address is wrong) goes to them too while nobody owns the
// mail.
func TestBounceAfterTheConversationIsDone(t *testing.T) {
	ctx := context.Background()
	t.Run("reply", func(t *testing.T) {
		f := newFixture(t, &emailflow.Options{CompleteOnReply: true})
		f.agent(t, "alice")
		f.agent(t, "sophie", emailflow.RoleSupervisor)
		inbound, outbound, msgID := f.sentReply(t, "alice")
		in, err := f.ws.As(admin).Interaction(ctx, inbound)
		require.NoError(t, err)
		require.Equal(t, interaction.StateDone, in.State)
		raw := sample(t, "gmail-bounce.eml", msgID)
		it, err := f.ws.Ingest(ctx, support, bytes.NewReader(raw))
		require.NoError(t, err)
		assert.Equal(t, interaction.StateFailed, it.State)
		evs := f.eventsOf(t, emailflow.EventBounced)
		require.Len(t, evs, 1)
		assert.Equal(t, "sophie", evs[0].Agent)
		f.findable(t, outbound, raw)
		sophies, err := f.ws.As("sophie").Events(ctx, 0, 100)
		require.NoError(t, err)
		assert.True(t, containsEvent(sophies, emailflow.EventBounced), "the supervisor reads it in their own events")
	})
	t.Run("acknowledgement", func(t *testing.T) {
		f := newFixture(t, &emailflow.Options{AutoAcknowledge: &compose.Template{Text: "Bien reçu."}})
		f.agent(t, "sophie", emailflow.RoleSupervisor)
		require.NoError(t, f.ws.As("sophie").SetStatus(ctx, emailflow.StatusNotReady))
		inbound := f.ingest(t, readFile(t, "testdata/french-order.eml"))
		acks, err := f.ws.As(admin).Interactions(ctx, emailflow.Query{Kind: interaction.KindOutbound})
		require.NoError(t, err)
		require.Len(t, acks, 1)
		sent := f.sender.Sent()
		require.Len(t, sent, 1)
		ack, err := compose.Parse(bytes.NewReader(sent[0].Raw), nil)
		require.NoError(t, err)
		raw := sample(t, "postfix-headers.eml", ack.MessageID)
		it, err := f.ws.Ingest(ctx, support, bytes.NewReader(raw))
		require.NoError(t, err)
		assert.Equal(t, acks[0].ID, it.ID)
		assert.Equal(t, interaction.StateFailed, it.State)
		evs := f.eventsOf(t, emailflow.EventBounced)
		require.Len(t, evs, 1)
		assert.Equal(t, "sophie", evs[0].Agent)
		f.findable(t, acks[0].ID, raw)
		in, err := f.ws.As(admin).Interaction(ctx, inbound)
		require.NoError(t, err)
		assert.Equal(t, interaction.StateQueued, in.State, "the customer's email still waits")
		_, ok := lastEntry(in, string(emailflow.EventBounced))
		assert.True(t, ok)
	})
}

func containsEvent(evs []emailflow.Event, typ emailflow.EventType) bool {
	for _, e := range evs {
		if e.Type == typ {
			return true
		}
	}
	return false
}

var contactPage = contact.Page{Limit: 10}

// A bounce that names nothing of ours (the RFC 3464 examples of the
// enmime fixtures) goes to Options.BounceQueue as an interaction of its
// own, without a contact and without an acknowledgement.
func TestBounceOfNothingOfOurs(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"simple_dsn.raw", "simple_dsn_with_html.raw", "multi_recipient_dsn.raw", "delayed_dsn.raw", "dsn_with_multipart_alternative.raw"} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, &emailflow.Options{BounceQueue: "postmaster", AutoAcknowledge: &compose.Template{Text: "Bien reçu."}})
			f.agent(t, "alice")
			f.agent(t, "sophie", emailflow.RoleSupervisor)
			raw := readFile(t, "compose/testdata/enmime-dsn/"+name)
			it, err := f.ws.Ingest(ctx, support, bytes.NewReader(raw))
			require.NoError(t, err)
			assert.Equal(t, "postmaster", it.Queue)
			assert.Equal(t, interaction.StateQueued, it.State, "nobody serves it: it waits")
			assert.Empty(t, it.ContactID, "never a customer's contact")
			assert.Empty(t, f.sender.Sent(), "no acknowledgement")
			e := f.findable(t, it.ID, raw)
			assert.False(t, e.IsBounce(), "it names none of our emails")
			require.NotNil(t, e.Report)
			st, err := f.ws.As("sophie").QueueStats(ctx, "postmaster")
			require.NoError(t, err)
			assert.Equal(t, 1, st.Waiting)
		})
	}
	t.Run("default queue", func(t *testing.T) {
		f := newFixture(t, nil)
		raw := readFile(t, "compose/testdata/enmime-dsn/simple_dsn.raw")
		it, err := f.ws.Ingest(ctx, support, bytes.NewReader(raw))
		require.NoError(t, err)
		assert.Equal(t, "support-fr", it.Queue)
		assert.Empty(t, it.ContactID)
		f.findable(t, it.ID, raw)
	})
}

// A message with a null reverse path that returns another message is a
// bounce even without a report part, when only the envelope says so.
func TestNullSenderBounce(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	_, outbound, msgID := f.sentReply(t, "alice")
	raw := []byte("From: Relay <relay@mx.exemple.fr>\r\nTo: support@boutique.example\r\nSubject: Not delivered\r\nMessage-ID: <nd-1@mx.exemple.fr>\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n" +
		"--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: support@boutique.example\r\nMessage-ID: <" + msgID + ">\r\nSubject: Re: x\r\n\r\nBonjour\r\n--b--\r\n")
	it, err := f.ws.Ingest(ctx, support, &envelopeReader{Reader: bytes.NewReader(raw), env: emailflow.Envelope{From: "", To: []string{support}}})
	require.NoError(t, err)
	assert.Equal(t, outbound, it.ID)
	assert.Equal(t, interaction.StateFailed, it.State)
	e := f.findable(t, outbound, raw)
	assert.Equal(t, "", e.Envelope.From)

	// The same message with a sender is a person's forward.
	raw2 := bytes.Replace(raw, []byte("nd-1@"), []byte("nd-2@"), 1)
	it, err = f.ws.Ingest(ctx, support, &envelopeReader{Reader: bytes.NewReader(raw2), env: emailflow.Envelope{From: "relay@mx.exemple.fr", To: []string{support}}})
	require.NoError(t, err)
	assert.Equal(t, interaction.KindInbound, it.Kind)
	f.findable(t, it.ID, raw2)
}

// envelopeReader is a message with its SMTP envelope, as the SMTP server
// hands them to Ingest.
type envelopeReader struct {
	*bytes.Reader
	env emailflow.Envelope
}

func (r *envelopeReader) Envelope() emailflow.Envelope { return r.env }

// Out-of-office answers to our reply (Outlook, Gmail, Thunderbird) are
// kept on the conversation as automatic: a done conversation stays done,
// nothing is offered, the owner hears of it; on an open one, Reply still
// answers the customer's email.
func TestOutOfOfficeKeptOnTheConversation(t *testing.T) {
	for _, file := range []string{"outlook-ooo.eml", "gmail-vacation.eml", "thunderbird-template.eml"} {
		t.Run(file, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, &emailflow.Options{CompleteOnReply: true})
			f.agent(t, "alice")
			f.agent(t, "bruno")
			inbound, _, msgID := f.sentReply(t, "alice")
			before := len(f.interactions(t))
			raw := sample(t, file, msgID)

			it, err := f.ws.Ingest(ctx, support, bytes.NewReader(raw))
			require.NoError(t, err)
			assert.Equal(t, inbound, it.ID)
			assert.Equal(t, interaction.StateDone, it.State, "not reopened")
			assert.Len(t, f.interactions(t), before, "no new interaction")
			e := f.findable(t, inbound, raw)
			assert.True(t, e.Automatic)
			assert.Equal(t, string(compose.AutoReply), e.Auto)
			entry, ok := lastEntry(it, "automatic")
			require.True(t, ok, "visible in its history")
			assert.Contains(t, entry.Detail, e.ID)
			evs := f.eventsOf(t, emailflow.EventAutoReply)
			require.Len(t, evs, 1)
			assert.Equal(t, "alice", evs[0].Agent)
			assert.Len(t, f.eventsOf(t, emailflow.EventOffered), 1, "offered once: the customer's email")
		})
	}
	t.Run("open conversation", func(t *testing.T) {
		ctx := context.Background()
		f := newFixture(t, nil)
		f.agent(t, "alice")
		inbound, _, msgID := f.sentReply(t, "alice")
		raw := sample(t, "outlook-ooo.eml", msgID)
		it, err := f.ws.Ingest(ctx, support, bytes.NewReader(raw))
		require.NoError(t, err)
		assert.Equal(t, inbound, it.ID)
		assert.Equal(t, interaction.StateHandling, it.State)
		f.findable(t, inbound, raw)
		r, err := f.ws.As("alice").Reply(ctx, inbound)
		require.NoError(t, err)
		d, err := draftEmail(f.ws.As("alice").Draft(ctx, r.ID))
		require.NoError(t, err)
		assert.Equal(t, []string{"CAF3x9-helene-2291@mail.exemple.fr"}, d.InReplyTo, "the reply answers the customer, not the out-of-office")
	})
	t.Run("as mail", func(t *testing.T) {
		ctx := context.Background()
		f := newFixture(t, &emailflow.Options{CompleteOnReply: true, AutoRepliesAsMail: true})
		f.agent(t, "alice")
		inbound, _, msgID := f.sentReply(t, "alice")
		raw := sample(t, "gmail-vacation.eml", msgID)
		it, err := f.ws.Ingest(ctx, support, bytes.NewReader(raw))
		require.NoError(t, err)
		assert.NotEqual(t, inbound, it.ID, "a new inbound in the thread, as the host asked")
		assert.Equal(t, interaction.StateOffered, it.State)
		e := f.findable(t, it.ID, raw)
		assert.False(t, e.Automatic)
	})
}

// spamFixture has agent alice serving support-fr, supervisor sophie, and
// an UpstreamFilter trusting the relay 192.0.2.25.
func spamFixture(t *testing.T, extra ...emailflow.Filter) *fixture {
	t.Helper()
	up, err := emailflow.NewUpstreamFilter(&emailflow.UpstreamOptions{Trusted: []string{"192.0.2.25"}})
	require.NoError(t, err)
	f := newFixture(t, &emailflow.Options{Filters: append([]emailflow.Filter{up}, extra...), AutoAcknowledge: &compose.Template{Text: "Bien reçu."}})
	f.agent(t, "alice")
	f.agent(t, "sophie", emailflow.RoleSupervisor)
	require.NoError(t, f.ws.As("sophie").SetStatus(context.Background(), emailflow.StatusNotReady))
	return f
}

// SpamAssassin's verdict is believed from a trusted relay: the mail is
// quarantined (never offered, no contact, no acknowledgement), its
// supervisors hear of it and see it in QueueStats; a supervisor releases
// it (routed as other mail) or deletes it. The same fields from an
// unknown host are not believed.
func TestSpamVerdictFromATrustedRelay(t *testing.T) {
	ctx := context.Background()
	f := spamFixture(t)
	raw := sample(t, "spam-trusted.eml", "")
	it, err := f.ws.Ingest(ctx, support, bytes.NewReader(raw))
	require.NoError(t, err)
	assert.Equal(t, interaction.StateQuarantined, it.State)
	assert.Equal(t, "support-fr", it.Queue, "in the quarantine of the queue it would have gone to")
	assert.Empty(t, it.OfferedTo)
	assert.Empty(t, it.ContactID, "no contact for quarantined mail")
	assert.Empty(t, f.sender.Sent(), "no acknowledgement")
	reason, _ := it.CaseData.Get(emailflow.CaseQuarantine)
	assert.Equal(t, "upstream: marked as spam by SpamAssassin (score 9.7, required 5)", reason)
	e := f.findable(t, it.ID, raw)
	require.NotNil(t, e.Verdict)
	assert.Equal(t, emailflow.Verdict{Action: emailflow.VerdictQuarantine, Reason: "marked as spam by SpamAssassin (score 9.7, required 5)", Score: 9.7, Scored: true, Filter: "upstream"}, *e.Verdict)
	evs := f.eventsOf(t, emailflow.EventQuarantined)
	require.Len(t, evs, 1)
	assert.Equal(t, "sophie", evs[0].Agent)
	st, err := f.ws.As("sophie").QueueStats(ctx, "support-fr")
	require.NoError(t, err)
	assert.Equal(t, 1, st.Quarantined)
	assert.Zero(t, st.Waiting)
	list, err := f.ws.As("sophie").Quarantine(ctx, "support-fr")
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, it.ID, list[0].ID)
	_, err = f.ws.As("alice").Quarantine(ctx, "support-fr")
	assert.ErrorIs(t, err, emailflow.ErrForbidden, "agents do not review the quarantine")
	_, err = f.ws.As("alice").Release(ctx, it.ID)
	assert.ErrorIs(t, err, emailflow.ErrForbidden)
	_, err = f.ws.As("alice").Pull(ctx, "support-fr")
	assert.Error(t, err, "quarantined mail is not pulled")

	out, err := f.ws.As("sophie").Release(ctx, it.ID)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateOffered, out.State, "routed as other mail")
	assert.Equal(t, "alice", out.OfferedTo)
	assert.NotEmpty(t, out.ContactID, "its sender is identified once it is released")
	assert.Len(t, f.eventsOf(t, emailflow.EventReleased), 1)
	_, err = f.ws.As("sophie").Release(ctx, it.ID)
	assert.ErrorIs(t, err, emailflow.ErrInvalidTransition)
	st, err = f.ws.As("sophie").QueueStats(ctx, "support-fr")
	require.NoError(t, err)
	assert.Zero(t, st.Quarantined)

	// A second one is deleted.
	raw2 := bytes.Replace(raw, []byte("win-1795684890@"), []byte("win-2@"), 1)
	it2, err := f.ws.Ingest(ctx, support, bytes.NewReader(raw2))
	require.NoError(t, err)
	require.Equal(t, interaction.StateQuarantined, it2.State)
	require.NoError(t, f.ws.As("sophie").Delete(ctx, it2.ID))
	gone, err := f.ws.As(admin).Interaction(ctx, it2.ID)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateDeleted, gone.State)
	f.findable(t, it2.ID, raw2) // deleted by a supervisor's decision, not lost

	t.Run("untrusted relay", func(t *testing.T) {
		f := spamFixture(t)
		raw := sample(t, "spam-untrusted.eml", "")
		it, err := f.ws.Ingest(ctx, support, bytes.NewReader(raw))
		require.NoError(t, err)
		assert.Equal(t, interaction.StateOffered, it.State, "a verdict anyone could write is not believed")
		e := f.findable(t, it.ID, raw)
		assert.Nil(t, e.Verdict)
	})
}

// The sender lists: a rule for an address or a domain (its subdomains
// too) rejects, quarantines or allows; the most specific applies; an
// allowed sender skips the filters. Rules need PrivilegeFilter and are
// checked.
func TestSenderLists(t *testing.T) {
	ctx := context.Background()
	quarantineAll := emailflow.FilterFunc(func(context.Context, *emailflow.Incoming) (emailflow.Verdict, error) {
		return emailflow.Verdict{Action: emailflow.VerdictQuarantine, Reason: "everything", Filter: "strict"}, nil
	})
	f := spamFixture(t, quarantineAll)
	put := func(pattern string, a emailflow.ListAction) {
		t.Helper()
		_, err := f.ws.As("sophie").PutSenderRule(ctx, emailflow.SenderRule{Pattern: pattern, Action: a, Note: "test"})
		require.NoError(t, err)
	}
	put("deals.example.net", emailflow.ListReject)
	put("Boss@Deals.Example.NET", emailflow.ListAllow)
	put("exemple.fr", emailflow.ListAllow)
	put("spam.exemple.fr", emailflow.ListQuarantine)

	before := len(f.interactions(t))
	_, err := f.ws.Ingest(ctx, support, bytes.NewReader(followUpFrom("r1", "promo@mx.deals.example.net", support)))
	assert.ErrorIs(t, err, emailflow.ErrRejected, "a subdomain of a rejected domain")
	assert.ErrorContains(t, err, "deals.example.net")
	assert.Len(t, f.interactions(t), before, "nothing stored")

	raw := followUpFrom("r2", "boss@deals.example.net", support)
	it, err := f.ws.Ingest(ctx, support, bytes.NewReader(raw))
	require.NoError(t, err)
	assert.Equal(t, interaction.StateOffered, it.State, "the address is more specific than its domain, and allowed: the strict filter is not asked")
	e := f.findable(t, it.ID, raw)
	require.NotNil(t, e.Verdict)
	assert.Equal(t, emailflow.VerdictDeliver, e.Verdict.Action)
	assert.Equal(t, "sender-list", e.Verdict.Filter)

	raw = followUpFrom("r3", "x@spam.exemple.fr", support)
	it, err = f.ws.Ingest(ctx, support, bytes.NewReader(raw))
	require.NoError(t, err)
	assert.Equal(t, interaction.StateQuarantined, it.State)
	f.findable(t, it.ID, raw)

	raw = followUpFrom("r4", "y@other.example", support)
	it, err = f.ws.Ingest(ctx, support, bytes.NewReader(raw))
	require.NoError(t, err)
	assert.Equal(t, interaction.StateQuarantined, it.State, "no rule: the host's filter decides")
	reason, _ := it.CaseData.Get(emailflow.CaseQuarantine)
	assert.Equal(t, "strict: everything", reason)

	rules, err := f.ws.As("sophie").SenderRules(ctx, 0, 0)
	require.NoError(t, err)
	var patterns []string
	for _, r := range rules {
		patterns = append(patterns, r.Pattern)
		assert.Equal(t, "sophie", r.By)
	}
	assert.Equal(t, []string{"boss@deals.example.net", "deals.example.net", "exemple.fr", "spam.exemple.fr"}, patterns)
	page, err := f.ws.As("sophie").SenderRules(ctx, 1, 2)
	require.NoError(t, err)
	require.Len(t, page, 2)
	assert.Equal(t, "deals.example.net", page[0].Pattern)

	// Edited at run time: the rejected domain is lifted.
	require.NoError(t, f.ws.As("sophie").DeleteSenderRule(ctx, "DEALS.example.net"))
	it, err = f.ws.Ingest(ctx, support, bytes.NewReader(followUpFrom("r5", "promo@deals.example.net", support)))
	require.NoError(t, err)
	assert.Equal(t, interaction.StateQuarantined, it.State)
	assert.ErrorIs(t, f.ws.As("sophie").DeleteSenderRule(ctx, "deals.example.net"), emailflow.ErrNotFound)

	for _, bad := range []emailflow.SenderRule{
		{Pattern: "", Action: emailflow.ListAllow},
		{Pattern: "a b@x.example", Action: emailflow.ListAllow},
		{Pattern: "@x.example", Action: emailflow.ListAllow},
		{Pattern: "x..example", Action: emailflow.ListAllow},
		{Pattern: "a@b@c.example", Action: emailflow.ListAllow},
		{Pattern: "x.example", Action: "drop"},
	} {
		_, err := f.ws.As("sophie").PutSenderRule(ctx, bad)
		assert.ErrorIs(t, err, emailflow.ErrInvalidInput, "%+v", bad)
	}
	_, err = f.ws.As("sophie").PutSenderRule(ctx, emailflow.SenderRule{Pattern: "x.example", Action: emailflow.ListAllow, Note: strings.Repeat("n", 1<<20)})
	assert.ErrorIs(t, err, emailflow.ErrTooLarge)
	_, err = f.ws.As("alice").PutSenderRule(ctx, emailflow.SenderRule{Pattern: "x.example", Action: emailflow.ListAllow})
	assert.ErrorIs(t, err, emailflow.ErrForbidden)
	_, err = f.ws.As("alice").SenderRules(ctx, 0, 0)
	assert.ErrorIs(t, err, emailflow.ErrForbidden)
	rules, err = f.ws.As("sophie").SenderRules(ctx, 0, 0)
	require.NoError(t, err)
	assert.Len(t, rules, 3, "refusals changed nothing")
}

// The host's classifier plugs in as a FilterFunc: its verdict quarantines
// or rejects; one that fails is skipped with a warning, and the mail is
// taken in.
func TestHostClassifier(t *testing.T) {
	ctx := context.Background()
	classifier := emailflow.FilterFunc(func(_ context.Context, m *emailflow.Incoming) (emailflow.Verdict, error) {
		switch {
		case strings.Contains(m.Message.Subject, "crash"):
			return emailflow.Verdict{}, errors.New("model not loaded")
		case strings.Contains(m.Message.Text, "viagra"):
			return emailflow.Verdict{Action: emailflow.VerdictReject, Reason: "pharmacy spam", Score: 0.99, Scored: true}, nil
		case strings.Contains(m.Message.Text, "lottery"):
			return emailflow.Verdict{Action: emailflow.VerdictQuarantine, Reason: "lottery", Score: 0.8, Scored: true}, nil
		}
		return emailflow.Verdict{}, nil
	})
	f := newFixture(t, &emailflow.Options{Filters: []emailflow.Filter{classifier}})
	f.agent(t, "alice")
	mailWith := func(id, subject, text string) []byte {
		return []byte("From: x-" + id + "@exemple.fr\r\nTo: support@boutique.example\r\nSubject: " + subject + "\r\nMessage-ID: <" + id + "@exemple.fr>\r\n\r\n" + text + "\r\n")
	}
	_, err := f.ws.Ingest(ctx, support, bytes.NewReader(mailWith("h1", "offer", "cheap viagra")))
	assert.ErrorIs(t, err, emailflow.ErrRejected)
	assert.ErrorContains(t, err, "filter 1: pharmacy spam")

	raw := mailWith("h2", "news", "you won the lottery")
	it, err := f.ws.Ingest(ctx, support, bytes.NewReader(raw))
	require.NoError(t, err)
	assert.Equal(t, interaction.StateQuarantined, it.State)
	e := f.findable(t, it.ID, raw)
	assert.Equal(t, "filter 1", e.Verdict.Filter)
	assert.InDelta(t, 0.8, e.Verdict.Score, 1e-9)

	raw = mailWith("h3", "crash", "hello")
	it, err = f.ws.Ingest(ctx, support, bytes.NewReader(raw))
	require.NoError(t, err)
	assert.Equal(t, interaction.StateOffered, it.State, "a broken classifier does not stop the intake")
	e = f.findable(t, it.ID, raw)
	assert.Contains(t, e.Warnings, "filter 1 failed and was skipped: model not loaded")
}

// A hundred auto-replies in a minute from one sender: the first
// DefaultAutoMailLimit are taken in, the rest quarantined, every one
// findable; QueueStats and the event stream show the quarantine.
func TestAutoReplyFlood(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{AutoAcknowledge: &compose.Template{Text: "Bien reçu."}})
	f.agent(t, "sophie", emailflow.RoleSupervisor)
	require.NoError(t, f.ws.As("sophie").SetStatus(ctx, emailflow.StatusNotReady))
	states := map[interaction.State]int{}
	for i := range 100 {
		raw := []byte(fmt.Sprintf("From: robot@auto.example\r\nTo: support@boutique.example\r\nSubject: Re: ticket %d\r\nMessage-ID: <%d@auto.example>\r\nAuto-Submitted: auto-replied\r\n\r\nI am away.\r\n", i, i))
		it, err := f.ws.Ingest(ctx, support, bytes.NewReader(raw))
		require.NoError(t, err)
		f.findable(t, it.ID, raw)
		states[it.State]++
		f.clock.Advance(600 * time.Millisecond)
	}
	assert.Equal(t, map[interaction.State]int{interaction.StateQueued: emailflow.DefaultAutoMailLimit, interaction.StateQuarantined: 100 - emailflow.DefaultAutoMailLimit}, states)
	assert.Empty(t, f.sender.Sent(), "automated mail is never acknowledged")
	st, err := f.ws.As("sophie").QueueStats(ctx, "support-fr")
	require.NoError(t, err)
	assert.Equal(t, 100-emailflow.DefaultAutoMailLimit, st.Quarantined)
	assert.Len(t, f.eventsOf(t, emailflow.EventQuarantined), 100-emailflow.DefaultAutoMailLimit)
	q, err := f.ws.As("sophie").Quarantine(ctx, "support-fr")
	require.NoError(t, err)
	require.NotEmpty(t, q)
	reason, _ := q[0].CaseData.Get(emailflow.CaseQuarantine)
	assert.Contains(t, reason, "robot@auto.example")

	// An hour later the sender is counted afresh; another sender was
	// never held up.
	f.clock.Advance(time.Hour)
	it, err := f.ws.Ingest(ctx, support, bytes.NewReader([]byte("From: robot@auto.example\r\nTo: support@boutique.example\r\nSubject: later\r\nMessage-ID: <later@auto.example>\r\nAuto-Submitted: auto-replied\r\n\r\nback\r\n")))
	require.NoError(t, err)
	assert.Equal(t, interaction.StateQueued, it.State)

	// Tick deletes the counters no limit needs any more (the store's
	// counter of the first hour, under the key the Workspace counts by).
	first := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	counted := func() int {
		var n int
		require.NoError(t, f.store.Update(ctx, func(tx emailflow.Tx) error {
			var err error
			n, err = tx.(emailflow.RateTx).CountRate(ctx, "auto-mail robot@auto.example", first, 0)
			return err
		}))
		return n
	}
	require.Equal(t, 100, counted())
	f.clock.Advance(2 * time.Hour)
	_, err = f.ws.Runner(nil).Tick(ctx)
	require.NoError(t, err)
	assert.Zero(t, counted())
}

// An auto-responder that answers each acknowledgement with new mail
// (without marking it automated) gets at most DefaultAckLimit
// acknowledgements an hour; our acknowledgements carry our X-Loop, and
// mail that comes back with it is quarantined, never taken as new mail.
func TestLoopsBroken(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{AutoAcknowledge: &compose.Template{Text: "Bien reçu."}})
	for i := range 8 {
		f.ingest(t, followUpFrom(fmt.Sprintf("loop%d", i), "robot@responder.example", support))
	}
	sent := f.sender.Sent()
	assert.Len(t, sent, emailflow.DefaultAckLimit)
	its, err := f.ws.As(admin).Interactions(ctx, emailflow.Query{Kind: interaction.KindInbound})
	require.NoError(t, err)
	skipped := 0
	for _, it := range its {
		if _, ok := lastEntry(it, "ack-skipped"); ok {
			skipped++
		}
	}
	assert.Equal(t, 8-emailflow.DefaultAckLimit, skipped)

	ack, err := compose.Parse(bytes.NewReader(sent[0].Raw), nil)
	require.NoError(t, err)
	assert.Equal(t, support, ack.Header.Get("X-Loop"))
	// The responder sends our acknowledgement back as new mail, keeping
	// the field.
	back := []byte("From: robot@responder.example\r\nTo: support@boutique.example\r\nSubject: Fwd: " + ack.Subject + "\r\nMessage-ID: <back@responder.example>\r\nX-Loop: " + support + "\r\n\r\nBien reçu.\r\n")
	it, err := f.ws.Ingest(ctx, support, bytes.NewReader(back))
	require.NoError(t, err)
	assert.Equal(t, interaction.StateQuarantined, it.State)
	reason, _ := it.CaseData.Get(emailflow.CaseQuarantine)
	assert.Contains(t, reason, "X-Loop")
	f.findable(t, it.ID, back)
	assert.Len(t, f.sender.Sent(), emailflow.DefaultAckLimit, "no acknowledgement to it")

	// Our own email, come back whole, is no new mail either.
	own, err := f.ws.Ingest(ctx, support, bytes.NewReader(sent[0].Raw))
	require.NoError(t, err)
	assert.Equal(t, interaction.KindOutbound, own.Kind)
}

// No contact is made for mailer daemons, noreply senders or quarantined
// mail, unless the host's rules say so; NoContactCreation still says
// never.
func TestContactRules(t *testing.T) {
	ctx := context.Background()
	mail := func(id, from string) []byte {
		return []byte("From: Someone <" + from + ">\r\nTo: support@boutique.example\r\nSubject: s " + id + "\r\nMessage-ID: <" + id + "@x.example>\r\n\r\nhello\r\n")
	}
	tests := []struct {
		name   string
		opts   emailflow.Options
		from   string
		create bool
	}{
		{"a customer", emailflow.Options{}, "helene@exemple.fr", true},
		{"noreply", emailflow.Options{}, "noreply@shop.example", false},
		{"no-reply with a tag", emailflow.Options{}, "No-Reply-Orders@shop.example", false},
		{"donotreply", emailflow.Options{}, "DoNotReply@bank.example", false},
		{"postmaster", emailflow.Options{}, "postmaster@x.example", false},
		{"the host wants noreply senders", emailflow.Options{ContactRules: append([]emailflow.ContactRule{{Sender: "noreply@shop.example", Create: true}}, emailflow.DefaultContactRules...)}, "noreply@shop.example", true},
		{"the host wants none for a domain", emailflow.Options{ContactRules: []emailflow.ContactRule{{Sender: "*@notifications.example"}}}, "a@notifications.example", false},
		{"an empty list creates for everyone", emailflow.Options{ContactRules: []emailflow.ContactRule{}}, "noreply@shop.example", true},
		{"NoContactCreation", emailflow.Options{NoContactCreation: true}, "helene@exemple.fr", false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			f := newFixture(t, &opts)
			raw := mail(fmt.Sprint(i), tt.from)
			it, err := f.ws.Ingest(ctx, support, bytes.NewReader(raw))
			require.NoError(t, err)
			assert.Equal(t, tt.create, it.ContactID != "")
			f.findable(t, it.ID, raw)
		})
	}
	f := newFixture(t, nil)
	_, err := emailflow.New(emailflow.Ports{Store: f.store, Sender: f.sender}, &emailflow.Options{ContactRules: []emailflow.ContactRule{{Sender: "[a-"}}})
	assert.ErrorIs(t, err, emailflow.ErrInvalidInput)
}

// New refuses filters and limits it cannot use.
func TestClassifyOptionsChecked(t *testing.T) {
	f := newFixture(t, nil)
	for name, o := range map[string]emailflow.Options{
		"nil filter":        {Filters: []emailflow.Filter{nil}},
		"negative window":   {AutoMailLimit: emailflow.RateLimit{Max: 3, Per: -time.Minute}},
		"negative ack wait": {AckLimit: emailflow.RateLimit{Per: -1}},
	} {
		_, err := emailflow.New(emailflow.Ports{Store: f.store, Sender: f.sender}, &o)
		assert.ErrorIs(t, err, emailflow.ErrInvalidInput, name)
	}
	for name, o := range map[string]emailflow.UpstreamOptions{
		"not an address": {Trusted: []string{"mx.example"}},
		"scl too high":   {SCL: 10},
	} {
		_, err := emailflow.NewUpstreamFilter(&o)
		assert.ErrorIs(t, err, emailflow.ErrInvalidInput, name)
	}
}
