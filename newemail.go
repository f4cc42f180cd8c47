package emailflow

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"

	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/contact"
	"github.com/emailflow/emailflow/interaction"
)

// sign adds the signature of agent for mailbox (Options.Signatures, with
// its field codes filled from f): under the agent's text and above the
// quoted or forwarded content of a reply or forward (quoted), at the end of
// a new email.
func (w *Workspace) sign(d *compose.Draft, agent, mailbox string, quoted bool, f compose.Fields) error {
	if w.opts.Signatures == nil {
		return nil
	}
	sig, ok := w.opts.Signatures.For(agent, mailbox)
	if !ok {
		return nil
	}
	sig, err := sig.Fill(f)
	if err != nil {
		return domainErr(err)
	}
	if quoted {
		sig.Apply(d)
		return nil
	}
	d.Text += "\n-- \n" + sig.Text + "\n"
	if d.HTML != "" {
		d.HTML += `<div class="signature">-- <br>` + sig.HTML + "</div>"
	}
	return nil
}

// fields are the values of the field codes of standard responses and
// signatures for an interaction handled by agent a. The contact's come
// from the Directory, or from who, its contact as read already (with the
// interaction, in the same transaction) when not nil.
func (w *Workspace) fields(ctx context.Context, it *interaction.Interaction, a *Agent, who *contactsRead) compose.Fields {
	f := compose.Fields{InteractionID: it.ID, Subject: it.Subject, CaseData: map[string]string{}}
	if a != nil {
		f.AgentName = a.Name
	}
	for _, c := range it.CaseData {
		f.CaseData[c.Key] = c.Value
	}
	if it.ContactID == "" {
		return f
	}
	var c contact.Contact
	var err error
	switch {
	case who != nil && who.err != nil:
		err = who.err // as the Directory's error: no contact's fields
	case who != nil && len(who.found) == 1 && who.found[0].ID == it.ContactID:
		c = who.found[0]
	default:
		c, err = w.dir.Contact(ctx, it.ContactID)
	}
	if err == nil {
		f.ContactFirstName, f.ContactLastName = c.FirstName, c.LastName
	}
	return f
}

// errStale reports an interaction that changed between the preparation of
// an email outside the transaction (a forward from history, quoted from
// a snapshot) and the transaction that stores it: the action starts over.
var errStale = fmt.Errorf("%w: the interaction changed while its email was prepared", ErrConflict)

// NewEmailRequest says to whom an agent writes a new email. At least one
// recipient is needed: a contact (at their primary address, or at one of
// their addresses given in ContactAddress), a colleague from the team
// directory, or free addresses.
type NewEmailRequest struct {
	ContactID      string
	ContactAddress string // one of the contact's addresses; empty: the primary one
	AgentID        string // a colleague, at their own address
	To             []mail.Address
	// VoiceInteractionID links the email to a call ("New email to…"
	// during a call): kept, read-only, in the case data.
	VoiceInteractionID string
	// From is one of Options.Mailboxes; empty means the mailbox of the
	// agent's first queue that has one, else the first mailbox.
	From    string
	Subject string
	Text    string
	// HTML is sanitized as DraftPatch.HTML is, and images pasted in it as
	// data: URLs become inline parts.
	HTML string
}

// CaseVoiceInteraction is the case data key linking a new email to the
// call it was written during.
const CaseVoiceInteraction = "Voice interaction"

// NewEmail starts a new outbound email (a draft the agent edits and Sends,
// saves to the drafts workbin, or discards). Errors: ErrForbidden;
// ErrNotFound (contact or colleague); ErrInvalidInput (no recipient, an
// address the contact does not have, a From that is not one of our
// mailboxes, CR/LF in the subject); ErrTooLarge (over Limits.DraftBytes
// or Limits.Recipients).
func (ac *Actor) NewEmail(ctx context.Context, req NewEmailRequest) (*Draft, error) {
	w, agentID := ac.w, ac.id
	if err := checkHeaderText("Subject", req.Subject); err != nil {
		return nil, err
	}
	if err := checkBodyText("text", req.Text); err != nil {
		return nil, err
	}
	if err := checkBodyText("HTML", req.HTML); err != nil {
		return nil, err
	}
	if err := w.checkDraftSize(req.Subject, req.Text, req.HTML); err != nil {
		return nil, err
	}
	if err := w.checkCaseData(CaseVoiceInteraction, req.VoiceInteractionID); err != nil {
		return nil, err
	}
	if err := checkAddresses("To", req.To); err != nil {
		return nil, err
	}
	html, images, err := w.agentHTML(req.HTML)
	if err != nil {
		return nil, err
	}
	if err := w.checkAttachments(composeAttachments(images)); err != nil {
		return nil, err
	}
	to := slices.Clone(req.To)
	var c contact.Contact
	if req.ContactID != "" {
		var err error
		if c, err = w.dir.Contact(ctx, req.ContactID); err != nil {
			return nil, err
		}
		addr := c.PrimaryEmail()
		if req.ContactAddress != "" {
			if !c.HasEmail(req.ContactAddress) {
				return nil, fmt.Errorf("%w: contact %s has no address %q", ErrInvalidInput, c.ID, req.ContactAddress)
			}
			addr = req.ContactAddress
		}
		if addr == "" {
			return nil, fmt.Errorf("%w: contact %s has no email address", ErrInvalidInput, c.ID)
		}
		to = append(to, mail.Address{Name: strings.TrimSpace(c.FirstName + " " + c.LastName), Address: addr})
	}
	var out *Draft
	err = w.update(ctx, func(t *tx) error {
		a, err := w.agent(t, agentID, PrivilegeHandle)
		if err != nil {
			return err
		}
		rcpt := to
		if req.AgentID != "" {
			colleague, err := t.Agent(ctx, req.AgentID)
			if errors.Is(err, ErrNotFound) {
				return fmt.Errorf("%w: no colleague %q", ErrNotFound, req.AgentID)
			}
			if err != nil {
				return err
			}
			if colleague.Address == "" {
				return fmt.Errorf("%w: colleague %s has no email address", ErrInvalidInput, colleague.ID)
			}
			rcpt = append(slices.Clone(to), mailAddress(colleague))
		}
		if len(rcpt) == 0 {
			return fmt.Errorf("%w: a new email needs a recipient", ErrInvalidInput)
		}
		if err := w.checkRecipients(rcpt, nil, nil); err != nil {
			return err
		}
		from, err := w.fromMailbox(a, req.From)
		if err != nil {
			return err
		}
		d := &compose.Draft{From: from, To: rcpt, Subject: req.Subject, Text: req.Text, HTML: html, Attachments: images}
		f := compose.Fields{AgentName: a.Name, Subject: req.Subject, ContactFirstName: c.FirstName, ContactLastName: c.LastName}
		if err := w.sign(d, agentID, from.Address, false, f); err != nil {
			return err
		}
		parent := &interaction.Interaction{Mailbox: strings.ToLower(from.Address), ContactID: c.ID}
		if len(a.Queues) > 0 {
			parent.Queue = a.Queues[0]
		}
		out, err = w.createDraft(t, agentID, parent, interaction.PurposeNew, d)
		if err != nil {
			return err
		}
		if req.VoiceInteractionID != "" {
			if err := checkHeaderText("voice interaction id", req.VoiceInteractionID); err != nil {
				return err
			}
			// The draft was written: link the call on a fresh read of it.
			if out.Interaction, err = t.Interaction(ctx, out.ID); err != nil {
				return err
			}
			out.CaseData.Put(CaseVoiceInteraction, req.VoiceInteractionID, true)
			out.Record(agentID, "linked-call", t.now, req.VoiceInteractionID)
			return t.UpdateInteraction(ctx, out.Interaction)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out.copy(), nil
}

// fromMailbox resolves the From of a new email: the requested mailbox,
// which must be one of ours, or the default for the agent's queues.
func (w *Workspace) fromMailbox(a *Agent, requested string) (mail.Address, error) {
	if requested != "" {
		for _, m := range w.opts.Mailboxes {
			if strings.EqualFold(m.Address, requested) {
				return m.mailAddress(), nil
			}
		}
		return mail.Address{}, fmt.Errorf("%w: %q is not one of our mailboxes", ErrInvalidInput, requested)
	}
	for _, q := range a.Queues {
		for _, m := range w.opts.Mailboxes {
			if m.Queue == q {
				return m.mailAddress(), nil
			}
		}
	}
	if len(w.opts.Mailboxes) == 0 {
		return mail.Address{}, fmt.Errorf("%w: no mailbox is configured to send from", ErrInvalidInput)
	}
	return w.opts.Mailboxes[0].mailAddress(), nil
}

// DiscardDraft deletes an outbound draft its author no longer wants (from
// the editor or the drafts workbin). Errors: ErrNotFound; ErrForbidden (not
// the author); ErrInvalidTransition (in review, queued for delivery, sent).
func (ac *Actor) DiscardDraft(ctx context.Context, id string) error {
	w, agentID := ac.w, ac.id
	return w.update(ctx, func(t *tx) error {
		o, err := w.actingOwner(t, agentID, PrivilegeHandle, id)
		if err != nil {
			return err
		}
		if o.Kind != interaction.KindOutbound {
			return fmt.Errorf("%w: %s is not an outbound email", ErrInvalidInput, id)
		}
		if err := o.Fire(ctx, interaction.EventDelete, agentID, t.now, "discarded"); err != nil {
			return err
		}
		o.Workbin = ""
		if err := t.UpdateInteraction(ctx, o); err != nil {
			return err
		}
		return t.emit(EventDeleted, o, agentID, agentID, "discarded")
	})
}

// ForwardFromHistory forwards an email of an interaction the agent may see
// (as opened from a contact's history; see Interaction) to an external
// address: the latest email of an inbound, or the email of an outbound
// that was sent (never another agent's draft). The forward is a new draft
// owned by the agent. Errors: ErrNotFound; ErrForbidden (no forward or
// history privilege, or an interaction the agent may not see);
// ErrInvalidInput (recipient, or a draft or consultation to forward);
// ErrTooLarge (over Limits.InstructionsBytes or Limits.Recipients).
func (ac *Actor) ForwardFromHistory(ctx context.Context, id string, req ForwardRequest) (*Draft, error) {
	w, agentID := ac.w, ac.id
	if err := w.checkForward(req); err != nil {
		return nil, err
	}
	// Build the forward from a snapshot outside any transaction (the
	// signature's fields come from the Directory), then store it if the
	// interaction did not change meanwhile.
	for attempt := 0; ; attempt++ {
		var snap *interaction.Interaction
		var a *Agent
		var orig *Email
		err := w.view(ctx, func(t *tx) error {
			var err error
			if a, err = w.agent(t, agentID, PrivilegeForward); err != nil {
				return err
			}
			if !w.may(a, PrivilegeHistory) {
				return fmt.Errorf("%w: agent %s lacks the %q privilege", ErrForbidden, agentID, PrivilegeHistory)
			}
			if snap, err = w.seen(t, a, id); err != nil {
				return err
			}
			if k := snap.Kind; k != interaction.KindInbound && (k != interaction.KindOutbound || !past(snap)) {
				return fmt.Errorf("%w: %s is a %s %s interaction; only received or sent email is forwarded", ErrInvalidInput, id, snap.State, k)
			}
			emails, err := t.EmailsOf(ctx, id)
			if err != nil {
				return err
			}
			// The latest email, but not a resource's answer, a delivery
			// report or an automatic answer: those are ours to read, not
			// to pass on as the customer's.
			for i := len(emails) - 1; i >= 0 && orig == nil; i-- {
				if e := emails[i]; !e.IsResourceAnswer() && !e.IsBounce() && !e.Automatic {
					orig = e
				}
			}
			if orig == nil {
				return fmt.Errorf("%w: %s has no email to forward", ErrNotFound, id)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		d, err := compose.Forward(emailMessage(orig), orig.Raw, &compose.ForwardOptions{
			From: w.mailboxAddress(snap.Mailbox), To: req.To, Instructions: req.Instructions,
			AsAttachment: req.AsAttachment, QuoteLanguage: w.opts.QuoteLanguage,
		})
		if err != nil {
			return nil, domainErr(err)
		}
		if w.opts.Signatures != nil { // only a signature reads the fields
			if err := w.sign(d, agentID, snap.Mailbox, true, w.fields(ctx, snap, a, nil)); err != nil {
				return nil, err
			}
		}
		var out *Draft
		err = w.update(ctx, func(t *tx) error {
			a, err := w.agent(t, agentID, PrivilegeForward)
			if err != nil {
				return err
			}
			it, err := w.seen(t, a, id)
			if err != nil {
				return err
			}
			if it.Version != snap.Version {
				return errStale
			}
			out, err = w.createDraft(t, agentID, it, interaction.PurposeForward, d)
			return err
		})
		if errors.Is(err, errStale) && attempt < 3 {
			continue
		}
		if err != nil {
			return nil, err
		}
		return out.copy(), nil
	}
}
