package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/contact"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/store/memory"
	"github.com/emailflow/emailflow/store/postgres"
)

// The views of a lifecycle read ahead what they know they will read
// (Ingest's emails by Message-ID and sender's contacts, Reply's agent and
// contact): these tests drive the public API on the memory store (no
// reads ahead, the reference) and on PostgreSQL, expect the same
// outcomes, and on PostgreSQL check that the reads went in one batch.

const aheadMailbox = "service@boutique.example"

// aheadDesk is a Workspace on one kind of store, with the trip counter
// of its pool when it is PostgreSQL (nil on memory).
type aheadDesk struct {
	ws    *emailflow.Workspace
	trips *tripCounter
}

// aheadStores are the stores the tests run on: memory, the reference,
// and PostgreSQL, which reads ahead.
var aheadStores = []struct {
	name string
	open func(t *testing.T, c *tripCounter) emailflow.Store
}{
	{"memory", func(*testing.T, *tripCounter) emailflow.Store { return memory.New(nil) }},
	{"postgres", func(t *testing.T, c *tripCounter) emailflow.Store { return tracedStore(t, c) }},
}

// newAheadDesk returns a desk on the store open makes, with agent alice
// ready and admin and sophie (a supervisor) registered. dir, when not
// nil, is the Directory in place of the store.
func newAheadDesk(t *testing.T, open func(*testing.T, *tripCounter) emailflow.Store, opts emailflow.Options, dir emailflow.Directory) aheadDesk {
	t.Helper()
	c := &tripCounter{}
	s := open(t, c)
	if _, ok := s.(*postgres.Store); !ok {
		c = nil
	}
	opts.Hostname = "desk.boutique.example"
	opts.Mailboxes = []emailflow.Mailbox{{Address: aheadMailbox, Name: "Service Client", Queue: "support-fr"}}
	ws, err := emailflow.New(emailflow.Ports{Store: s, Sender: &countSender{}, Directory: dir}, &opts)
	require.NoError(t, err)
	ctx := countedCtx(t)
	require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: "alice", Name: "Alice", Queues: []string{"support-fr"}, Capacity: 10}))
	require.NoError(t, ws.As("alice").SetStatus(ctx, emailflow.StatusReady))
	require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: "sophie", Name: "Sophie", Queues: []string{"support-fr"}, Roles: []emailflow.Role{emailflow.RoleSupervisor}}))
	return aheadDesk{ws: ws, trips: c}
}

// mail is a message to the desk; headers are extra header lines.
func aheadMail(from, messageID, subject string, headers ...string) []byte {
	var b strings.Builder
	b.WriteString("From: " + from + "\r\nTo: " + aheadMailbox + "\r\nSubject: " + subject + "\r\n")
	if messageID != "" {
		b.WriteString("Message-ID: <" + messageID + ">\r\n")
	}
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Date: Mon, 30 Nov 2026 09:00:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBonjour,\r\nma commande 4471 n'est pas arrivée.\r\n")
	return []byte(b.String())
}

func (d aheadDesk) ingest(t *testing.T, raw []byte) (*interaction.Interaction, error) {
	t.Helper()
	if d.trips != nil {
		d.trips.reset()
	}
	return d.ws.Ingest(countedCtx(t), aheadMailbox, strings.NewReader(string(raw)))
}

// countedCtx is t's context, whose statements a tripCounter logs.
func countedCtx(t *testing.T) context.Context {
	return context.WithValue(t.Context(), counting{}, true)
}

// reset forgets the statements logged so far.
func (c *tripCounter) reset() {
	c.mu.Lock()
	c.log = nil
	c.mu.Unlock()
}

// batchOf returns the statements sent in the same round trip as the
// first statement logged that contains part (nil when none does).
func (c *tripCounter) batchOf(part string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, l := range c.log {
		if !strings.Contains(l, part) {
			continue
		}
		if !strings.HasPrefix(l, "   ") {
			return []string{l} // a statement of its own
		}
		start, end := i, i+1
		for start > 0 && strings.HasPrefix(c.log[start-1], "   ") {
			start--
		}
		for end < len(c.log) && strings.HasPrefix(c.log[end], "   ") {
			end++
		}
		return append([]string(nil), c.log[start:end]...)
	}
	return nil
}

// assertOneBatch asserts that the statements containing each of parts
// went in one round trip, with the one containing parts[0].
func (d aheadDesk) assertOneBatch(t *testing.T, parts ...string) {
	t.Helper()
	if d.trips == nil {
		return // memory: nothing to batch
	}
	batch := strings.Join(d.trips.batchOf(parts[0]), "\n")
	require.NotEmpty(t, batch, "no statement has %q", parts[0])
	for _, p := range parts[1:] {
		assert.Contains(t, batch, p, "read with %q", parts[0])
	}
}

// The statements of the reads sent ahead.
const (
	senderRulesRead   = "sender_rules r ON r.pattern"
	messageIDsRead    = "FROM %s.message_ids m JOIN"
	contactsRead      = "contact_addresses a JOIN"
	emailsOfRead      = "WHERE e.interaction_id = $1"
	unlockedAgentRead = "SELECT data, max_load FROM %s.agents WHERE id = $1"
	contactOfRead     = "JOIN %s.contacts c ON c.id = i.contact_id"
	// The interactions holding the emails a message's references name.
	interactionsOfRead = "SELECT i.id, i.data, i.version FROM"
	interactionRead    = "SELECT data, version FROM %s.interactions WHERE id = $1"
)

// in fills the schema into a statement's text.
func (d aheadDesk) in(stmt string) string {
	c := d.trips
	if c == nil || !strings.Contains(stmt, "%s") {
		return stmt
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range c.log {
		if i := strings.Index(l, `"eftest_`); i >= 0 {
			j := strings.Index(l[i+1:], `"`)
			return strings.ReplaceAll(stmt, "%s", l[i:i+j+2])
		}
	}
	return stmt
}

// TestIngestReadsAheadThreading: a follow-up joins the conversation its
// In-Reply-To or References name, a reference to a Message-ID that is
// not stored starts a new one, and the same message taken in twice is
// one interaction, as on the memory store; on PostgreSQL the emails its
// ids name, the conversations they are in, the sender's contacts and the
// sender rule are one round trip.
func TestIngestReadsAheadThreading(t *testing.T) {
	for _, st := range aheadStores {
		t.Run(st.name, func(t *testing.T) {
			d := newAheadDesk(t, st.open, emailflow.Options{}, nil)
			first, err := d.ingest(t, aheadMail("Hélène Dupré <helene@exemple.fr>", "order-1@exemple.fr", "Commande 4471"))
			require.NoError(t, err)
			require.NotEmpty(t, first.ThreadID)

			cases := []struct {
				name    string
				headers []string
				joins   bool
			}{
				{"in-reply-to", []string{"In-Reply-To: <order-1@exemple.fr>"}, true},
				{"references", []string{"References: <elsewhere@exemple.fr> <order-1@exemple.fr>"}, true},
				{"references, newest unknown", []string{"References: <order-1@exemple.fr> <unknown-2@exemple.fr>"}, true},
				// Two emails of one conversation: its read serves both.
				{"references, one conversation twice", []string{"References: <order-1@exemple.fr> <follow-a@exemple.fr>"}, true},
				{"message-id not found", []string{"In-Reply-To: <never-stored@exemple.fr>"}, false},
			}
			for i, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					raw := aheadMail("Hélène Dupré <helene@exemple.fr>", "follow-"+string(rune('a'+i))+"@exemple.fr", "Re: Commande 4471", tc.headers...)
					it, err := d.ingest(t, raw)
					require.NoError(t, err)
					if tc.joins {
						assert.Equal(t, first.ID, it.ID, "joins the open inbound")
						assert.Equal(t, first.ThreadID, it.ThreadID)
					} else {
						assert.NotEqual(t, first.ID, it.ID)
						assert.NotEqual(t, first.ThreadID, it.ThreadID, "a conversation of its own")
					}
					d.assertOneBatch(t, senderRulesRead, d.in(messageIDsRead), contactsRead, interactionsOfRead)
					if d.trips != nil {
						assert.Zero(t, d.trips.logged(d.in(interactionRead)), "the conversations were read ahead")
					}

					// Taken in again: the interaction that holds it.
					again, err := d.ingest(t, raw)
					require.NoError(t, err)
					assert.Equal(t, it.ID, again.ID)
				})
			}
			emails, err := d.ws.As("sophie").Emails(countedCtx(t), first.ID)
			require.NoError(t, err)
			assert.Len(t, emails, 5, "the first and the four follow-ups")
		})
	}
}

// TestIngestReadsAheadContacts: the sender's contact is found by its
// address (in any case), an unknown sender is not identified (no
// contact made, as the options say), and a sender rule still applies,
// as on the memory store; on PostgreSQL in one round trip with the
// sender rule's read.
func TestIngestReadsAheadContacts(t *testing.T) {
	quarantineAll := emailflow.FilterFunc(func(context.Context, *emailflow.Incoming) (emailflow.Verdict, error) {
		return emailflow.Verdict{Action: emailflow.VerdictQuarantine, Filter: "all", Reason: "test"}, nil
	})
	for _, st := range aheadStores {
		t.Run(st.name, func(t *testing.T) {
			ctx := countedCtx(t)
			d := newAheadDesk(t, st.open, emailflow.Options{NoContactCreation: true, Filters: []emailflow.Filter{quarantineAll}}, nil)
			hel, err := d.ws.PutContact(ctx, contact.Contact{FirstName: "Hélène", LastName: "Dupré", Emails: []string{"helene@exemple.fr"}})
			require.NoError(t, err)
			for _, r := range []emailflow.SenderRule{
				{Pattern: "helene@exemple.fr", Action: emailflow.ListAllow},
				{Pattern: "inconnu@exemple.fr", Action: emailflow.ListAllow},
				{Pattern: "spam.example", Action: emailflow.ListReject},
			} {
				_, err := d.ws.As("sophie").PutSenderRule(ctx, r)
				require.NoError(t, err)
			}

			cases := []struct {
				name, from string
				contact    string // the contact identified
				state      interaction.State
				rejected   bool
			}{
				{"known", "Hélène Dupré <helene@exemple.fr>", hel.ID, interaction.StateOffered, false},
				{"known, other case", "Helene <Helene@Exemple.FR>", hel.ID, interaction.StateOffered, false},
				{"unknown", "Inconnu <inconnu@exemple.fr>", "", interaction.StateOffered, false},
				{"not on the allow list: the filter quarantines", "Hélène <helene@ailleurs.example>", "", interaction.StateQuarantined, false},
				{"reject list", "Promo <promo@spam.example>", "", "", true},
			}
			for i, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					it, err := d.ingest(t, aheadMail(tc.from, "contact-"+string(rune('a'+i))+"@exemple.fr", "Question"))
					d.assertOneBatch(t, senderRulesRead, d.in(messageIDsRead), contactsRead)
					if tc.rejected {
						require.ErrorIs(t, err, emailflow.ErrRejected)
						return
					}
					require.NoError(t, err)
					assert.Equal(t, tc.contact, it.ContactID)
					assert.Equal(t, tc.state, it.State)
				})
			}
		})
	}
}

// TestIngestReadsAheadOtherDirectory: a Directory other than the store
// is asked for the sender's contact, the store's contacts are not; the
// store given again as the Directory is the store, and reads ahead.
func TestIngestReadsAheadOtherDirectory(t *testing.T) {
	ctx := countedCtx(t)
	crm := memory.New(nil)
	hel := contact.Contact{ID: "crm-hel", FirstName: "Hélène", Emails: []string{"helene@exemple.fr"}}
	require.NoError(t, crm.CreateContact(ctx, hel))
	d := newAheadDesk(t, aheadStores[1].open, emailflow.Options{NoContactCreation: true}, crm)
	it, err := d.ingest(t, aheadMail("Hélène <helene@exemple.fr>", "crm-1@exemple.fr", "Question"))
	require.NoError(t, err)
	assert.Equal(t, "crm-hel", it.ContactID)
	assert.Zero(t, d.trips.logged(contactsRead), "the store's contacts are not read")

	c := &tripCounter{}
	s := tracedStore(t, c)
	ws, err := emailflow.New(emailflow.Ports{Store: s, Sender: &countSender{}, Directory: s}, &emailflow.Options{
		NoContactCreation: true, Mailboxes: []emailflow.Mailbox{{Address: aheadMailbox, Queue: "support-fr"}},
	})
	require.NoError(t, err)
	own, err := ws.PutContact(ctx, contact.Contact{FirstName: "Hélène", Emails: []string{"helene@exemple.fr"}})
	require.NoError(t, err)
	c.reset()
	it, err = ws.Ingest(ctx, aheadMailbox, strings.NewReader(string(aheadMail("Hélène <helene@exemple.fr>", "own-1@exemple.fr", "Question"))))
	require.NoError(t, err)
	assert.Equal(t, own.ID, it.ContactID)
	e := aheadDesk{ws: ws, trips: c}
	e.assertOneBatch(t, senderRulesRead, e.in(messageIDsRead), contactsRead)
}

// TestReplyReadsAheadContact: the reply's signature carries the
// inbound's contact and the agent, as on the memory store, and nothing of
// a contact when the inbound has none; on PostgreSQL the agent and the
// contact are read with the inbound's emails, in one round trip.
func TestReplyReadsAheadContact(t *testing.T) {
	sigs := &compose.Signatures{}
	sigs.SetAgent("alice", compose.Signature{Text: "Pour {{contact.firstName}} {{contact.lastName}}: {{agent.name}}"})
	for _, st := range aheadStores {
		t.Run(st.name, func(t *testing.T) {
			ctx := countedCtx(t)
			d := newAheadDesk(t, st.open, emailflow.Options{NoContactCreation: true, Signatures: sigs}, nil)
			hel, err := d.ws.PutContact(ctx, contact.Contact{FirstName: "Hélène", LastName: "Dupré", Emails: []string{"helene@exemple.fr"}})
			require.NoError(t, err)
			for _, tc := range []struct {
				name, from, contact, signed string
			}{
				{"known contact", "Hélène Dupré <helene@exemple.fr>", hel.ID, "Pour Hélène Dupré: Alice"},
				// The signature's contact fields have no value: refused.
				{"no contact", "Inconnu <inconnu@exemple.fr>", "", ""},
			} {
				t.Run(tc.name, func(t *testing.T) {
					it, err := d.ingest(t, aheadMail(tc.from, "reply-"+tc.name+"@exemple.fr", "Commande"))
					require.NoError(t, err)
					require.Equal(t, tc.contact, it.ContactID)
					require.Equal(t, "alice", it.OfferedTo)
					_, err = d.ws.As("alice").Accept(ctx, it.ID)
					require.NoError(t, err)
					if d.trips != nil {
						d.trips.reset()
					}
					r, err := d.ws.As("alice").Reply(ctx, it.ID)
					if tc.signed == "" {
						require.ErrorIs(t, err, emailflow.ErrInvalidInput)
						assert.ErrorContains(t, err, "contact.firstName")
					} else {
						require.NoError(t, err)
						assert.Contains(t, r.Email.Text, "\n-- \n"+tc.signed+"\n")
					}
					d.assertOneBatch(t, emailsOfRead, d.in(unlockedAgentRead), d.in(contactOfRead))
					if d.trips != nil {
						assert.Zero(t, d.trips.logged(d.in("SELECT data FROM %s.contacts WHERE id")), "the contact is not read again")
					}
				})
			}
		})
	}
}

// TestReplyWithoutSignatureReadsNoContact: without signatures, Reply
// reads no contact, whose fields nothing uses. It has no View before its
// transaction: the agent is read once, unlocked, with the inbound and its
// emails in the transaction's first batch.
func TestReplyWithoutSignatureReadsNoContact(t *testing.T) {
	ctx := countedCtx(t)
	d := newAheadDesk(t, aheadStores[1].open, emailflow.Options{}, nil)
	it, err := d.ingest(t, aheadMail("Hélène Dupré <helene@exemple.fr>", "nosig@exemple.fr", "Commande"))
	require.NoError(t, err)
	require.NotEmpty(t, it.ContactID)
	_, err = d.ws.As("alice").Accept(ctx, it.ID)
	require.NoError(t, err)
	d.trips.reset()
	r, err := d.ws.As("alice").Reply(ctx, it.ID)
	require.NoError(t, err)
	assert.NotContains(t, r.Email.Text, "\n-- \n")
	assert.Zero(t, d.trips.logged("contacts"), "no contact read")
	assert.Zero(t, d.trips.logged("READ ONLY"), "no View")
	first := strings.Join(d.trips.batchOf(emailsOfRead), "\n")
	require.Contains(t, first, "BEGIN ISOLATION LEVEL READ COMMITTED", "the transaction's first batch")
	assert.Contains(t, first, d.in(unlockedAgentRead), "the agent, with the inbound's emails")
	assert.Equal(t, 1, d.trips.logged(d.in("FROM %s.agents WHERE id")), "the agent read once, without its lock")
	assert.Equal(t, 1, d.trips.logged("SELECT data, version"), "the inbound read once")
}
