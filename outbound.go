package emailflow

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/contact"
	"github.com/emailflow/emailflow/interaction"
)

// Reply starts a reply to the customer's latest email of inbound interaction
// id: an outbound draft, child of the inbound and in its thread, addressed
// to the sender (or their Reply-To), with a "Re:" subject, the quoted
// original and In-Reply-To / References. Only the owner may reply, and only
// while handling it.
//
// Errors: ErrNotFound; ErrForbidden (not the owner); ErrInvalidTransition
// (the inbound is not being handled, e.g. done).
func (ac *Actor) Reply(ctx context.Context, id string) (*Draft, error) {
	w, agentID := ac.w, ac.id
	return w.respond(ctx, agentID, id, interaction.PurposeReply)
}

// ReplyAll is Reply addressed also to the original's other To and Cc
// recipients, less our own mailboxes and duplicates. Errors as for Reply.
func (ac *Actor) ReplyAll(ctx context.Context, id string) (*Draft, error) {
	w, agentID := ac.w, ac.id
	return w.respond(ctx, agentID, id, interaction.PurposeReplyAll)
}

// ForwardRequest says where and how to forward an email.
type ForwardRequest struct {
	To []mail.Address // the external resource
	// Instructions is the text written above the forwarded email.
	Instructions string
	// AsAttachment attaches the original as a message/rfc822 part instead
	// of quoting it inline.
	AsAttachment bool
}

// Forward starts a forward of the latest customer email of inbound
// interaction id to an external address, with instructions, inline or with
// the original attached. The result is an outbound draft the agent may edit
// and then Send. Errors as for Reply, plus ErrInvalidInput for a missing or
// malformed recipient and ErrTooLarge over Limits.InstructionsBytes or
// Limits.Recipients.
func (ac *Actor) Forward(ctx context.Context, id string, req ForwardRequest) (*Draft, error) {
	w, agentID := ac.w, ac.id
	if err := w.checkForward(req); err != nil {
		return nil, err
	}
	return w.startDraft(ctx, agentID, id, PrivilegeForward, interaction.PurposeForward, func(parent *interaction.Interaction, orig *Email) (*compose.Draft, error) {
		d, err := compose.Forward(emailMessage(orig), orig.Raw, &compose.ForwardOptions{
			From: w.mailboxAddress(parent.Mailbox), To: req.To, Instructions: req.Instructions,
			AsAttachment: req.AsAttachment, QuoteLanguage: w.opts.QuoteLanguage,
		})
		return d, domainErr(err)
	})
}

// checkForward refuses a forward request without a valid recipient, or over
// the limits.
func (w *Workspace) checkForward(req ForwardRequest) error {
	if len(req.To) == 0 {
		return fmt.Errorf("%w: forward needs a recipient", ErrInvalidInput)
	}
	if err := checkAddresses("To", req.To); err != nil {
		return err
	}
	if err := w.checkRecipients(req.To, nil, nil); err != nil {
		return err
	}
	return tooLarge("forward instructions", req.Instructions, w.opts.Limits.InstructionsBytes)
}

func (w *Workspace) respond(ctx context.Context, agentID, id string, p interaction.Purpose) (*Draft, error) {
	return w.startDraft(ctx, agentID, id, PrivilegeHandle, p, func(parent *interaction.Interaction, orig *Email) (*compose.Draft, error) {
		o := &compose.ReplyOptions{From: w.mailboxAddress(parent.Mailbox), Own: w.ownAddresses(parent.Mailbox), QuoteLanguage: w.opts.QuoteLanguage}
		if p == interaction.PurposeReplyAll {
			return compose.ReplyAll(emailMessage(orig), o), nil
		}
		return compose.Reply(emailMessage(orig), o), nil
	})
}

// startDraft creates a reply or forward of the latest customer email of
// inbound id in one transaction: the inbound, its emails and the agent
// are read in one round trip, the draft is built from them (quoting,
// sanitizing: microseconds, with no row locked, as a draft takes no
// agent lock), then stored. An inbound changed meanwhile fails its write
// (ErrConflict), and update runs it all again on what changed.
func (w *Workspace) startDraft(ctx context.Context, agentID, id string, priv Privilege, p interaction.Purpose, build func(*interaction.Interaction, *Email) (*compose.Draft, error)) (*Draft, error) {
	// Only a signature reads the fields (the agent, the contact).
	signs := w.opts.Signatures != nil
	var out *Draft
	err := w.update(ctx, func(t *tx) error {
		// Sent ahead, to ride with the agent's read: the inbound, then its
		// emails (see respondable), and for a signature the inbound's
		// contact when the store reads the Directory's contacts.
		t.aheadInteraction(id)
		t.aheadEmails(id)
		cr, ahead := t.contactsAhead()
		if signs && ahead {
			cr.PrefetchContactOf(ctx, id)
		}
		// A draft takes no capacity: the agent's load is not read, nor
		// its row locked. An unknown agent is reported after the inbound's
		// checks, as the privilege (see checkAgent below).
		a, aerr := readAgent(t, agentID, false)
		if aerr != nil && !errors.Is(aerr, ErrNotFound) && !errors.Is(aerr, ErrForbidden) {
			return aerr
		}
		parent, orig, err := w.respondable(t, agentID, id)
		if err != nil {
			return err
		}
		var who *contactsRead
		if signs {
			if aerr != nil {
				return aerr // the signature's agent cannot be read
			}
			if ahead {
				if c, ok, err := cr.ContactOfRead(id); ok {
					who = &contactsRead{found: []contact.Contact{c}, err: err}
				}
			}
		}
		d, err := build(parent, orig)
		if err != nil {
			return err
		}
		if signs {
			if err := w.sign(d, agentID, parent.Mailbox, true, w.fields(ctx, parent, a, who)); err != nil {
				return err
			}
		}
		if _, err := w.checkAgent(agentID, priv, a, aerr); err != nil {
			return err
		}
		out, err = w.createDraft(t, agentID, parent, p, d)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out.copy(), nil
}

// respondable loads an inbound interaction the agent handles and its latest
// customer email (a resource's answer, an out-of-office answer is not the
// customer's).
func (w *Workspace) respondable(t *tx, agentID, id string) (*interaction.Interaction, *Email, error) {
	t.aheadEmails(id) // with the interaction's read, sent before it by startDraft
	it, err := t.Interaction(t.ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if it.Kind != interaction.KindInbound {
		return nil, nil, fmt.Errorf("%w: %s is a %s interaction; only inbound email is answered", ErrInvalidInput, id, it.Kind)
	}
	if it.State != interaction.StateHandling {
		return nil, nil, fmt.Errorf("%w: inbound %s is %s, not handling", ErrInvalidTransition, id, it.State)
	}
	if err := it.CheckOwner(agentID); err != nil {
		return nil, nil, err
	}
	emails, err := t.EmailsOf(t.ctx, id)
	if err != nil {
		return nil, nil, err
	}
	for i := len(emails) - 1; i >= 0; i-- {
		if fromCustomer(emails[i]) {
			return it, emails[i], nil
		}
	}
	return nil, nil, fmt.Errorf("%w: inbound %s has no email", ErrNotFound, id)
}

// createDraft stores a new outbound interaction (child of parent, owned by
// agent) with the draft d. A draft to more than Limits.Recipients addresses
// (a reply to a customer's long Reply-To) keeps the first ones, with a
// warning on the email and in the history.
func (w *Workspace) createDraft(t *tx, agentID string, parent *interaction.Interaction, p interaction.Purpose, d *compose.Draft) (*Draft, error) {
	cut := w.cutRecipients(d)
	o, err := interaction.New(w.ids.NewID(), interaction.KindOutbound, agentID, t.now)
	if err != nil {
		return nil, err
	}
	o.Purpose, o.ParentID = p, parent.ID
	if parent.ThreadID != "" {
		o.ThreadID = parent.ThreadID
	}
	o.ContactID, o.Mailbox, o.Subject, o.Owner, o.Queue = parent.ContactID, parent.Mailbox, d.Subject, agentID, parent.Queue
	if cut != "" {
		o.Record(agentID, "recipients-cut", t.now, cut)
	}
	if err := t.CreateInteraction(t.ctx, o); err != nil {
		return nil, err
	}
	emailID := w.ids.NewID()
	e := &Email{
		ID: emailID, InteractionID: o.ID, Direction: Outbound, Mailbox: parent.Mailbox,
		MessageID: w.messageID(o.ThreadID), References: d.References,
		From: d.From, To: d.To, Cc: d.Cc, Bcc: d.Bcc, ReplyTo: d.ReplyTo,
		Subject: d.Subject, Text: d.Text, HTML: d.HTML,
		CreatedAt: t.now, UpdatedAt: t.now,
	}
	if d.InReplyTo != "" {
		e.InReplyTo = []string{d.InReplyTo}
	}
	if cut != "" {
		e.Warnings = []string{cut}
	}
	for i, a := range d.Attachments {
		e.Attachments = append(e.Attachments, fromComposeAttachment(emailID, i, a))
	}
	if err := t.PutEmail(t.ctx, e); err != nil {
		return nil, err
	}
	if parent.ID != "" {
		parent.Record(agentID, string(p), t.now, o.ID)
		if err := t.UpdateInteraction(t.ctx, parent); err != nil {
			return nil, err
		}
	}
	if err := t.emit(EventDraft, o, agentID, agentID, string(p)); err != nil {
		return nil, err
	}
	return &Draft{Interaction: o, Email: e}, nil
}

func (w *Workspace) mailboxAddress(mailbox string) mail.Address {
	for _, m := range w.opts.Mailboxes {
		if strings.EqualFold(m.Address, mailbox) {
			return m.mailAddress()
		}
	}
	return mail.Address{Address: mailbox}
}

func (w *Workspace) ownAddresses(mailbox string) []string {
	out := make([]string, 0, len(w.opts.Mailboxes)+1)
	out = append(out, mailbox)
	for _, m := range w.opts.Mailboxes {
		out = append(out, m.Address)
	}
	return out
}

func draftEmail(t *tx, o *interaction.Interaction) (*Email, error) {
	if o.Kind != interaction.KindOutbound {
		return nil, fmt.Errorf("%w: %s is %s, not outbound", ErrInvalidInput, o.ID, o.Kind)
	}
	emails, err := t.EmailsOf(t.ctx, o.ID)
	if err != nil {
		return nil, err
	}
	// The latest outbound one: delivery reports about it are kept beside
	// it (Email.BounceOf).
	for i := len(emails) - 1; i >= 0; i-- {
		if emails[i].Direction == Outbound {
			return emails[i], nil
		}
	}
	return nil, fmt.Errorf("%w: outbound %s has no email", ErrNotFound, o.ID)
}

// checkHeaderText refuses CR, LF and other control characters in a value
// that becomes a header: they would let a user inject headers.
func checkHeaderText(field, v string) error {
	if strings.IndexFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\t' }) >= 0 {
		return fmt.Errorf("%w: %s contains a control character (CR/LF header injection refused)", ErrInvalidInput, field)
	}
	return nil
}

// checkBodyText refuses a body that is not valid UTF-8 or holds a NUL:
// mail may not carry a NUL (RFC 5322), and a reader could take text with
// NULs for UTF-16.
func checkBodyText(field, v string) error {
	if !utf8.ValidString(v) {
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalidInput, field)
	}
	if strings.IndexByte(v, 0) >= 0 {
		return fmt.Errorf("%w: %s contains a NUL character", ErrInvalidInput, field)
	}
	return nil
}

func checkAddresses(field string, as []mail.Address) error {
	for _, a := range as {
		if err := checkHeaderText(field+" name", a.Name); err != nil {
			return err
		}
		p, err := mail.ParseAddress(a.Address)
		if err != nil || p.Address != a.Address {
			return fmt.Errorf("%w: %s address %q is not a valid address", ErrInvalidInput, field, a.Address)
		}
	}
	return nil
}
