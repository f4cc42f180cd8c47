package storetest

import (
	"bytes"
	"context"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/store/memory"
	transport "github.com/emailflow/emailflow/transport/memory"
)

// The intake group takes mail in through a Workspace on the store under
// test: what a store must hold for the rule "every message Ingest returns
// success for is findable afterwards, whole" to hold, and what threading
// reads of it.

const (
	deskMailbox = "support@shop.example"
	deskHost    = "desk.shop.example"
	// deskAdmin is the host's administrator: the tests read what happened
	// as the admin, who sees every interaction.
	deskAdmin = "admin"
)

// desk is a Workspace on the store under test, with agent ann serving the
// mailbox's queue.
type desk struct {
	ws     *emailflow.Workspace
	store  *watched
	dir    emailflow.Directory
	sender *transport.Sender
	clock  *clockwork.FakeClock
}

func newDesk(t *testing.T, newStore newFunc, opts *emailflow.Options) *desk {
	t.Helper()
	s := fresh(t, newStore)
	d := &desk{store: &watched{Store: s}, sender: &transport.Sender{}, clock: clockwork.NewFakeClockAt(base)}
	var ok bool
	if d.dir, ok = s.(emailflow.Directory); !ok {
		d.dir = memory.New(nil) // contacts from elsewhere, as from a CRM
	}
	o := emailflow.Options{}
	if opts != nil {
		o = *opts
	}
	o.Hostname = deskHost
	o.Mailboxes = []emailflow.Mailbox{{Address: deskMailbox, Name: "Support", Queue: "support"}}
	ws, err := emailflow.New(emailflow.Ports{Store: d.store, Sender: d.sender, Directory: d.dir, Clock: d.clock}, &o)
	require.NoError(t, err)
	d.ws = ws
	ctx := t.Context()
	require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: "ann", Name: "Ann", Address: "ann@shop.example", Queues: []string{"support"}, Capacity: 50}))
	require.NoError(t, ws.As("ann").SetStatus(ctx, emailflow.StatusReady))
	require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: deskAdmin, Roles: []emailflow.Role{emailflow.RoleAdmin}}))
	return d
}

// ingest takes raw in, which must succeed.
func (d *desk) ingest(t *testing.T, raw string) *interaction.Interaction {
	t.Helper()
	it, err := d.ws.Ingest(t.Context(), deskMailbox, strings.NewReader(raw))
	require.NoError(t, err)
	require.NotNil(t, it)
	return it
}

// emails returns the emails of interaction id.
func (d *desk) emails(t *testing.T, id string) []*emailflow.Email {
	t.Helper()
	es, err := d.ws.As(deskAdmin).Emails(t.Context(), id)
	require.NoError(t, err)
	return es
}

// inbounds returns the inbound interactions.
func (d *desk) inbounds(t *testing.T) []*interaction.Interaction {
	t.Helper()
	its, err := d.ws.As(deskAdmin).Interactions(t.Context(), emailflow.Query{Kind: interaction.KindInbound})
	require.NoError(t, err)
	return its
}

// stored returns the inbound emails whose raw bytes are raw: the message
// as Ingest took it in.
func (d *desk) stored(t *testing.T, raw string) []*emailflow.Email {
	t.Helper()
	var out []*emailflow.Email
	for _, it := range d.inbounds(t) {
		for _, e := range d.emails(t, it.ID) {
			if e.Direction == emailflow.Inbound && string(e.Raw) == raw {
				out = append(out, e)
			}
		}
	}
	return out
}

// handled takes in a customer's email (from helene, Cc paul) and has ann
// accept it.
func (d *desk) handled(t *testing.T, id string) *interaction.Interaction {
	t.Helper()
	it := d.ingest(t, customerMail(id, "Hélène Dupont <helene@exemple.fr>", "Cc: Paul <paul@exemple.fr>\r\n"))
	it, err := d.ws.As("ann").Accept(t.Context(), it.ID)
	require.NoError(t, err)
	return it
}

// send sends draft id and returns the Message-ID it went out with.
func (d *desk) send(t *testing.T, id string) string {
	t.Helper()
	out, err := d.ws.As("ann").Send(t.Context(), id, nil)
	require.NoError(t, err)
	require.Equal(t, interaction.StateSent, out.State)
	es := d.emails(t, id)
	require.NotEmpty(t, es)
	return es[len(es)-1].MessageID
}

// customerMail is a person's email to the desk.
func customerMail(id, from string, extra ...string) string {
	return "From: " + from + "\r\nTo: " + deskMailbox + "\r\n" + strings.Join(extra, "") +
		"Subject: Commande " + id + "\r\nMessage-ID: <" + id + "@exemple.fr>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBonjour, " + id + ".\r\n"
}

// watched is a Store that records the Message-ID look-ups made in its
// transactions.
type watched struct {
	emailflow.Store
	mu      sync.Mutex
	lookups []lookup
	// views and updates count the transactions run on the store.
	views, updates int
}

// lookup is one Message-ID look-up: how many ids, in which transaction.
type lookup struct {
	write bool
	ids   int
}

func (w *watched) record(write bool, ids int) {
	w.mu.Lock()
	w.lookups = append(w.lookups, lookup{write, ids})
	w.mu.Unlock()
}

// reset forgets the look-ups and transactions recorded so far.
func (w *watched) reset() {
	w.mu.Lock()
	w.lookups, w.views, w.updates = nil, 0, 0
	w.mu.Unlock()
}

// transactions returns how many read and write transactions ran since the
// last reset.
func (w *watched) transactions() (views, updates int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.views, w.updates
}

func (w *watched) seen() []lookup {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]lookup(nil), w.lookups...)
}

func (w *watched) Update(ctx context.Context, fn func(emailflow.Tx) error) error {
	w.mu.Lock()
	w.updates++
	w.mu.Unlock()
	return w.Store.Update(ctx, func(tx emailflow.Tx) error { return fn(w.wrap(tx, true)) })
}

func (w *watched) View(ctx context.Context, fn func(emailflow.Tx) error) error {
	w.mu.Lock()
	w.views++
	w.mu.Unlock()
	return w.Store.View(ctx, func(tx emailflow.Tx) error { return fn(w.wrap(tx, false)) })
}

// wrap returns tx watched, with the intake's optional abilities of the
// store under test (sender lists, rate counters) when it has them.
func (w *watched) wrap(tx emailflow.Tx, write bool) emailflow.Tx {
	wt := watchedTx{tx, w, write}
	lists, ok := tx.(emailflow.SenderListTx)
	rates, ok2 := tx.(emailflow.RateTx)
	if ok && ok2 {
		return watchedIntakeTx{wt, lists, rates}
	}
	return wt
}

type watchedTx struct {
	emailflow.Tx
	w     *watched
	write bool
}

// watchedIntakeTx is a watchedTx that keeps sender lists and rate
// counters.
type watchedIntakeTx struct {
	watchedTx
	emailflow.SenderListTx
	emailflow.RateTx
}

func (t watchedTx) EmailByMessageID(ctx context.Context, id string) (*emailflow.Email, error) {
	t.w.record(t.write, 1)
	return t.Tx.EmailByMessageID(ctx, id)
}

func (t watchedTx) EmailsByMessageIDs(ctx context.Context, ids []string) ([]*emailflow.Email, error) {
	t.w.record(t.write, len(ids))
	return t.Tx.EmailsByMessageIDs(ctx, ids)
}

func testIntake(t *testing.T, newStore newFunc) {
	t.Run("HostileMessagesStoredWhole", func(t *testing.T) { testHostileMessages(t, newStore) })
	t.Run("Deduplication", func(t *testing.T) { testDeduplication(t, newStore) })
	t.Run("DeepNestingKeptWhole", func(t *testing.T) { testDeepNesting(t, newStore) })
	t.Run("ManyReferences", func(t *testing.T) { testManyReferences(t, newStore) })
	t.Run("SendersWithoutUsableContact", func(t *testing.T) { testUnusableSenders(t, newStore) })
	t.Run("ConcurrentFirstMessages", func(t *testing.T) { testConcurrentFirstMessages(t, newStore) })
	t.Run("Threading", func(t *testing.T) { testThreadingParties(t, newStore) })
	t.Run("ResourceAnswer", func(t *testing.T) { testResourceAnswer(t, newStore) })
}

// hostileMessages are messages whose parsed fields would hold what a SQL
// store refuses (NUL, bytes that are not UTF-8) if the parser let them
// through.
var hostileMessages = []struct{ name, raw string }{
	{"UTF-16 text sent as text/plain", "From: a@exemple.fr\r\nTo: " + deskMailbox + "\r\nSubject: utf16\r\nMessage-ID: <utf16@exemple.fr>\r\nContent-Type: text/plain\r\n\r\nB\x00o\x00n\x00j\x00o\x00u\x00r\x00"},
	{"NUL in a text body", "From: b@exemple.fr\r\nTo: " + deskMailbox + "\r\nSubject: nul\r\nMessage-ID: <nul@exemple.fr>\r\n\r\nBon\x00jour\x00\r\n"},
	{"non-UTF-8 Message-ID", "From: c@exemple.fr\r\nTo: " + deskMailbox + "\r\nSubject: id\r\nMessage-ID: <\xff\xfe\xc3(@exemple.fr>\r\nIn-Reply-To: <\xe9t\xe9@exemple.fr>\r\nReferences: <a\x00b@exemple.fr>\r\n\r\nBonjour\r\n"},
	{"non-UTF-8 and NUL in headers", "From: \"Ren\xe9\x00\" <d@exemple.fr>\r\nTo: " + deskMailbox + "\r\nSubject: caf\xe9\x00\r\nX-Note: \xff\x00\r\nMessage-ID: <hdr@exemple.fr>\r\n\r\nBonjour\r\n"},
	{"delivery report with NUL and bytes that are not UTF-8", "From: MAILER-DAEMON@mx.exemple.fr\r\nTo: " + deskMailbox + "\r\nSubject: failed\r\nMessage-ID: <dsn@mx.exemple.fr>\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nnot delivered\r\n" +
		"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\x00\xff.exemple.fr\r\n\r\nFinal-Recipient: rfc822; a\x00@exemple.fr\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 \xe9\x00chec\r\n" +
		"--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <\xff\x00@desk>\r\nSubject: caf\xe9\x00\r\n--b--\r\n"},
	{"binary attachment and odd names", "From: e@exemple.fr\r\nTo: " + deskMailbox + "\r\nSubject: att\r\nMessage-ID: <att@exemple.fr>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nvoir PJ\r\n" +
		"--b\r\nContent-Type: application/octet-stream; name=\"f\x00\xff.bin\"\r\nContent-ID: <c\x00\xfe>\r\n\r\n\x00\x01\xff\xfe\x00\r\n--b--\r\n"},
}

func testHostileMessages(t *testing.T, newStore newFunc) {
	d := newDesk(t, newStore, nil)
	ctx := t.Context()
	for _, m := range hostileMessages {
		t.Run(m.name, func(t *testing.T) {
			it := d.ingest(t, m.raw)
			got := d.stored(t, m.raw)
			require.Len(t, got, 1, "findable once, with its raw bytes as received")
			e := got[0]
			assert.Equal(t, it.ID, e.InteractionID)
			for _, s := range emailStrings(e) {
				assert.True(t, utf8.ValidString(s), "invalid UTF-8 in %q", s)
				assert.NotContains(t, s, "\x00")
			}
			if e.MessageID != "" {
				view(t, d.store, func(ctx context.Context, tx emailflow.Tx) {
					byID, err := tx.EmailByMessageID(ctx, e.MessageID)
					require.NoError(t, err)
					assert.Equal(t, e.ID, byID.ID, "found by its Message-ID as parsed")
				})
			}
			again, err := d.ws.Ingest(ctx, deskMailbox, strings.NewReader(m.raw))
			require.NoError(t, err)
			assert.Equal(t, it.ID, again.ID, "taken in once")
			assert.Len(t, d.stored(t, m.raw), 1)
		})
	}
	// Attachment bodies are bytes, kept as sent.
	got := d.stored(t, hostileMessages[5].raw)
	require.Len(t, got, 1)
	require.Len(t, got[0].Attachments, 1)
	assert.Equal(t, []byte("\x00\x01\xff\xfe\x00"), got[0].Attachments[0].Data)
}

// emailStrings lists the text fields of e.
func emailStrings(e *emailflow.Email) []string {
	out := []string{e.MessageID, e.Subject, e.Text, e.HTML, e.From.Name, e.From.Address}
	out = append(out, e.InReplyTo...)
	out = append(out, e.References...)
	out = append(out, e.Warnings...)
	for _, l := range [][]mail.Address{e.To, e.Cc, e.ReplyTo} {
		for _, a := range l {
			out = append(out, a.Name, a.Address)
		}
	}
	for _, a := range e.Attachments {
		out = append(out, a.Filename, a.OriginalFilename, a.ContentType, a.ContentID)
	}
	if r := e.Report; r != nil {
		out = append(out, r.ReportingMTA, r.OriginalMessageID, r.OriginalSubject)
		for _, s := range r.Recipients {
			out = append(out, s.Recipient, s.OriginalRecipient, s.Status, s.Diagnostic, s.RemoteMTA)
		}
	}
	return out
}

func testDeduplication(t *testing.T, newStore newFunc) {
	ctx := t.Context()
	t.Run("SameMessageIDOtherContent", func(t *testing.T) {
		d := newDesk(t, newStore, nil)
		// A device that numbers every message 1.
		first := "From: printer@exemple.fr\r\nTo: " + deskMailbox + "\r\nSubject: toner low\r\nMessage-ID: <1@localhost>\r\n\r\nToner low\r\n"
		other := "From: someone@ailleurs.example\r\nTo: " + deskMailbox + "\r\nSubject: commande\r\nMessage-ID: <1@localhost>\r\n\r\nOù est ma commande ?\r\n"
		a := d.ingest(t, first)
		b := d.ingest(t, other)
		assert.NotEqual(t, a.ID, b.ID, "another message, not a duplicate")
		got := d.stored(t, other)
		require.Len(t, got, 1)
		assert.Contains(t, strings.Join(got[0].Warnings, "\n"), "Message-ID <1@localhost> of an earlier message with other content")
		assert.Contains(t, historyDetails(t, d, b.ID, "warning"), "Message-ID <1@localhost>", "the agent sees it")
		// Each, taken in again, is a duplicate of itself.
		assert.Equal(t, a.ID, d.ingest(t, first).ID)
		assert.Equal(t, b.ID, d.ingest(t, other).ID)
		// Relayed once more, with one more Received line: the same.
		assert.Equal(t, b.ID, d.ingest(t, "Received: from mx2.exemple.fr by mx1; Mon, 2 Mar 2026 09:00:00 +0100\r\n"+other).ID)
		assert.Len(t, d.inbounds(t), 2)
	})

	t.Run("RelayedTwiceWithoutMessageID", func(t *testing.T) {
		d := newDesk(t, newStore, nil)
		msg := "Received: from mx1 by relay; Mon, 2 Mar 2026 09:00:00 +0100\r\nFrom: a@exemple.fr\r\nTo: " + deskMailbox + "\r\nSubject: sans id\r\n\r\nBonjour\r\n"
		a := d.ingest(t, msg)
		b := d.ingest(t, "Received: from relay by mx2; Mon, 2 Mar 2026 09:00:05 +0100\r\nDelivered-To: "+deskMailbox+"\r\n"+msg)
		assert.Equal(t, a.ID, b.ID, "one interaction")
		assert.Len(t, d.inbounds(t), 1)
		c := d.ingest(t, strings.Replace(msg, "Bonjour", "Bonsoir", 1))
		assert.NotEqual(t, a.ID, c.ID, "other content is another message")
	})

	t.Run("OurMessageIDs", func(t *testing.T) {
		d := newDesk(t, newStore, nil)
		in := d.handled(t, "dedup")
		r, err := d.ws.As("ann").Reply(ctx, in.ID)
		require.NoError(t, err)
		mid := d.send(t, r.ID)
		sent := d.sender.Sent()
		require.Len(t, sent, 1)
		// Our own email, Bcc'd back to the mailbox through two relays: a
		// copy of ours, nothing new.
		copied, err := d.ws.Ingest(ctx, deskMailbox, bytes.NewReader(append([]byte("Received: by mx1\r\nReturn-Path: <"+deskMailbox+">\r\n"), sent[0].Raw...)))
		require.NoError(t, err)
		assert.Equal(t, r.ID, copied.ID)
		// A stranger's mail carrying that Message-ID is mail, not dropped.
		forged := "From: eve@evil.example\r\nTo: " + deskMailbox + "\r\nSubject: hello\r\nMessage-ID: <" + mid + ">\r\n\r\nHello\r\n"
		it := d.ingest(t, forged)
		assert.Equal(t, interaction.KindInbound, it.Kind)
		got := d.stored(t, forged)
		require.Len(t, got, 1)
		assert.Contains(t, strings.Join(got[0].Warnings, "\n"), "of one of our emails with other content")
		assert.Len(t, d.inbounds(t), 2)
	})
}

// historyDetails joins the details of interaction id's history entries
// with action.
func historyDetails(t *testing.T, d *desk, id, action string) string {
	t.Helper()
	it, err := d.ws.As(deskAdmin).Interaction(t.Context(), id)
	require.NoError(t, err)
	var out []string
	for _, h := range it.History {
		if h.Action == action {
			out = append(out, h.Detail)
		}
	}
	return strings.Join(out, "\n")
}

// deepMessage nests multiparts depth levels deep, a text at the bottom.
func deepMessage(depth int) string {
	var b strings.Builder
	b.WriteString("From: a@exemple.fr\r\nTo: " + deskMailbox + "\r\nSubject: deep\r\nMessage-ID: <deep@exemple.fr>\r\n")
	for i := range depth {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\nle fond du colis\r\n")
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	return b.String()
}

func testDeepNesting(t *testing.T, newStore newFunc) {
	d := newDesk(t, newStore, nil)
	raw := deepMessage(40)
	it := d.ingest(t, raw)
	got := d.stored(t, raw)
	require.Len(t, got, 1, "the original is there to download, whole")
	e := got[0]
	assert.Equal(t, it.ID, e.InteractionID)
	assert.Contains(t, strings.Join(e.Warnings, "\n"), "nested too deeply, kept unread as an attachment")
	require.Len(t, e.Attachments, 1)
	assert.Equal(t, "message/rfc822", e.Attachments[0].ContentType)
	assert.Contains(t, string(e.Attachments[0].Data), "le fond du colis", "where the parse stopped, the rest is an attachment")
	assert.Contains(t, historyDetails(t, d, it.ID, "parse-warning"), "nested too deeply")
}

func testManyReferences(t *testing.T, newStore newFunc) {
	d := newDesk(t, newStore, nil)
	ctx := t.Context()
	in := d.handled(t, "refs")
	r, err := d.ws.As("ann").Reply(ctx, in.ID)
	require.NoError(t, err)
	mid := d.send(t, r.ID)
	refs := func(n int, ours string, first bool) string {
		var b strings.Builder
		b.WriteString("References:")
		if first {
			b.WriteString(" <" + ours + ">\r\n")
		}
		for i := range n {
			fmt.Fprintf(&b, " <%x@x>", i) // short, to stay within the header limit
			if i%50 == 49 || i == n-1 {
				b.WriteString("\r\n")
			}
		}
		if !first {
			b.WriteString(" <" + ours + ">\r\n")
		}
		return b.String()
	}
	// The customer's client lists 80,000 ids, ours the newest.
	d.store.reset()
	reply := customerMail("refs-1", "helene@exemple.fr", refs(80_000, mid, false))
	it := d.ingest(t, reply)
	assert.Equal(t, in.ThreadID, it.ThreadID, "joined through the newest reference")
	for _, l := range d.store.seen() {
		assert.False(t, l.write, "Message-IDs are looked up outside the write transaction")
		assert.LessOrEqual(t, l.ids, 1+20, "a bounded number of ids")
	}
	assert.Len(t, d.store.seen(), 1, "in one look-up")
	// Ours among the oldest, past the twenty looked at: a new conversation.
	other := d.ingest(t, customerMail("refs-2", "helene@exemple.fr", refs(100, mid, true)))
	assert.NotEqual(t, in.ThreadID, other.ThreadID)
}

func testUnusableSenders(t *testing.T, newStore newFunc) {
	ctx := t.Context()
	long := strings.Repeat("é", 300)
	tests := []struct {
		name, from string
		addr       string // the address looked up
		contact    bool   // a contact is made
		first      string // its first name, when one is made
	}{
		{"name over 200 characters", "\"" + long + " Dupont\" <long@exemple.fr>", "long@exemple.fr", true, strings.Repeat("é", 200)},
		{"invisible control character in the name", "=?utf-8?q?Jean=C2=85Paul_Martin?= <ctl@exemple.fr>", "ctl@exemple.fr", true, "Jean Paul"},
		{"quoted local part", "\"john doe\"@exemple.fr", "john doe@exemple.fr", false, ""},
		{"address over 254 bytes", strings.Repeat("x", 250) + "@exemple.fr", strings.Repeat("x", 250) + "@exemple.fr", false, ""},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDesk(t, newStore, nil)
			raw := "From: " + tc.from + "\r\nTo: " + deskMailbox + "\r\nSubject: s\r\nMessage-ID: <u" + fmt.Sprint(i) + "@exemple.fr>\r\n\r\nBonjour\r\n"
			it := d.ingest(t, raw)
			require.Len(t, d.stored(t, raw), 1, "the mail is taken in")
			warnings := strings.Join(d.stored(t, raw)[0].Warnings, "\n")
			cs, err := d.dir.ContactsByAddress(ctx, tc.addr)
			require.NoError(t, err)
			if !tc.contact {
				assert.Empty(t, it.ContactID)
				assert.Empty(t, cs, "nothing usable: no contact")
				assert.Contains(t, warnings, "no contact created")
				assert.Contains(t, historyDetails(t, d, it.ID, "warning"), "no contact created")
				return
			}
			require.Len(t, cs, 1)
			assert.Equal(t, cs[0].ID, it.ContactID)
			assert.Equal(t, tc.first, cs[0].FirstName)
			assert.NoError(t, cs[0].Validate())
			assert.Contains(t, warnings, "cleaned for the new contact")
		})
	}
}

func testConcurrentFirstMessages(t *testing.T, newStore newFunc) {
	d := newDesk(t, newStore, nil)
	if _, ok := fresh(t, newStore).(emailflow.Directory); !ok {
		t.Skip("the store does not implement emailflow.Directory")
	}
	ctx := t.Context()
	for round := range 10 {
		addr := fmt.Sprintf("nouveau%d@exemple.fr", round)
		errs := race(4, func(i int) error {
			from := addr
			if i%2 == 1 {
				from = strings.ToUpper(addr[:1]) + addr[1:]
			}
			_, err := d.ws.Ingest(ctx, deskMailbox, strings.NewReader(customerMail(fmt.Sprintf("first-%d-%d", round, i), from)))
			return err
		})
		for _, err := range errs {
			require.NoError(t, err)
		}
		cs, err := d.dir.ContactsByAddress(ctx, addr)
		require.NoError(t, err)
		require.Len(t, cs, 1, "round %d: one contact per address", round)
	}
}

func testThreadingParties(t *testing.T, newStore newFunc) {
	ctx := t.Context()
	d := newDesk(t, newStore, nil)
	in := d.handled(t, "thread")
	r, err := d.ws.As("ann").ReplyAll(ctx, in.ID)
	require.NoError(t, err)
	mid := d.send(t, r.ID)

	// Our Message-IDs carry 96 random bits: nothing to guess from.
	local, ok := strings.CutSuffix(mid, "@"+deskHost)
	require.True(t, ok, mid)
	random := local[strings.LastIndexByte(local, '.')+1:]
	assert.GreaterOrEqual(t, len(random), 20, "at least 96 bits in base 32: %s", mid)
	_, err = mail.ParseAddress("<" + mid + ">")
	assert.NoError(t, err, "a valid RFC 5322 id: %s", mid)

	follow := func(id, from, refs string) *interaction.Interaction {
		return d.ingest(t, customerMail(id, from, refs))
	}
	t.Run("StrangerWithOurID", func(t *testing.T) {
		it := follow("eve-1", "Eve <eve@evil.example>", "In-Reply-To: <"+mid+">\r\n")
		assert.NotEqual(t, in.ThreadID, it.ThreadID, "a new conversation")
		assert.NotEqual(t, in.ID, it.ID)
		assert.Contains(t, historyDetails(t, d, it.ID, "warning"), "refers to <"+mid+">", "the suspicious reference is shown to the agent")
		got := d.stored(t, customerMail("eve-1", "Eve <eve@evil.example>", "In-Reply-To: <"+mid+">\r\n"))
		require.Len(t, got, 1)
		assert.Contains(t, strings.Join(got[0].Warnings, "\n"), "no party of")
	})
	t.Run("StrangerGuessingBlind", func(t *testing.T) {
		var refs strings.Builder
		refs.WriteString("References:")
		for i := range 1600 {
			if i == 1590 {
				refs.WriteString(" <" + mid + ">\r\n")
			}
			fmt.Fprintf(&refs, " <ef.%d.guess@%s>\r\n", i, deskHost)
		}
		it := follow("eve-2", "eve@evil.example", refs.String())
		assert.NotEqual(t, in.ThreadID, it.ThreadID)
	})
	t.Run("StrangerWithOurToken", func(t *testing.T) {
		it := follow("eve-3", "eve@evil.example", "References: <ef."+in.ThreadID+".aaaaaaaaaaaaaaaaaaaa@"+deskHost+">\r\n")
		assert.NotEqual(t, in.ThreadID, it.ThreadID)
	})
	t.Run("Customer", func(t *testing.T) {
		it := follow("helene-2", "Hélène <HELENE@exemple.fr>", "In-Reply-To: <"+mid+">\r\n")
		assert.Equal(t, in.ID, it.ID, "joins the open inbound")
		assert.Empty(t, historyDetails(t, d, it.ID, "warning"))
	})
	t.Run("CustomerThroughToken", func(t *testing.T) {
		// The customer's client dropped our message; the token remains.
		it := follow("helene-3", "helene@exemple.fr", "References: <ef."+in.ThreadID+".bbbbbbbbbbbbbbbbbbbb@"+deskHost+">\r\n")
		assert.Equal(t, in.ThreadID, it.ThreadID)
	})
	t.Run("CcParty", func(t *testing.T) {
		it := follow("paul-1", "Paul <paul@exemple.fr>", "In-Reply-To: <"+mid+">\r\n")
		assert.Equal(t, in.ID, it.ID)
	})
	t.Run("ResourceOfAForward", func(t *testing.T) {
		fwd, err := d.ws.As("ann").Forward(ctx, in.ID, emailflow.ForwardRequest{To: []mail.Address{{Address: "expert@partner.example"}}, Instructions: "Votre avis ?"})
		require.NoError(t, err)
		fmid := d.send(t, fwd.ID)
		it := follow("expert-1", "expert@partner.example", "In-Reply-To: <"+fmid+">\r\n")
		assert.Equal(t, in.ID, it.ID, "joins as the resource")
		got := d.stored(t, customerMail("expert-1", "expert@partner.example", "In-Reply-To: <"+fmid+">\r\n"))
		require.Len(t, got, 1)
		assert.True(t, got[0].IsResourceAnswer())
		assert.Equal(t, fwd.ID, got[0].ForwardID)
	})
	for _, it := range d.inbounds(t) {
		if it.ThreadID == in.ThreadID {
			assert.Equal(t, in.ID, it.ID, "no stranger's interaction in the customer's conversation")
		}
	}
}

func testResourceAnswer(t *testing.T, newStore newFunc) {
	ctx := t.Context()
	// forward forwards in to the expert, sends it, and returns the
	// expert's answer.
	forward := func(t *testing.T, d *desk, in *interaction.Interaction, n int) string {
		fwd, err := d.ws.As("ann").Forward(ctx, in.ID, emailflow.ForwardRequest{To: []mail.Address{{Name: "Expert", Address: "expert@partner.example"}}, Instructions: "Le transporteur peut-il confirmer ?"})
		require.NoError(t, err)
		fmid := d.send(t, fwd.ID)
		return "From: Expert <expert@partner.example>\r\nTo: " + deskMailbox + "\r\nSubject: Re: Fwd: Commande\r\nMessage-ID: <answer-" + fmt.Sprint(n) + "@partner.example>\r\n" +
			"In-Reply-To: <" + fmid + ">\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nLe colis est à Lyon, livraison demain.\r\n"
	}

	t.Run("OwnerSeesItAndReplyGoesToTheCustomer", func(t *testing.T) {
		d := newDesk(t, newStore, nil)
		in := d.handled(t, "res-1")
		events, err := d.ws.As(deskAdmin).Events(ctx, 0, 0)
		require.NoError(t, err)
		after := events[len(events)-1].Seq
		answer := forward(t, d, in, 1)
		it := d.ingest(t, answer)
		assert.Equal(t, in.ID, it.ID, "on the customer's inbound")
		assert.Equal(t, interaction.StateHandling, it.State)

		got := d.stored(t, answer)
		require.Len(t, got, 1)
		e := got[0]
		assert.True(t, e.IsResourceAnswer(), "a resource answer, not customer mail")
		assert.NotEmpty(t, historyDetails(t, d, in.ID, "resource-answer"))
		events, err = d.ws.As(deskAdmin).Events(ctx, after, 0)
		require.NoError(t, err)
		var seen bool
		for _, ev := range events {
			if ev.Type == emailflow.EventResourceAnswer && ev.InteractionID == in.ID {
				seen = true
				assert.Equal(t, "ann", ev.Agent, "for its owner")
				assert.Equal(t, e.ID, ev.Detail)
			}
		}
		assert.True(t, seen, "an event tells the owner")
		cs, err := d.dir.ContactsByAddress(ctx, "expert@partner.example")
		require.NoError(t, err)
		assert.Empty(t, cs, "no customer contact for the resource")

		for _, reply := range []func(context.Context, string) (*emailflow.Draft, error){d.ws.As("ann").Reply, d.ws.As("ann").ReplyAll} {
			r, err := reply(ctx, in.ID)
			require.NoError(t, err)
			draft, err := draftEmail(d.ws.As("ann").Draft(ctx, r.ID))
			require.NoError(t, err)
			require.NotEmpty(t, draft.To)
			assert.Equal(t, "helene@exemple.fr", draft.To[0].Address, "the customer is answered")
			for _, a := range append(draft.To, draft.Cc...) {
				assert.NotEqual(t, "expert@partner.example", a.Address)
			}
			assert.NotContains(t, draft.Text, "Lyon", "the answer is not quoted unless asked")
			require.NoError(t, errOf(d.ws.As("ann").QuoteResourceAnswer(ctx, emailflow.ResourceAnswerRef{Draft: r.ID, Email: e.ID})))
			draft, err = draftEmail(d.ws.As("ann").Draft(ctx, r.ID))
			require.NoError(t, err)
			assert.Contains(t, draft.Text, "> Le colis est à Lyon, livraison demain.", "quoted on request")
			assert.Contains(t, draft.Text, "Bonjour, res-1.", "the customer's email stays quoted")
		}
		// Only a resource answer of the draft's inbound is quoted.
		r, err := d.ws.As("ann").Reply(ctx, in.ID)
		require.NoError(t, err)
		customer := d.stored(t, customerMail("res-1", "Hélène Dupont <helene@exemple.fr>", "Cc: Paul <paul@exemple.fr>\r\n"))
		require.Len(t, customer, 1)
		assert.ErrorIs(t, errOf(d.ws.As("ann").QuoteResourceAnswer(ctx, emailflow.ResourceAnswerRef{Draft: r.ID, Email: customer[0].ID})), emailflow.ErrNotFound)
		assert.ErrorIs(t, errOf(d.ws.As("bob").QuoteResourceAnswer(ctx, emailflow.ResourceAnswerRef{Draft: r.ID, Email: e.ID})), emailflow.ErrForbidden)
	})

	t.Run("ParkedOrDone", func(t *testing.T) {
		for _, reopen := range []bool{false, true} {
			for _, state := range []interaction.State{interaction.StateParked, interaction.StateDone} {
				t.Run(fmt.Sprintf("%s/reopen=%v", state, reopen), func(t *testing.T) {
					d := newDesk(t, newStore, &emailflow.Options{ReopenOnResourceAnswer: reopen})
					in := d.handled(t, "res-2")
					answer := forward(t, d, in, 2)
					if state == interaction.StateParked {
						require.NoError(t, d.ws.As("ann").SaveToWorkbin(ctx, in.ID, emailflow.WorkbinRef{}))
					} else {
						require.NoError(t, d.ws.As("ann").MarkDone(ctx, in.ID))
					}
					it := d.ingest(t, answer)
					assert.Equal(t, in.ID, it.ID)
					require.Len(t, d.stored(t, answer), 1)
					assert.True(t, d.stored(t, answer)[0].IsResourceAnswer())
					if reopen {
						assert.Equal(t, interaction.StateHandling, it.State, "back with its owner")
						assert.Equal(t, "ann", it.Owner)
						assert.Empty(t, it.Workbin)
						_, err := d.ws.As("ann").Reply(ctx, in.ID)
						assert.NoError(t, err, "the owner can answer the customer")
					} else {
						assert.Equal(t, state, it.State, "left where it was (the default)")
					}
				})
			}
		}
	})
}
