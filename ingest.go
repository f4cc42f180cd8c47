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
	"github.com/emailflow/emailflow/sla"
)

// System case data keys, set read-only on every inbound interaction.
const (
	CaseSubject  = "Subject"
	CaseFrom     = "From"
	CaseMailbox  = "Mailbox"
	CaseReceived = "Received"
	// CaseAutomated is the class of automated mail ("auto-reply",
	// "bulk", "list", "bounce"), set when the mail is not a person's.
	CaseAutomated = "Automated"
	// CaseQuarantine is why quarantined mail was set aside.
	CaseQuarantine = "Quarantine"
)

// Ingest takes in one raw RFC 5322 message received at mailbox (one of our
// addresses), from any source: a webhook, LMTP, an IMAP poller.
//
// The message is stored whole, with its raw bytes, before Ingest returns:
// once Ingest succeeds it is findable, on the interaction it returns. What
// it is decides where it goes, in this order (docs/design.md, "Intake"):
//
//   - One of ours: a copy of one of our own emails (Bcc'd to a mailbox of
//     ours, echoed back) returns the outbound interaction it belongs to
//     and creates nothing; mail carrying our X-Loop field is quarantined.
//     The same message taken in again (same Message-ID and content at the
//     same mailbox, the content compared without the trace fields relays
//     add: see compose.ContentHash; or the same content when it has no
//     Message-ID) returns the interaction the first call created. The
//     same Message-ID with other content is another message, taken in
//     with a warning.
//   - A bounce (compose.AutoBounce; Email.Report says what it reports)
//     that names one of our emails is stored on that email's outbound
//     interaction (Email.BounceOf): a failure fails a sent email back to
//     its agent, a delay is recorded; see EventBounced. A bounce that
//     names nothing of ours goes to Options.BounceQueue, without a
//     contact.
//   - Automated mail (an out-of-office answer, an auto-reply) that joins
//     a conversation is stored on it as automatic (EventAutoReply): it
//     reopens nothing and is offered to nobody, unless
//     Options.AutoRepliesAsMail.
//   - The sender lists (SenderRule), then Options.Filters, may let it
//     through, quarantine it (an inbound interaction in StateQuarantined,
//     for a supervisor to Release or delete) or reject it (ErrRejected,
//     nothing stored). Automated mail beyond Options.AutoMailLimit from
//     its sender is quarantined.
//   - Customer mail: a reply joins its conversation (In-Reply-To, then
//     the newest References, or our token in such an id) only when its
//     sender is a party of that conversation: the contact, an address
//     that was on one of its emails (a Cc'd party, a resource we
//     forwarded it to); it is added to the thread's open inbound
//     interaction, or starts a new inbound interaction in the same
//     thread. A reference that fails that check is recorded as a warning
//     and the mail starts a new conversation. An external resource's
//     answer to one of our forwards is stored on the inbound the forward
//     was made from (see Email.ForwardID, EventResourceAnswer). Other
//     mail starts a new thread, queued in its queue and offered to a
//     ready agent, and is acknowledged (Options.AutoAcknowledge).
//
// The sender of mail that starts an interaction is identified in the
// Directory, and a contact created when unknown, as Options.ContactRules
// allow; a sender no contact can be made for is taken in without one,
// with a warning. When r is an EnvelopeReader (the SMTP server's are), the
// stored email keeps the envelope the message arrived with, and a null
// reverse path marks automated mail. Malformed mail is taken in with what
// could be read and the warnings in the email's Warnings and the history.
//
// Errors: ErrInvalidInput for a mailbox that is not an address;
// ErrTooLarge beyond the parse limits; ErrRejected for mail the sender
// lists or a filter refused; the reader's or the store's errors.
func (w *Workspace) Ingest(ctx context.Context, mailbox string, r io.Reader) (*interaction.Interaction, error) {
	return w.ingest(ctx, mailbox, r, "")
}

// ingest is Ingest. A non-empty note goes, in the same transaction, to
// the email's warnings and, as a system note, to the inbound interaction
// the message joins or starts (see IngestHeader).
func (w *Workspace) ingest(ctx context.Context, mailbox string, r io.Reader, note string) (*interaction.Interaction, error) {
	in, err := w.receive(mailbox, r)
	if err != nil {
		return nil, err
	}
	in.note = note
	// The look-ups and the decisions happen before the write transaction,
	// which stays short.
	if err := w.lookup(ctx, in); err != nil {
		return nil, err
	}
	if err := w.classify(ctx, in); err != nil {
		return nil, err
	}
	switch in.dest {
	case toReject:
		w.log.Info("emailflow: message rejected", "mailbox", in.mailbox, "from", in.from.Address, "filter", in.verdict.Filter, "reason", in.verdict.Reason)
		return nil, fmt.Errorf("%w by %s: %s", ErrRejected, in.verdict.Filter, in.verdict.Reason)
	case toOwnCopy:
		return w.interactionOf(ctx, in.ownCopy)
	}
	if err := w.limit(ctx, in); err != nil {
		return nil, err
	}
	w.identify(ctx, in)
	var ack *OutboxItem
	var out *interaction.Interaction
	err = w.update(ctx, func(t *tx) error {
		ack = nil // what an attempt that lost a race queued was rolled back
		target, open, before, err := w.claim(t, in)
		if err != nil || before != nil {
			out = before
			return err
		}
		out, ack, err = w.storeMail(t, in, target, open)
		return err
	})
	if err != nil {
		return nil, err
	}
	w.acknowledge(ctx, out, ack)
	return out.Clone(), nil // written, so the store's: the host gets a copy
}

// destination is where the intake puts a message.
type destination int

const (
	// toInbox: a new inbound interaction, routed (or the thread's open
	// one, for a follow-up).
	toInbox      destination = iota
	toDuplicate              // the interaction already holding it
	toOwnCopy                // the outbound it is a copy of: nothing to take in
	toBounce                 // the outbound of the email it reports on
	toAutomatic              // its conversation, as an automatic answer
	toResource               // the inbound a forward was made from, as a resource's answer
	toQuarantine             // a new quarantined inbound interaction
	toReject                 // nowhere: refused
)

// intake is one inbound message on its way in: what was read, then what
// each step decided.
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

	// lookup: the stored emails its ids name, the sender rule.
	same     *Email // the email holding its own Message-ID
	original *Email // the email its delivery report names
	cands    []candidate
	rule     *SenderRule // the sender lists' rule for its sender, if any
	// senders are the contacts having the From address, when the store
	// read them with the look-ups (see contactsAhead); nil otherwise.
	senders *contactsRead

	// classify and thread.
	placement
	dest     destination
	bounceOf *Email   // toBounce: our email the report is about
	verdict  *Verdict // the filter's decision, when one decided
	allowed  bool     // a filter or the sender lists let it through on their own say
	reason   string   // toQuarantine: why

	// identify.
	who contact.Contact
}

// senderAddress is the address the mail is from: From, else the
// envelope's reverse path.
func (in *intake) senderAddress() string {
	if in.from.Address != "" {
		return in.from.Address
	}
	if in.envelope != nil {
		return in.envelope.From
	}
	return ""
}

// receive reads and parses the message: the intake's first step.
func (w *Workspace) receive(mailbox string, r io.Reader) (*intake, error) {
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
	in := &intake{raw: raw, mailbox: mailbox}
	if er, ok := r.(EnvelopeReader); ok {
		env := er.Envelope()
		in.envelope = env.Clone()
	}
	opts := w.opts.Parse
	if in.envelope != nil && in.envelope.From == "" {
		// A null reverse path is a sign of automated mail, which compose
		// weighs with the rest.
		o := compose.ParseOptions{}
		if opts != nil {
			o = *opts
		}
		o.NullSender = true
		opts = &o
	}
	msg, err := compose.ParseBytes(raw, opts) // raw is kept, never changed
	if err != nil {
		return nil, domainErr(err)
	}
	in.msg, in.hash = msg, compose.ContentHash(raw)
	if len(msg.From) > 0 {
		in.from = msg.From[0]
	}
	if w.opts.SplitRecipients {
		in.scope = mailbox
	}
	return in, nil
}

// interactionOf returns interaction id, read in a transaction of its own.
func (w *Workspace) interactionOf(ctx context.Context, id string) (*interaction.Interaction, error) {
	var it *interaction.Interaction
	err := w.view(ctx, func(t *tx) error {
		var err error
		it, err = t.Interaction(ctx, id)
		return err
	})
	return it, err
}

// limit applies Options.AutoMailLimit to automated mail on its way to
// agents or to a conversation: beyond it, the mail is quarantined. Mail
// the sender lists or a filter let through is not counted; neither are
// bounces of our emails nor a message taken in before.
func (w *Workspace) limit(ctx context.Context, in *intake) error {
	if !in.msg.Auto.Automated() || in.allowed || w.opts.AutoMailLimit.off() {
		return nil
	}
	if in.dest != toInbox && in.dest != toAutomatic {
		return nil
	}
	sender := in.senderAddress()
	if sender == "" {
		sender = "<>"
	}
	var ok bool
	err := w.update(ctx, func(t *tx) error {
		var err error
		ok, err = w.count(t, rateAutoMail, sender, w.opts.AutoMailLimit)
		return err
	})
	if err != nil || ok {
		return err
	}
	l := w.opts.AutoMailLimit
	in.dest = toQuarantine
	in.reason = fmt.Sprintf("automated mail from %s beyond %d in %v: a loop?", sender, l.Max, l.Per)
	return nil
}

// claim claims the message's idempotency key for the interaction it goes
// to, in the ingest transaction: claiming first makes the same message
// taken in twice at once stored once. It returns that interaction's id
// and, for a follow-up, the thread's open inbound; or, for a message
// taken in before, the interaction holding it.
func (w *Workspace) claim(t *tx, in *intake) (target string, open, before *interaction.Interaction, err error) {
	switch in.dest {
	case toDuplicate:
		target = in.duplicate
	case toBounce:
		target = in.bounceOf.InteractionID
	case toResource:
		target = in.inbound
	case toAutomatic:
		it, err := conversationOf(t, in.thread, in.joined)
		if err != nil {
			return "", nil, nil, err
		}
		target = it.ID
	case toInbox:
		if in.thread != "" {
			if open, err = openInbound(t, in.thread); err != nil {
				return "", nil, nil, err
			}
			if open != nil {
				target = open.ID
			}
		}
	}
	if target == "" {
		target = w.ids.NewID()
	}
	owner, claimed, err := t.ClaimIngest(t.ctx, ingestKey(in.scope, in.msg.MessageID, in.hash), target)
	if err != nil {
		return "", nil, nil, err
	}
	if !claimed || in.dest == toDuplicate {
		// Taken in before: the key (perhaps of an older form) is claimed
		// for the interaction that holds it.
		before, err = t.Interaction(t.ctx, owner)
		return "", nil, before, err
	}
	return target, open, nil, nil
}

// storeMail stores the message in interaction target (open, for a
// follow-up) where the intake decided, in the ingest transaction. It
// returns the interaction the message went to and, for a new
// conversation, the acknowledgement to deliver after the commit.
func (w *Workspace) storeMail(t *tx, in *intake, target string, open *interaction.Interaction) (*interaction.Interaction, *OutboxItem, error) {
	email := inboundEmail(in.msg, in.raw, w.ids.NewID(), target, in.mailbox, t.now)
	email.Envelope, email.Verdict = in.envelope, in.verdict
	if len(in.warnings) > 0 {
		email.Warnings = append(slices.Clip(email.Warnings), in.warnings...)
	}
	email.Warnings = withNote(email.Warnings, in.note)
	var it *interaction.Interaction
	var err error
	switch in.dest {
	case toBounce:
		it, err = w.takeBounce(t, in, email)
	case toAutomatic:
		it, err = w.takeAutomatic(t, in, email)
	case toResource:
		it, err = w.takeResourceAnswer(t, &in.placement, email)
	case toQuarantine:
		it, err = w.quarantine(t, in, email)
	default:
		if open != nil {
			addSystemNote(open, in.note, t.now)
			it, err = w.addFollowUp(t, open, email, in.msg.Warnings, in.warnings)
			break
		}
		return w.routeInbound(t, in, email)
	}
	return it, nil, err
}

// addFollowUp adds a customer's follow-up to the thread's open inbound.
func (w *Workspace) addFollowUp(t *tx, open *interaction.Interaction, email *Email, parse, intake []string) (*interaction.Interaction, error) {
	if err := t.PutEmail(t.ctx, email); err != nil {
		return nil, err
	}
	open.Record("system", "message", t.now, email.ID)
	recordWarnings(open, t.now, parse, intake)
	moved, err := w.slaApply(t, open, sla.Event{Kind: sla.CustomerMessage, At: t.now})
	if err != nil {
		return nil, err
	}
	if err := t.emit(EventMessage, open, open.Owner, "system", email.ID); err != nil {
		return nil, err
	}
	// The customer answered: a pending interaction goes back to work.
	if err := w.wake(t, open, "customer"); err != nil {
		return nil, err
	}
	if moved {
		return open, w.route(t, open)
	}
	return open, nil
}

// newInbound returns the inbound interaction a message starts, not yet
// stored: in its thread when it has one, with the sender's contact and
// the system's case data.
func (w *Workspace) newInbound(t *tx, in *intake, id string) (*interaction.Interaction, error) {
	msg := in.msg
	it, err := interaction.New(id, interaction.KindInbound, "system", t.now)
	if err != nil {
		return nil, err
	}
	if in.thread != "" {
		it.ThreadID, it.ParentID = in.thread, in.thread
	}
	it.ContactID, it.Mailbox, it.Subject = in.who.ID, in.mailbox, msg.Subject
	it.CaseData = make(interaction.CaseData, 0, 6+len(w.opts.CaseData))
	it.CaseData.Put(CaseSubject, msg.Subject, true)
	it.CaseData.Put(CaseFrom, displayAddress(in.from), true)
	it.CaseData.Put(CaseMailbox, in.mailbox, true)
	it.CaseData.Put(CaseReceived, t.now.UTC().Format("2006-01-02T15:04:05Z"), true)
	for _, f := range w.opts.CaseData {
		it.CaseData.Put(f.Key, f.Value, f.ReadOnly)
	}
	if msg.Auto.Automated() {
		it.CaseData.Put(CaseAutomated, msg.Auto.String(), true)
	}
	recordWarnings(it, t.now, msg.Warnings, in.warnings)
	addSystemNote(it, in.note, t.now)
	return it, nil
}

// applyRoute puts it in the queue its mail routes to (Options.Routes,
// the mailbox's queue), with the route's skills, language and priority;
// a bounce of nothing of ours goes to Options.BounceQueue when set.
func (w *Workspace) applyRoute(it *interaction.Interaction, mailbox string, addrs []string, auto compose.Auto, now time.Time) {
	r := w.routeFor(mailbox, addrs)
	if auto == compose.AutoBounce && w.opts.BounceQueue != "" {
		r = Route{Queue: w.opts.BounceQueue}
	}
	// Skills: the interaction's own map, not the route's (Options are the host's).
	it.Queue, it.QueuedAt, it.Skills, it.Language = r.Queue, now, maps.Clone(r.Skills), r.Language
	it.Priority, it.SLA.Route = r.Priority, r.Name
	if it.Priority == 0 {
		it.Priority = w.queue(r.Queue).Priority
	}
}

// routeInbound stores a message that starts an inbound interaction (a new
// conversation, or a thread whose inbound is closed), queues it and
// offers it to a ready agent, and acknowledges a new conversation.
func (w *Workspace) routeInbound(t *tx, in *intake, email *Email) (*interaction.Interaction, *OutboxItem, error) {
	if err := t.PutEmail(t.ctx, email); err != nil {
		return nil, nil, err
	}
	it, err := w.newInbound(t, in, email.InteractionID)
	if err != nil {
		return nil, nil, err
	}
	w.applyRoute(it, in.mailbox, recipients(in.msg), in.msg.Auto, t.now)
	if in.thread != "" && w.opts.StickyFor > 0 {
		last, err := lastAgent(t, in.thread)
		if err != nil {
			return nil, nil, err
		}
		if last != "" {
			it.PreferredAgent, it.PreferUntil = last, t.now.Add(w.opts.StickyFor)
		}
	}
	ctx := t.ctx
	if err := it.Fire(ctx, interaction.EventQueue, "system", t.now, it.Queue); err != nil {
		return nil, nil, err
	}
	queued := it.State
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
	// Its events follow its write, which numbers them without a round
	// trip of their own (a store may take their numbers with it); they
	// tell the state each step left it in.
	for _, e := range [...]struct {
		typ    EventType
		detail string
	}{{EventIngested, email.ID}, {EventQueued, it.Queue}} {
		if err := t.appendEvent(Event{Type: e.typ, InteractionID: it.ID, Actor: "system", State: queued, At: t.now, Detail: e.detail}); err != nil {
			return nil, nil, err
		}
	}
	if agent != "" {
		if err := t.emit(EventOffered, it, agent, "system", ""); err != nil {
			return nil, nil, err
		}
	}
	if in.thread != "" {
		return it, nil, nil
	}
	f := compose.Fields{InteractionID: it.ID, Subject: it.Subject, ContactFirstName: in.who.FirstName, ContactLastName: in.who.LastName}
	ack, out, err := w.autoAcknowledge(t, it, in.msg, f)
	return out, ack, err
}

// acknowledge delivers the acknowledgement the ingest transaction queued,
// after its commit: the intake's last step. A failure leaves it in the
// outbox for a retry.
func (w *Workspace) acknowledge(ctx context.Context, it *interaction.Interaction, ack *OutboxItem) {
	if ack == nil || w.opts.ManualDispatch {
		return
	}
	if o, err := w.attempt(ctx, ack); err != nil {
		w.logAttempt("acknowledgement", it.ID, o, err)
	}
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
// Quarantined mail is not one: a follow-up that passed the filters must
// not wait behind it.
func openInbound(t *tx, thread string) (*interaction.Interaction, error) {
	found, err := t.FindInteractions(t.ctx, Query{Kind: interaction.KindInbound, ThreadID: thread})
	if err != nil {
		return nil, err
	}
	for i := len(found) - 1; i >= 0; i-- {
		if found[i].State.Open() && found[i].State != interaction.StateQuarantined {
			return found[i], nil
		}
	}
	return nil, nil
}

func (w *Workspace) queueFor(mailbox string) string {
	for _, m := range w.opts.Mailboxes {
		if strings.EqualFold(m.Address, mailbox) && m.Queue != "" {
			return m.Queue
		}
	}
	return w.opts.DefaultQueue
}
