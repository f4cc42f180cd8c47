package emailflow

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/contact"
	"github.com/emailflow/emailflow/interaction"
)

// System case data keys, set read-only on every inbound interaction.
const (
	CaseSubject  = "Subject"
	CaseFrom     = "From"
	CaseMailbox  = "Mailbox"
	CaseReceived = "Received"
)

// Ingest takes in one raw RFC 5322 message received at mailbox (one of our
// addresses), from any source: a webhook, LMTP, an IMAP poller.
//
// The message is stored whole, with its raw bytes, before Ingest returns:
// once Ingest succeeds it is findable. Its sender is identified in the
// Directory (and a contact created when unknown, unless
// Options.NoContactCreation); a sender no contact can be made for is
// taken in without one, with a warning. A reply joins its conversation
// (In-Reply-To, then the newest References, or our token in such an id)
// only when its sender is a party of that conversation: the contact, an
// address that was on one of its emails (a Cc'd party, a resource we
// forwarded it to); it is added to the thread's open inbound interaction,
// or starts a new inbound interaction in the same thread. A reference
// that fails that check is recorded as a warning and the mail starts a
// new conversation. An external resource's answer to one of our forwards
// is stored on the inbound the forward was made from (see
// Email.ForwardID, EventResourceAnswer). Other mail starts a new thread,
// queued in the mailbox's queue and offered to a ready agent.
//
// When r is an EnvelopeReader (the SMTP server's are), the stored email
// keeps the envelope the message arrived with.
//
// Ingest is idempotent: the same message (same Message-ID and content at
// the same mailbox, the content compared without the trace fields relays
// add: see compose.ContentHash; or the same content when it has no
// Message-ID) returns the interaction the first call created. The same
// Message-ID with other content is another message, taken in with a
// warning. A copy of one of our own emails (Bcc'd to a mailbox of ours,
// echoed back) returns the outbound interaction it belongs to and creates
// nothing. Malformed mail is taken in with what could be read and the
// warnings in the email's Warnings and the history.
//
// Errors: ErrInvalidInput for a mailbox that is not an address;
// ErrTooLarge beyond the parse limits; the reader's or the store's errors.
func (w *Workspace) Ingest(ctx context.Context, mailbox string, r io.Reader) (*interaction.Interaction, error) {
	return w.ingest(ctx, mailbox, r, "")
}

// ingest is Ingest. A non-empty note goes, in the same transaction, to
// the email's warnings and, as a system note, to the interaction the
// message joins or starts (see IngestHeader).
func (w *Workspace) ingest(ctx context.Context, mailbox string, r io.Reader, note string) (*interaction.Interaction, error) {
	// One of our mailboxes, as configured, needs no parsing.
	if !w.own[mailbox] {
		box, err := mail.ParseAddress(mailbox)
		if err != nil {
			return nil, fmt.Errorf("%w: mailbox %q is not an address: %v", ErrInvalidInput, mailbox, err)
		}
		mailbox = strings.ToLower(box.Address)
	}
	raw, err := w.readRaw(r)
	if err != nil {
		return nil, err
	}
	msg, err := compose.ParseBytes(raw, w.opts.Parse) // raw is kept, never changed
	if err != nil {
		return nil, domainErr(err)
	}
	in := &intake{msg: msg, raw: raw, mailbox: mailbox, hash: compose.ContentHash(raw), note: note}
	if len(msg.From) > 0 {
		in.from = msg.From[0]
	}
	if w.opts.SplitRecipients {
		in.scope = mailbox
	}
	if er, ok := r.(EnvelopeReader); ok {
		env := er.Envelope()
		in.envelope = env.clone()
	}
	// The look-ups happen before the write transaction, which stays short.
	p, err := w.place(ctx, in)
	if err != nil {
		return nil, err
	}
	if p.ownCopy != "" {
		var it *interaction.Interaction
		err := w.view(ctx, func(t *tx) error {
			var err error
			it, err = t.Interaction(ctx, p.ownCopy)
			return err
		})
		return it, err
	}
	var who contact.Contact
	if p.duplicate == "" && p.inbound == "" {
		// A resource is no customer: no contact is made for it.
		var warnings []string
		who, warnings = w.identify(ctx, in.from)
		p.warnings = append(p.warnings, warnings...)
	}
	var ack *OutboxItem
	var out *interaction.Interaction
	err = w.update(ctx, func(t *tx) error {
		var err error
		out, ack, err = w.takeIn(t, in, p, who)
		return err
	})
	if err != nil {
		return nil, err
	}
	if ack != nil && !w.opts.ManualDispatch {
		if it, err := w.attempt(ctx, ack); err != nil {
			w.logAttempt("acknowledgement", out.ID, it, err)
		}
	}
	return out.Clone(), nil // written, so the store's: the host gets a copy
}

// intake is one inbound message on its way in.
type intake struct {
	msg     *compose.Message
	raw     []byte
	mailbox string
	scope   string // the idempotency scope: the mailbox when recipients are split
	hash    string // compose.ContentHash of raw
	from    mail.Address
	// envelope is the SMTP envelope the message arrived with, when its
	// reader knew it (EnvelopeReader).
	envelope *Envelope
	// note says why the message is incomplete (IngestHeader), or is empty.
	note string
}

// takeIn stores the message where p says, in the ingest transaction: it
// claims the idempotency key first, so that the same message taken in
// twice at once is stored once. It returns the interaction the message
// went to and, for a new conversation, the acknowledgement to deliver
// after the commit.
func (w *Workspace) takeIn(t *tx, in *intake, p *placement, who contact.Contact) (*interaction.Interaction, *OutboxItem, error) {
	key := ingestKey(in.scope, in.msg.MessageID, in.hash)
	if p.duplicate != "" {
		// Taken in before: the key (perhaps of an older form) is claimed
		// for the interaction that holds it.
		owner, _, err := t.ClaimIngest(t.ctx, key, p.duplicate)
		if err != nil {
			return nil, nil, err
		}
		it, err := t.Interaction(t.ctx, owner)
		return it, nil, err
	}
	var open *interaction.Interaction
	target := p.inbound
	if target == "" && p.thread != "" {
		var err error
		if open, err = openInbound(t, p.thread); err != nil {
			return nil, nil, err
		}
		if open != nil {
			target = open.ID
		}
	}
	if target == "" {
		target = w.ids.NewID()
	}
	owner, claimed, err := t.ClaimIngest(t.ctx, key, target)
	if err != nil {
		return nil, nil, err
	}
	if !claimed {
		it, err := t.Interaction(t.ctx, owner)
		return it, nil, err
	}
	email := inboundEmail(in.msg, in.raw, w.ids.NewID(), target, in.mailbox, t.now)
	email.Envelope = in.envelope
	if len(p.warnings) > 0 {
		email.Warnings = append(slices.Clip(email.Warnings), p.warnings...)
	}
	email.Warnings = withNote(email.Warnings, in.note)
	switch {
	case p.inbound != "":
		it, err := w.takeResourceAnswer(t, p, email)
		return it, nil, err
	case open != nil:
		addSystemNote(open, in.note, t.now)
		it, err := w.addFollowUp(t, open, email, in.msg.Warnings, p.warnings)
		return it, nil, err
	}
	return w.newInbound(t, in, p, email, who)
}

// addFollowUp adds a customer's follow-up to the thread's open inbound.
func (w *Workspace) addFollowUp(t *tx, open *interaction.Interaction, email *Email, parse, intake []string) (*interaction.Interaction, error) {
	if err := t.PutEmail(t.ctx, email); err != nil {
		return nil, err
	}
	open.Record("system", "message", t.now, email.ID)
	recordWarnings(open, t.now, parse, intake)
	if err := t.UpdateInteraction(t.ctx, open); err != nil {
		return nil, err
	}
	return open, t.emit(EventMessage, open, open.Owner, "system", email.ID)
}

// newInbound creates the inbound interaction of a new conversation (or of
// a thread whose inbound is closed), routes it and acknowledges it.
func (w *Workspace) newInbound(t *tx, in *intake, p *placement, email *Email, who contact.Contact) (*interaction.Interaction, *OutboxItem, error) {
	msg := in.msg
	if err := t.PutEmail(t.ctx, email); err != nil {
		return nil, nil, err
	}
	it, err := interaction.New(email.InteractionID, interaction.KindInbound, "system", t.now)
	if err != nil {
		return nil, nil, err
	}
	thread := p.thread
	if thread != "" {
		it.ThreadID, it.ParentID = thread, thread
	}
	it.ContactID, it.Mailbox, it.Subject = who.ID, in.mailbox, msg.Subject
	r := w.routeFor(in.mailbox, recipients(msg))
	// Skills: the interaction's own map, not the route's (Options are the host's).
	it.Queue, it.QueuedAt, it.Skills, it.Language = r.Queue, t.now, maps.Clone(r.Skills), r.Language
	it.Priority = r.Priority
	if it.Priority == 0 {
		it.Priority = w.queue(r.Queue).Priority
	}
	if thread != "" && w.opts.StickyFor > 0 {
		last, err := lastAgent(t, thread)
		if err != nil {
			return nil, nil, err
		}
		if last != "" {
			it.PreferredAgent, it.PreferUntil = last, t.now.Add(w.opts.StickyFor)
		}
	}
	it.CaseData = make(interaction.CaseData, 0, 5+len(w.opts.CaseData))
	it.CaseData.Put(CaseSubject, msg.Subject, true)
	it.CaseData.Put(CaseFrom, displayAddress(in.from), true)
	it.CaseData.Put(CaseMailbox, in.mailbox, true)
	it.CaseData.Put(CaseReceived, t.now.UTC().Format("2006-01-02T15:04:05Z"), true)
	for _, f := range w.opts.CaseData {
		it.CaseData.Put(f.Key, f.Value, f.ReadOnly)
	}
	if msg.Auto.Automated() {
		it.CaseData.Put("Automated", msg.Auto.String(), true)
	}
	recordWarnings(it, t.now, msg.Warnings, p.warnings)
	addSystemNote(it, in.note, t.now)
	ctx := t.ctx
	if err := it.Fire(ctx, interaction.EventQueue, "system", t.now, it.Queue); err != nil {
		return nil, nil, err
	}
	if err := t.emit(EventIngested, it, "", "system", email.ID); err != nil {
		return nil, nil, err
	}
	if err := t.emit(EventQueued, it, "", "system", it.Queue); err != nil {
		return nil, nil, err
	}
	// Route before the first write, so a new interaction is stored once,
	// already offered when an agent is free.
	agent, err := w.pickAgent(t, it)
	if err != nil {
		return nil, nil, err
	}
	if agent != "" {
		if err := it.Fire(ctx, interaction.EventOffer, "system", t.now, agent); err != nil {
			return nil, nil, err
		}
		it.OfferedTo, it.OfferedAt = agent, t.now
	}
	if err := t.CreateInteraction(ctx, it); err != nil {
		return nil, nil, err
	}
	if agent != "" {
		if err := t.emit(EventOffered, it, agent, "system", ""); err != nil {
			return nil, nil, err
		}
	}
	if thread != "" {
		return it, nil, nil
	}
	f := compose.Fields{InteractionID: it.ID, Subject: it.Subject, ContactFirstName: who.FirstName, ContactLastName: who.LastName}
	ack, out, err := w.autoAcknowledge(t, it, msg, f)
	return out, ack, err
}

// recordWarnings puts an email's warnings in the history: at most five of
// what could not be read, then what the intake set aside.
func recordWarnings(it *interaction.Interaction, now time.Time, parse, intake []string) {
	for i, warn := range parse {
		if i == 5 {
			it.Record("system", "parse-warning", now, fmt.Sprintf("and %d more", len(parse)-i))
			break
		}
		it.Record("system", "parse-warning", now, warn)
	}
	for _, warn := range intake {
		it.Record("system", "warning", now, warn)
	}
}

func (w *Workspace) readRaw(r io.Reader) ([]byte, error) {
	limit := int64(compose.DefaultMaxSize)
	if w.opts.Parse != nil && w.opts.Parse.MaxSize > 0 {
		limit = w.opts.Parse.MaxSize
	}
	if l, ok := r.(interface{ Len() int }); ok && int64(l.Len()) <= limit {
		// The reader knows its size: one allocation of exactly that, as
		// the bytes are kept for as long as the email.
		raw := make([]byte, l.Len())
		n, err := io.ReadFull(r, raw)
		switch {
		case err == io.ErrUnexpectedEOF || err == io.EOF:
			return raw[:n], nil // it had less than it said: that is all
		case err != nil:
			return nil, fmt.Errorf("reading message: %w", err)
		}
		more := make([]byte, 1)
		k, err := r.Read(more)
		switch {
		case k == 0 && err == io.EOF:
			return raw, nil
		case k == 0 && err != nil:
			return nil, fmt.Errorf("reading message: %w", err)
		}
		// It had more than it said, or could not tell: read on the general
		// way.
		r = io.MultiReader(bytes.NewReader(raw), bytes.NewReader(more[:k]), r)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(r, limit+1)); err != nil {
		return nil, fmt.Errorf("reading message: %w", err)
	}
	raw := buf.Bytes()
	if int64(len(raw)) > limit {
		return nil, fmt.Errorf("%w: message is over %d bytes", ErrTooLarge, limit)
	}
	return raw, nil
}

// ingestKey is the idempotency key: the Message-ID and the content hash
// (within scope, a mailbox when recipients are split), or the content
// hash alone when there is no Message-ID.
func ingestKey(scope, messageID, hash string) string {
	if messageID != "" {
		return scope + " <" + messageID + "> sha256:" + hash
	}
	return scope + " sha256:" + hash
}

func recipients(m *compose.Message) []string {
	out := make([]string, 0, len(m.To)+len(m.Cc))
	for _, a := range m.To {
		out = append(out, a.Address)
	}
	for _, a := range m.Cc {
		out = append(out, a.Address)
	}
	return out
}

// lastAgent returns the agent who last handled an inbound of the thread.
func lastAgent(t *tx, thread string) (string, error) {
	found, err := t.FindInteractions(t.ctx, Query{Kind: interaction.KindInbound, ThreadID: thread})
	if err != nil {
		return "", err
	}
	last, at := "", time.Time{}
	for _, it := range found {
		if it.LastAgent != "" && !it.UpdatedAt.Before(at) {
			last, at = it.LastAgent, it.UpdatedAt
		}
	}
	return last, nil
}

// displayAddress writes an address for people, not for headers: no
// encoded words.
func displayAddress(a mail.Address) string {
	if a.Name == "" {
		return a.Address
	}
	return a.Name + " <" + a.Address + ">"
}

// openInbound returns the thread's open inbound interaction, if any.
func openInbound(t *tx, thread string) (*interaction.Interaction, error) {
	found, err := t.FindInteractions(t.ctx, Query{Kind: interaction.KindInbound, ThreadID: thread})
	if err != nil {
		return nil, err
	}
	for i := len(found) - 1; i >= 0; i-- {
		if found[i].State.Open() {
			return found[i], nil
		}
	}
	return nil, nil
}

func (w *Workspace) queueFor(mailbox string) string {
	for _, m := range w.opts.Mailboxes {
		if strings.EqualFold(m.Address.Address, mailbox) && m.Queue != "" {
			return m.Queue
		}
	}
	return w.opts.DefaultQueue
}
