package emailflow

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/mail"
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
// The message is stored, with its raw bytes, before Ingest returns. Its
// sender is identified in the Directory (and created when unknown, unless
// Options.NoContactCreation). A customer's reply to our mail (In-Reply-To or
// References naming one of our messages, or our token in such an id) joins
// that thread: it is added to the thread's open inbound interaction, or
// starts a new inbound interaction in the same thread. Other mail starts a
// new thread, queued in the mailbox's queue and offered to a ready agent.
//
// When r is an EnvelopeReader (the SMTP server's are), the stored email
// keeps the envelope the message arrived with.
//
// Ingest is idempotent: the same message (same Message-ID at the same
// mailbox, or the same bytes when it has no Message-ID) returns the
// interaction the first call created. A copy of one of our own emails
// (Bcc'd to a mailbox of ours, echoed back) returns the outbound
// interaction it belongs to and creates nothing. Malformed mail is taken
// in with what could be read and the warnings in the email's Warnings and
// the history.
//
// Errors: ErrInvalidInput for a mailbox that is not an address;
// ErrTooLarge beyond the parse limits; the reader's or the store's errors.
func (w *Workspace) Ingest(ctx context.Context, mailbox string, r io.Reader) (*interaction.Interaction, error) {
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
	scope := ""
	if w.opts.SplitRecipients {
		scope = mailbox
	}
	key := ingestKey(scope, msg.MessageID, raw)
	var from mail.Address
	if len(msg.From) > 0 {
		from = msg.From[0]
	}
	who, err := w.identify(ctx, from)
	if err != nil {
		return nil, err
	}
	contactID := who.ID
	var ack *OutboxItem

	var out *interaction.Interaction
	err = w.update(ctx, func(t *tx) error {
		if msg.MessageID != "" {
			// A copy of our own email (a Bcc to one of our mailboxes, a
			// mailing list echoing it back) is already stored, with its
			// bytes: it is not a customer's mail.
			own, err := t.EmailByMessageID(ctx, msg.MessageID)
			if err == nil && own.Direction == Outbound {
				out, err = t.Interaction(ctx, own.InteractionID)
				return err
			}
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		thread, err := w.findThread(t, msg, contactID)
		if err != nil {
			return err
		}
		var open *interaction.Interaction
		if thread != "" {
			open, err = openInbound(t, thread)
			if err != nil {
				return err
			}
		}
		target := w.ids.NewID()
		if open != nil {
			target = open.ID
		}
		owner, claimed, err := t.ClaimIngest(ctx, key, target)
		if err != nil {
			return err
		}
		if !claimed {
			out, err = t.Interaction(ctx, owner)
			return err
		}
		email := inboundEmail(msg, raw, w.ids.NewID(), target, mailbox, t.now)
		if er, ok := r.(EnvelopeReader); ok {
			env := er.Envelope()
			email.Envelope = env.clone()
		}
		if err := t.PutEmail(ctx, email); err != nil {
			return err
		}
		if open != nil {
			open.Record("system", "message", t.now, email.ID)
			if err := t.UpdateInteraction(ctx, open); err != nil {
				return err
			}
			out = open
			return t.emit(EventMessage, open, open.Owner, "system", email.ID)
		}
		it, err := interaction.New(target, interaction.KindInbound, "system", t.now)
		if err != nil {
			return err
		}
		if thread != "" {
			it.ThreadID, it.ParentID = thread, thread
		}
		it.ContactID, it.Mailbox, it.Subject = contactID, mailbox, msg.Subject
		r := w.routeFor(mailbox, recipients(msg))
		// Skills: the interaction's own map, not the route's (Options are the host's).
		it.Queue, it.QueuedAt, it.Skills, it.Language = r.Queue, t.now, maps.Clone(r.Skills), r.Language
		it.Priority = r.Priority
		if it.Priority == 0 {
			it.Priority = w.queue(r.Queue).Priority
		}
		if thread != "" && w.opts.StickyFor > 0 {
			last, err := lastAgent(t, thread)
			if err != nil {
				return err
			}
			if last != "" {
				it.PreferredAgent, it.PreferUntil = last, t.now.Add(w.opts.StickyFor)
			}
		}
		it.CaseData = make(interaction.CaseData, 0, 5+len(w.opts.CaseData))
		it.CaseData.Put(CaseSubject, msg.Subject, true)
		it.CaseData.Put(CaseFrom, displayAddress(from), true)
		it.CaseData.Put(CaseMailbox, mailbox, true)
		it.CaseData.Put(CaseReceived, t.now.UTC().Format("2006-01-02T15:04:05Z"), true)
		for _, f := range w.opts.CaseData {
			it.CaseData.Put(f.Key, f.Value, f.ReadOnly)
		}
		if msg.Auto.Automated() {
			it.CaseData.Put("Automated", msg.Auto.String(), true)
		}
		for i, warn := range msg.Warnings {
			if i == 5 {
				it.Record("system", "parse-warning", t.now, fmt.Sprintf("and %d more", len(msg.Warnings)-i))
				break
			}
			it.Record("system", "parse-warning", t.now, warn)
		}
		if err := it.Fire(ctx, interaction.EventQueue, "system", t.now, it.Queue); err != nil {
			return err
		}
		if err := t.emit(EventIngested, it, "", "system", email.ID); err != nil {
			return err
		}
		if err := t.emit(EventQueued, it, "", "system", it.Queue); err != nil {
			return err
		}
		// Route before the first write, so a new interaction is stored once,
		// already offered when an agent is free.
		agent, err := w.pickAgent(t, it)
		if err != nil {
			return err
		}
		if agent != "" {
			if err := it.Fire(ctx, interaction.EventOffer, "system", t.now, agent); err != nil {
				return err
			}
			it.OfferedTo, it.OfferedAt = agent, t.now
		}
		if err := t.CreateInteraction(ctx, it); err != nil {
			return err
		}
		out = it
		if agent != "" {
			if err := t.emit(EventOffered, it, agent, "system", ""); err != nil {
				return err
			}
		}
		if thread == "" {
			f := compose.Fields{InteractionID: it.ID, Subject: it.Subject, ContactFirstName: who.FirstName, ContactLastName: who.LastName}
			ack, out, err = w.autoAcknowledge(t, it, msg, f)
		}
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

// ingestKey is the idempotency key: the Message-ID (within scope, a
// mailbox when recipients are split), or a hash of the bytes when there is
// none.
func ingestKey(scope, messageID string, raw []byte) string {
	if messageID != "" {
		return scope + " <" + messageID + ">"
	}
	sum := sha256.Sum256(raw)
	return scope + " sha256:" + hex.EncodeToString(sum[:])
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

// identify returns the contact of the sender, creating it when unknown
// (unless disabled); the zero Contact when there is none. When several
// contacts share the address, Options.ChooseContact decides (the most
// recently updated by default); a chooser that refuses leaves the email
// without a contact.
func (w *Workspace) identify(ctx context.Context, from mail.Address) (contact.Contact, error) {
	if from.Address == "" {
		return contact.Contact{}, nil
	}
	found, err := w.dir.ContactsByAddress(ctx, from.Address)
	if err != nil {
		return contact.Contact{}, fmt.Errorf("identifying %s: %w", from.Address, err)
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) > 1:
		choose := w.opts.ChooseContact
		if choose == nil {
			choose = contact.MostRecent
		}
		c, err := choose(from.Address, found)
		if err != nil {
			w.log.Info("emailflow: sender left unidentified", "address", from.Address, "err", err)
			return contact.Contact{}, nil
		}
		return c, nil
	}
	if w.opts.NoContactCreation {
		return contact.Contact{}, nil
	}
	now := w.clock.Now()
	c := contact.Contact{ID: w.ids.NewID(), Emails: []string{from.Address}, CreatedAt: now, UpdatedAt: now}
	c.FirstName, c.LastName = splitName(from.Name)
	if err := w.dir.CreateContact(ctx, c); err != nil {
		return contact.Contact{}, fmt.Errorf("creating contact %s: %w", from.Address, err)
	}
	return c, nil
}

// displayAddress writes an address for people, not for headers: no
// encoded words.
func displayAddress(a mail.Address) string {
	if a.Name == "" {
		return a.Address
	}
	return a.Name + " <" + a.Address + ">"
}

func splitName(name string) (first, last string) {
	name = strings.TrimSpace(name)
	if i := strings.LastIndexByte(name, ' '); i > 0 {
		return strings.TrimSpace(name[:i]), name[i+1:]
	}
	return name, ""
}

// findThread returns the thread a message belongs to, from the ids it
// answers (In-Reply-To first, then References newest first): one of our
// stored messages, or our token in a Message-ID we generated. A token alone
// is trusted only from the thread's own contact: ids can be guessed, and a
// stranger must not slip into another customer's conversation. Never from
// the subject.
func (w *Workspace) findThread(t *tx, msg *compose.Message, contactID string) (string, error) {
	ids := make([]string, 0, len(msg.InReplyTo)+len(msg.References))
	ids = append(ids, msg.InReplyTo...)
	for i := len(msg.References) - 1; i >= 0; i-- {
		ids = append(ids, msg.References[i])
	}
	for _, id := range ids {
		e, err := t.EmailByMessageID(t.ctx, id)
		if err == nil {
			it, err := t.Interaction(t.ctx, e.InteractionID)
			if err != nil {
				return "", err
			}
			return it.ThreadID, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return "", err
		}
	}
	for _, id := range ids {
		token, ok := w.threadToken(id)
		if !ok {
			continue
		}
		it, err := t.Interaction(t.ctx, token)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return "", err
		}
		if contactID != "" && it.ContactID == contactID {
			return it.ThreadID, nil
		}
	}
	return "", nil
}

// messageID is the Message-ID of an email we send: it carries the thread
// id, so a reply is threaded even when its client dropped our message from
// References or the message is no longer stored.
func (w *Workspace) messageID(thread, emailID string) string {
	return "ef." + thread + "." + emailID + "@" + w.opts.Hostname
}

func (w *Workspace) threadToken(id string) (string, bool) {
	local, ok := strings.CutSuffix(id, "@"+w.opts.Hostname)
	if !ok {
		return "", false
	}
	rest, ok := strings.CutPrefix(local, "ef.")
	if !ok {
		return "", false
	}
	thread, _, ok := strings.Cut(rest, ".")
	return thread, ok && thread != ""
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
