package emailflow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/interaction"
)

// ResponseRef names a standard response (of Options.Responses) and the
// draft to insert it into.
type ResponseRef struct {
	Draft    string // the outbound draft's interaction id
	Response string // the standard response's id
}

// InsertResponse puts standard response r.Response into outbound draft
// r.Draft, above the quoted message, with
// its field codes filled from the interaction (contact names, agent name,
// interaction id, subject, case data of the email it answers). Errors:
// ErrNotFound (no such response); ErrForbidden; ErrInvalidTransition (not a
// draft); ErrInvalidInput naming a field code without a value; ErrTooLarge
// when the draft would be over Limits.DraftBytes. It returns the draft as
// it now is.
func (ac *Actor) InsertResponse(ctx context.Context, r ResponseRef) (*Draft, error) {
	w, agentID, id := ac.w, ac.id, r.Draft
	if w.opts.Responses == nil {
		return nil, fmt.Errorf("%w: no standard responses are configured", ErrNotFound)
	}
	tmpl, ok := w.opts.Responses.Get(r.Response)
	if !ok {
		return nil, fmt.Errorf("%w: no standard response %q", ErrNotFound, r.Response)
	}
	// Read what the fields need, then fill them outside the transaction:
	// the contact comes from the Directory, which may be a remote CRM.
	var o, parent *interaction.Interaction
	var a *Agent
	err := w.view(ctx, func(t *tx) error {
		var err error
		if o, err = owned(t, agentID, id); err != nil {
			return err
		}
		if a, err = t.Agent(ctx, agentID); err != nil {
			return err
		}
		if o.ParentID != "" {
			if parent, err = t.Interaction(ctx, o.ParentID); errors.Is(err, ErrNotFound) {
				err = nil
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	f := w.fields(ctx, o, a, nil)
	if parent != nil {
		for _, c := range parent.CaseData {
			if _, set := f.CaseData[c.Key]; !set {
				f.CaseData[c.Key] = c.Value
			}
		}
	}
	return w.editDraft(ctx, agentID, id, "response", func(_ *tx, _ *interaction.Interaction, e *Email) error {
		d := &compose.Draft{Subject: e.Subject, Text: e.Text, HTML: e.HTML}
		if err := tmpl.Apply(d, f); err != nil {
			return domainErr(err)
		}
		if err := w.checkDraftSize(d.Subject, d.Text, d.HTML); err != nil {
			return err
		}
		e.Subject, e.Text, e.HTML = d.Subject, d.Text, d.HTML
		return nil
	})
}

// autoAcknowledge answers the first email of a new conversation with
// Options.AutoAcknowledge, in the ingest transaction, and returns the
// outbox item to deliver after the commit (nil when no acknowledgement is
// due: automated mail, mail from one of our mailboxes, no sender), with the
// inbound it as it now stands (it itself when nothing changed it).
func (w *Workspace) autoAcknowledge(t *tx, it *interaction.Interaction, msg *compose.Message, f compose.Fields) (*OutboxItem, *interaction.Interaction, error) {
	tmpl := w.opts.AutoAcknowledge
	if tmpl == nil || msg.Auto.Automated() || len(msg.From) == 0 {
		return nil, it, nil
	}
	from := strings.ToLower(msg.From[0].Address)
	if from == "" || from == it.Mailbox || w.own[from] {
		return nil, it, nil // never answer ourselves: that is how loops start
	}
	d := compose.Reply(msg, &compose.ReplyOptions{From: w.mailboxAddress(it.Mailbox), Own: w.ownAddresses(it.Mailbox), QuoteLanguage: w.opts.QuoteLanguage})
	d.AutoSubmitted = true
	if len(d.To) > 1 {
		// Nobody asked for this email: it goes to one address only, so that
		// a long Reply-To cannot turn us into a mailer for someone else.
		d.To = d.To[:1:1]
	}
	if len(d.To) == 1 {
		// At most Options.AckLimit to one address: a responder that
		// answers each acknowledgement with new mail gets no more.
		ok, err := w.count(t, rateAck, d.To[0].Address, w.opts.AckLimit)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			parent, err := t.Interaction(t.ctx, it.ID)
			if err != nil {
				return nil, nil, err
			}
			parent.Record("system", "ack-skipped", t.now, fmt.Sprintf("%s got %d acknowledgements in %v already", d.To[0].Address, w.opts.AckLimit.Max, w.opts.AckLimit.Per))
			return nil, parent, t.UpdateInteraction(t.ctx, parent)
		}
	}
	err := tmpl.Apply(d, f)
	if err == nil {
		// Render once before anything is written: an acknowledgement that
		// cannot be made must not cost the customer's email.
		_, err = compose.Render(d, &compose.RenderOptions{Hostname: w.opts.Hostname, Now: func() time.Time { return t.now }})
	}
	// it was written in this transaction: what changes it now changes a
	// fresh read of it (see Tx).
	parent, rerr := t.Interaction(t.ctx, it.ID)
	if rerr != nil {
		return nil, nil, rerr
	}
	if err != nil {
		w.log.Warn("emailflow: no acknowledgement", "interaction", it.ID, "err", err)
		parent.Record("system", "ack-skipped", t.now, err.Error())
		return nil, parent, t.UpdateInteraction(t.ctx, parent)
	}
	created, err := w.createDraft(t, "system", parent, interaction.PurposeAutoReply, d)
	if err != nil {
		return nil, nil, err
	}
	o, err := t.Interaction(t.ctx, created.ID)
	if err != nil {
		return nil, nil, err
	}
	e, err := draftEmail(t, o)
	if err != nil {
		return nil, nil, err
	}
	e.Auto = string(compose.AutoReply)
	item, err := w.queueForDelivery(t, o, e, interaction.EventSend, "system", nil)
	if err != nil {
		return nil, nil, err
	}
	return item, parent, nil // createDraft recorded the draft on parent
}

// ResponseQuery selects the standard responses to list; the zero value
// lists them all.
type ResponseQuery struct {
	// Category keeps the responses of one category; empty: every category.
	Category string
	// Offset skips that many matches; Limit bounds the page (0: no bound).
	Offset, Limit int
}

// ResponsePage is a page of the standard responses.
type ResponsePage struct {
	// Responses are the page, sorted by category, then name.
	Responses []compose.Template
	// Categories are every category of the library, sorted, whatever the
	// query: what a picker offers to narrow the list.
	Categories []string
	// Total is how many responses match the query, over all pages.
	Total int
}

// Responses lists the standard responses (Options.Responses) the actor may
// insert with InsertResponse: all of them, one category's, a page at a
// time. A Workspace without a library lists none. Errors: ErrForbidden (an
// unknown agent); ErrInvalidInput (a negative Offset or Limit).
func (ac *Actor) Responses(ctx context.Context, q ResponseQuery) (*ResponsePage, error) {
	w := ac.w
	if q.Offset < 0 || q.Limit < 0 {
		return nil, fmt.Errorf("%w: a page of responses needs a non-negative offset and limit (got %d, %d)", ErrInvalidInput, q.Offset, q.Limit)
	}
	if err := w.view(ctx, func(t *tx) error {
		_, err := w.agent(t, ac.id, "")
		return err
	}); err != nil {
		return nil, err
	}
	out := &ResponsePage{}
	if w.opts.Responses == nil {
		return out, nil
	}
	out.Categories = w.opts.Responses.Categories()
	all := w.opts.Responses.Templates()
	if q.Category != "" {
		all = slices.DeleteFunc(all, func(t compose.Template) bool { return t.Category != q.Category })
	}
	out.Total = len(all)
	start := min(q.Offset, len(all))
	end := len(all)
	if q.Limit > 0 {
		end = min(start+q.Limit, end)
	}
	out.Responses = all[start:end:end]
	return out, nil
}
