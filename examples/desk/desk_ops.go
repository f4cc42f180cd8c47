package main

import (
	"context"
	"fmt"
	"io"
	"net/mail"
	"slices"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/contact"
	"github.com/emailflow/emailflow/interaction"
)

// ops is everything the desk asks of the Workspace, one method per thing a
// user means to do or see. The HTTP layer calls these and nothing else of
// the SDK's actions.
type ops struct {
	ws *emailflow.Workspace
}

// inbox is what an agent's inbox shows: the Workspace's Inbox, its
// offered and owned lists split by kind.
type inbox struct {
	Offers   []*interaction.Interaction // inbound mail and transfers offered to me
	Owned    []*interaction.Interaction // what I handle or write now
	Consults []*interaction.Interaction // consultations asked of me
	Reviews  []*interaction.Interaction // reviews offered to me or that I handle
	Workbins []emailflow.WorkbinItems   // mine (in progress, drafts, pending), then the team's
}

// add files it under consultations, reviews, or mail (the list given).
func (in *inbox) add(it *interaction.Interaction, mail *[]*interaction.Interaction) {
	switch it.Kind {
	case interaction.KindConsult:
		in.Consults = append(in.Consults, it)
	case interaction.KindReview:
		in.Reviews = append(in.Reviews, it)
	default:
		*mail = append(*mail, it)
	}
}

func (o ops) agent(ctx context.Context, id string) (*emailflow.Agent, error) {
	return o.ws.Agent(ctx, id)
}

func (o ops) setStatus(ctx context.Context, me string, s emailflow.AgentStatus) error {
	return o.ws.As(me).SetStatus(ctx, s)
}

func (o ops) inbox(ctx context.Context, me string) (*inbox, error) {
	box, err := o.ws.As(me).Inbox(ctx)
	if err != nil {
		return nil, err
	}
	in := &inbox{Workbins: box.Workbins}
	for _, it := range box.Offered {
		in.add(it, &in.Offers)
	}
	for _, it := range box.Owned {
		in.add(it, &in.Owned)
	}
	return in, nil
}

func (o ops) accept(ctx context.Context, me, id string) (*interaction.Interaction, error) {
	return o.ws.As(me).Accept(ctx, id)
}

func (o ops) decline(ctx context.Context, me, id string) error {
	return o.ws.As(me).Decline(ctx, id, "")
}

// window is what the interaction window shows.
type window struct {
	It       *interaction.Interaction
	Emails   []*emailflow.Email
	CaseData interaction.CaseData
	// Related are the other interactions of the conversation I may see
	// (replies, forwards, consultations).
	Related []*interaction.Interaction
	Contact *contact.Contact
	History []emailflow.HistoryItem
	CanCall bool
}

func (o ops) window(ctx context.Context, me, id string) (*window, error) {
	ac := o.ws.As(me)
	it, err := ac.Interaction(ctx, id)
	if err != nil {
		return nil, err
	}
	w := &window{It: it, CaseData: it.CaseData}
	if it.Kind != interaction.KindReview {
		if w.Emails, err = ac.Emails(ctx, id); err != nil {
			return nil, err
		}
	}
	related, err := ac.Interactions(ctx, emailflow.Query{ThreadID: it.ThreadID})
	if err != nil {
		return nil, err
	}
	for _, r := range related {
		if r.ID != it.ID && r.State != interaction.StateDeleted && r.Kind != interaction.KindReview {
			w.Related = append(w.Related, r)
		}
	}
	if it.ContactID != "" {
		c, err := o.ws.Contact(ctx, it.ContactID)
		if err == nil {
			w.Contact = &c
			// History needs its privilege; without it the panel shows the
			// contact alone.
			if h, _, err := ac.ContactHistory(ctx, it.ContactID, contact.Page{Limit: 20}); err == nil {
				w.History = h
			}
			w.CanCall, _ = o.ws.CanCall(ctx, it.ContactID)
		}
	}
	return w, nil
}

func (o ops) setCaseData(ctx context.Context, me, id, key, value string) error {
	return o.ws.As(me).SetCaseData(ctx, id, key, value)
}

func (o ops) addNote(ctx context.Context, me, id, text string) error {
	return o.ws.As(me).AddNote(ctx, id, text)
}

func (o ops) setDisposition(ctx context.Context, me, id, code string) error {
	return o.ws.As(me).SetDisposition(ctx, id, code)
}

func (o ops) markDone(ctx context.Context, me, id string) error {
	return o.ws.As(me).MarkDone(ctx, id)
}

func (o ops) remove(ctx context.Context, me, id string) error {
	return o.ws.As(me).Delete(ctx, id)
}

func (o ops) saveToWorkbin(ctx context.Context, me, id string) error {
	return o.ws.As(me).SaveToWorkbin(ctx, id, emailflow.WorkbinRef{})
}

func (o ops) takeFromWorkbin(ctx context.Context, me, id string) error {
	return o.ws.As(me).TakeFromWorkbin(ctx, id)
}

// reply starts a reply (or a reply to all) and returns the draft's id.
func (o ops) reply(ctx context.Context, me, id string, all bool) (string, error) {
	var d *emailflow.Draft
	var err error
	if all {
		d, err = o.ws.As(me).ReplyAll(ctx, id)
	} else {
		d, err = o.ws.As(me).Reply(ctx, id)
	}
	if err != nil {
		return "", err
	}
	return d.ID, nil
}

// forward starts a forward to an external resource and returns the
// draft's id.
func (o ops) forward(ctx context.Context, me, id string, to []mail.Address, instructions string, asAttachment bool) (string, error) {
	d, err := o.ws.As(me).Forward(ctx, id, emailflow.ForwardRequest{To: to, Instructions: instructions, AsAttachment: asAttachment})
	if err != nil {
		return "", err
	}
	return d.ID, nil
}

func (o ops) transfer(ctx context.Context, me, id, agent, queue, note string) error {
	return o.ws.As(me).Transfer(ctx, id, emailflow.TransferTarget{Agent: agent, Queue: queue, Note: note})
}

func (o ops) consult(ctx context.Context, me, id string, colleagues []string, question string) error {
	_, err := o.ws.As(me).Consult(ctx, id, colleagues, question)
	return err
}

func (o ops) answer(ctx context.Context, me, id, text string) error {
	return o.ws.As(me).Answer(ctx, id, text)
}

// team returns the colleagues of the directory, for the transfer and
// consult dialogs.
func (o ops) team(ctx context.Context, me string) ([]*emailflow.Agent, error) {
	agents, _, err := o.ws.SearchTeam(ctx, "", contact.Page{Limit: contact.MaxLimit})
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(agents, func(a *emailflow.Agent) bool { return a.ID == me }), nil
}

func (o ops) draft(ctx context.Context, me, id string) (*emailflow.Email, error) {
	d, err := o.ws.As(me).Draft(ctx, id)
	if err != nil {
		return nil, err
	}
	return d.Email, nil
}

// draftContent is what the draft editor posts.
type draftContent struct {
	To, Cc, Bcc []mail.Address
	Subject     string
	Text, HTML  string
}

func (o ops) saveDraft(ctx context.Context, me, id string, c draftContent) error {
	ac := o.ws.As(me)
	before, err := ac.Draft(ctx, id)
	if err != nil {
		return err
	}
	p, changed := c.patch(before.Email)
	if !changed {
		return nil // an editable email stays as it is (a rejected one keeps its remarks)
	}
	_, err = ac.EditDraft(ctx, id, p)
	return err
}

// patch returns the changes from e to c: only what the user changed, so
// that the Workspace keeps the HTML in step with an edited text.
func (c draftContent) patch(e *emailflow.Email) (emailflow.DraftPatch, bool) {
	var p emailflow.DraftPatch
	changed := false
	for _, f := range []struct {
		now, was []mail.Address
		set      **[]mail.Address
	}{{c.To, e.To, &p.To}, {c.Cc, e.Cc, &p.Cc}, {c.Bcc, e.Bcc, &p.Bcc}} {
		if !slices.Equal(f.now, f.was) {
			*f.set = &f.now
			changed = true
		}
	}
	for _, f := range []struct {
		now, was string
		set      **string
	}{{c.Subject, e.Subject, &p.Subject}, {c.Text, e.Text, &p.Text}, {c.HTML, e.HTML, &p.HTML}} {
		if f.now != f.was {
			*f.set = &f.now
			changed = true
		}
	}
	return p, changed
}

func (o ops) attach(ctx context.Context, me, id, filename, contentType string, r io.Reader) error {
	_, err := o.ws.As(me).AddAttachment(ctx, id, emailflow.NewAttachment{Filename: filename, ContentType: contentType, Body: r})
	return err
}

func (o ops) detach(ctx context.Context, me, id, attID string) error {
	_, err := o.ws.As(me).EditDraft(ctx, id, emailflow.DraftPatch{RemoveAttachments: []string{attID}})
	return err
}

// responses lists the standard responses, for the draft editor's picker.
func (o ops) responses(ctx context.Context, me string) ([]compose.Template, error) {
	p, err := o.ws.As(me).Responses(ctx, emailflow.ResponseQuery{})
	if err != nil {
		return nil, err
	}
	return p.Responses, nil
}

func (o ops) insertResponse(ctx context.Context, me, id, templateID string) error {
	_, err := o.ws.As(me).InsertResponse(ctx, emailflow.ResponseRef{Draft: id, Response: templateID})
	return err
}

// send sends a draft, asking for a review when review is set, and returns
// the email's interaction as it then stands (sent, in review...).
func (o ops) send(ctx context.Context, me, id string, review bool) (*interaction.Interaction, error) {
	s, err := o.ws.As(me).Send(ctx, id, &emailflow.SendOptions{RequestReview: review})
	if err != nil {
		return nil, err
	}
	return s.Interaction, nil
}

func (o ops) discard(ctx context.Context, me, id string) error {
	return o.ws.As(me).DiscardDraft(ctx, id)
}

// newEmail starts a new email to a contact, during call voice when it is
// set, and returns the draft's id.
func (o ops) newEmail(ctx context.Context, me, contactID, voice string) (string, error) {
	d, err := o.ws.As(me).NewEmail(ctx, emailflow.NewEmailRequest{ContactID: contactID, VoiceInteractionID: voice})
	if err != nil {
		return "", err
	}
	return d.ID, nil
}

func (o ops) searchContacts(ctx context.Context, query string) ([]contact.Contact, error) {
	r, err := o.ws.SearchContacts(ctx, query, contact.Page{Limit: 20})
	return r.Contacts, err
}

// call calls the contact of interaction id at their primary number and
// returns the call's id.
func (o ops) call(ctx context.Context, me, id string) (string, error) {
	return o.ws.As(me).Call(ctx, id, "")
}

// attachment returns one attachment of an email of interaction id, which
// me may see.
func (o ops) attachment(ctx context.Context, me, id, emailID, attID string) (*emailflow.Attachment, error) {
	emails, err := o.ws.As(me).Emails(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, e := range emails {
		if e.ID != emailID {
			continue
		}
		for i := range e.Attachments {
			if e.Attachments[i].ID == attID {
				return &e.Attachments[i], nil
			}
		}
	}
	return nil, fmt.Errorf("%w: no attachment %s in email %s", emailflow.ErrNotFound, attID, emailID)
}

// queueStats returns the figures of queues, for a supervisor.
func (o ops) queueStats(ctx context.Context, me string, queues []string) ([]emailflow.QueueStats, error) {
	var out []emailflow.QueueStats
	for _, q := range queues {
		st, err := o.ws.As(me).QueueStats(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// sanitize is the SDK's policy for the HTML agents and reviewers write
// (customers' HTML comes sanitized from Emails already).
func sanitize(html string) string { return compose.SanitizeHTML(html) }

// withdraw takes my email back from review, a draft again.
func (o ops) withdraw(ctx context.Context, me, id string) error {
	_, err := o.ws.As(me).Withdraw(ctx, id)
	return err
}

// quarantine lists the quarantined mail of queues, for a supervisor.
func (o ops) quarantine(ctx context.Context, me string, queues []string) ([]*interaction.Interaction, error) {
	var out []*interaction.Interaction
	for _, q := range queues {
		its, err := o.ws.As(me).Quarantine(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, its...)
	}
	return out, nil
}

// release lets quarantined mail through, to be routed like other mail.
func (o ops) release(ctx context.Context, me, id string) error {
	_, err := o.ws.As(me).Release(ctx, id)
	return err
}

// reviewQueue lists the reviews waiting in the review queue that me may
// take (a supervisor: all of the queue).
func (o ops) reviewQueue(ctx context.Context, me, queue string) ([]*interaction.Interaction, error) {
	return o.ws.As(me).Queue(ctx, queue)
}

func (o ops) pull(ctx context.Context, me, queue string) (*interaction.Interaction, error) {
	return o.ws.As(me).Pull(ctx, queue)
}

func (o ops) review(ctx context.Context, me, id string) (*emailflow.ReviewItem, error) {
	return o.ws.As(me).Review(ctx, id)
}

func (o ops) approve(ctx context.Context, me, id string) error {
	_, err := o.ws.As(me).Approve(ctx, id)
	return err
}

func (o ops) reject(ctx context.Context, me, id, reason, remarks string) error {
	_, err := o.ws.As(me).Reject(ctx, id, reason, remarks)
	return err
}

func (o ops) reviewEdit(ctx context.Context, me, id string, c draftContent) error {
	ac := o.ws.As(me)
	item, err := ac.Review(ctx, id)
	if err != nil {
		return err
	}
	p, changed := c.patch(item.Email)
	if !changed {
		return nil
	}
	return ac.ReviewEdit(ctx, id, p)
}

// subject returns the subject of interaction id, or "" when me may not see
// it (what the live news line shows beside an event).
func (o ops) subject(ctx context.Context, me, id string) string {
	if id == "" {
		return ""
	}
	it, err := o.ws.As(me).Interaction(ctx, id)
	if err != nil {
		return ""
	}
	return it.Subject
}

// events returns my live events until ctx ends.
func (o ops) events(ctx context.Context, me string) *emailflow.Subscription {
	return o.ws.Subscribe(ctx, &emailflow.SubscribeOptions{Agent: me, Buffer: 64})
}
