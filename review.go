package emailflow

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"time"

	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/qa"
	"github.com/emailflow/emailflow/sla"
)

// CaseQAStatus is the read-only case data key the Workspace keeps on an
// outbound email that went to review, and on the inbound it answers: one
// of qa.StatusInReview, qa.StatusApproved, qa.StatusRejected,
// qa.StatusWithdrawn. Agents cannot edit it (SetCaseData gives
// ErrForbidden).
const CaseQAStatus = "QA status"

// DefaultReviewQueue is the queue review items wait in when
// Options.ReviewQueue is empty.
const DefaultReviewQueue = "review"

// SendOptions change how Send sends; the zero value (or nil) sends as the
// review policy says.
type SendOptions struct {
	// RequestReview asks for a reviewer's approval before the email goes
	// out. The review policy decides (qa.OnRequest honours the request;
	// it is the default policy).
	RequestReview bool
}

func (w *Workspace) reviewQueue() string {
	if w.opts.ReviewQueue == "" {
		return DefaultReviewQueue
	}
	return w.opts.ReviewQueue
}

func (w *Workspace) rejectReasons() []string {
	if len(w.opts.RejectReasons) == 0 {
		return qa.DefaultRejectReasons
	}
	return w.opts.RejectReasons
}

func (w *Workspace) reviewPolicy() qa.Policy {
	if w.opts.ReviewPolicy == nil {
		return qa.OnRequest()
	}
	return w.opts.ReviewPolicy
}

// contentOf returns what of e a review freezes.
func contentOf(e *Email) qa.Content {
	c := qa.Content{
		From: e.From, To: e.To, Cc: e.Cc, Bcc: e.Bcc, ReplyTo: e.ReplyTo,
		Subject: e.Subject, Text: e.Text, HTML: e.HTML, InReplyTo: e.InReplyTo, References: e.References,
	}
	for _, a := range e.Attachments {
		c.Attachments = append(c.Attachments, qa.Digest(a.Filename, a.ContentType, a.ContentID, a.Inline, a.Data))
	}
	return c.Clone()
}

func submission(a *Agent, o *interaction.Interaction, e *Email, so SendOptions) qa.Submission {
	s := qa.Submission{
		ID: o.ID, ParentID: o.ParentID, ThreadID: o.ThreadID, Purpose: string(o.Purpose),
		Author: a.ID, Groups: a.Groups, Queue: o.Queue, Mailbox: o.Mailbox, To: emailRecipients(e),
		Requested: so.RequestReview, Roles: a.RoleNames(),
	}
	return s
}

// submitForReview is Send's review hook: when the email must be reviewed
// (it was rejected before, or the policy says so) it goes to review
// instead of the outbox, and submitted is true. An email in another state
// than draft or rejected is left to Send, which refuses it.
func (w *Workspace) submitForReview(t *tx, a *Agent, o *interaction.Interaction, e *Email, so SendOptions) (submitted bool, err error) {
	if o.Kind != interaction.KindOutbound || (o.State != interaction.StateDraft && o.State != interaction.StateRejected) {
		return false, nil
	}
	if e == nil {
		if e, err = draftEmail(t, o); err != nil {
			return false, err
		}
	}
	// A rejection is lifted only by an approval: whatever the policy says
	// now, a rejected email is reviewed again (also after a withdrawal).
	if o.State != interaction.StateRejected && !qa.MustReview(o.Rounds) && !qa.Needs(w.reviewPolicy(), submission(a, o, e, so)) {
		return false, nil
	}
	if !hasRecipient(e) {
		return false, fmt.Errorf("%w: outbound %s has no recipient", ErrInvalidInput, o.ID)
	}
	if err := w.checkRecipients(e.To, e.Cc, e.Bcc); err != nil {
		return false, err
	}
	parent, err := parentOf(t, o)
	if err != nil {
		return false, err
	}
	// Refuse now what the approval would refuse: closing the inbound needs
	// its disposition.
	if parent != nil && w.opts.CompleteOnReply && w.opts.DispositionRequired && parent.Disposition == "" && o.Disposition == "" &&
		parent.State == interaction.StateHandling &&
		(o.Purpose == interaction.PurposeReply || o.Purpose == interaction.PurposeReplyAll) {
		return false, fmt.Errorf("%w: sending this reply marks %s done, which needs a disposition first", ErrInvalidInput, parent.ID)
	}
	round, err := qa.Submit(o.Rounds, a.ID, w.ids.NewID(), contentOf(e), so.RequestReview, t.now)
	if err != nil {
		return false, err
	}
	detail := fmt.Sprintf("round %d", round.Number)
	if err := o.Fire(t.ctx, interaction.EventSubmit, a.ID, t.now, detail); err != nil {
		return false, err
	}
	o.Rounds = append(o.Rounds, round)
	setQAStatus(o, qa.StatusInReview)
	if err := t.UpdateInteraction(t.ctx, o); err != nil {
		return false, err
	}
	if err := t.emit(EventSubmitted, o, o.Owner, a.ID, detail); err != nil {
		return false, err
	}
	if err := w.parentQAStatus(t, parent, qa.StatusInReview, a.ID); err != nil {
		return false, err
	}
	rv, err := interaction.New(round.ReviewID, interaction.KindReview, a.ID, t.now)
	if err != nil {
		return false, err
	}
	rv.ParentID, rv.ThreadID, rv.ContactID, rv.Mailbox, rv.Subject = o.ID, o.ThreadID, o.ContactID, o.Mailbox, o.Subject
	rv.Queue, rv.QueuedAt = w.reviewQueue(), t.now
	if parent != nil {
		rv.Priority = parent.Priority
	}
	// Four eyes in routing: the author is never offered their own email,
	// nor may pull it.
	rv.Excluded = []string{a.ID}
	if err := rv.Fire(t.ctx, interaction.EventQueue, "system", t.now, rv.Queue); err != nil {
		return false, err
	}
	if err := t.CreateInteraction(t.ctx, rv); err != nil {
		return false, err
	}
	if err := t.emit(EventQueued, rv, "", a.ID, rv.Queue); err != nil {
		return false, err
	}
	return true, w.route(t, rv)
}

// parentOf returns the interaction o answers, or nil.
func parentOf(t *tx, o *interaction.Interaction) (*interaction.Interaction, error) {
	if o.ParentID == "" {
		return nil, nil
	}
	p, err := t.Interaction(t.ctx, o.ParentID)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return p, err
}

func setQAStatus(it *interaction.Interaction, status string) {
	// Copy before writing: the slice may be shared with a stored value.
	it.CaseData = append(interaction.CaseData(nil), it.CaseData...)
	it.CaseData.Put(CaseQAStatus, status, true)
}

// parentQAStatus shows status on the inbound an outbound answers.
func (w *Workspace) parentQAStatus(t *tx, parent *interaction.Interaction, status, actor string) error {
	if parent == nil {
		return nil
	}
	// Reload: the parent may have changed earlier in this transaction.
	p, err := t.Interaction(t.ctx, parent.ID)
	if err != nil {
		return err
	}
	setQAStatus(p, status)
	p.Record(actor, "qa-status", t.now, status)
	kind := sla.ReviewEnded
	if status == qa.StatusInReview {
		kind = sla.ReviewStarted
	}
	if _, err := w.slaApply(t, p, sla.Event{Kind: kind, At: t.now}); err != nil {
		return err
	}
	if err := t.UpdateInteraction(t.ctx, p); err != nil {
		return err
	}
	*parent = *p.Clone() // p is the store's now (see Tx)
	return t.emit(EventUpdated, p, p.Owner, actor, CaseQAStatus+"="+status)
}

// decision loads what a reviewer's decision on review reviewID needs and
// checks it: the reviewer has the review privilege, the review is being
// handled by them, the outbound is in review in this round, and the
// reviewer is not its author.
func (w *Workspace) decision(t *tx, reviewerID, reviewID string) (rv, o *interaction.Interaction, r *qa.Round, err error) {
	if _, err := w.agent(t, reviewerID, PrivilegeReview); err != nil {
		return nil, nil, nil, err
	}
	if rv, err = t.Interaction(t.ctx, reviewID); err != nil {
		return nil, nil, nil, err
	}
	if rv.Kind != interaction.KindReview {
		return nil, nil, nil, fmt.Errorf("%w: %s is a %s interaction, not a review", ErrInvalidInput, reviewID, rv.Kind)
	}
	if o, err = t.Interaction(t.ctx, rv.ParentID); err != nil {
		return nil, nil, nil, err
	}
	// Four eyes first: an author learns they may never decide on their own
	// email, whatever the state of its review.
	if reviewerID == o.Owner || reviewerID == reviewAuthor(o, rv.ID) {
		return nil, nil, nil, fmt.Errorf("%w: %s may not review their own email %s (four eyes)", ErrForbidden, reviewerID, o.ID)
	}
	if !rv.Can(interaction.EventDecide) {
		// Then the state: the loser of a race learns the review is over.
		return nil, nil, nil, rv.Fire(t.ctx, interaction.EventDecide, reviewerID, t.now, "")
	}
	r = qa.Current(o.Rounds)
	if r == nil || r.ReviewID != rv.ID || o.State != interaction.StateInReview {
		return nil, nil, nil, fmt.Errorf("%w: outbound %s is %s and no longer in review %s", ErrInvalidTransition, o.ID, o.State, rv.ID)
	}
	if err := rv.CheckOwner(reviewerID); err != nil {
		return nil, nil, nil, err
	}
	return rv, o, r, nil
}

// reviewAuthor returns the author of o's round reviewed by review id.
func reviewAuthor(o *interaction.Interaction, id string) string {
	for _, r := range o.Rounds {
		if r.ReviewID == id {
			return r.Author
		}
	}
	return ""
}

// closeReview completes review rv after a decision and offers its
// reviewer more work.
func (w *Workspace) closeReview(t *tx, rv *interaction.Interaction, reviewerID string, d qa.Decision) error {
	if err := rv.Fire(t.ctx, interaction.EventDecide, reviewerID, t.now, string(d)); err != nil {
		return err
	}
	if err := t.UpdateInteraction(t.ctx, rv); err != nil {
		return err
	}
	if err := t.emit(EventDone, rv, reviewerID, reviewerID, string(d)); err != nil {
		return err
	}
	return w.freed(t, reviewerID)
}

// qaErr maps the qa package's errors onto the Workspace's.
func qaErr(err error) error {
	if errors.Is(err, qa.ErrChanged) {
		return fmt.Errorf("%w: %w", ErrConflict, err)
	}
	return err
}

// Approve approves the email of review reviewID, which the reviewer
// handles (offered and accepted, or pulled): exactly the reviewed version,
// including the reviewer's own edits, is rendered and queued for delivery
// in the same transaction, the review is done, and the inbound it answers
// is updated as Send does. Delivery then follows as for Send, and the
// result tells it as Send's does: the outbound, the email as sent and its
// Delivery.
//
// Errors: ErrNotFound; ErrForbidden (no review privilege, the reviewer is
// the email's author, or the review is not handled by this reviewer);
// ErrInvalidTransition (the review is not being handled: not yet accepted,
// or already decided or withdrawn); ErrConflict (the email's content is
// not the version under review: nothing is sent); ErrInvalidInput (not a
// review, no recipient, or content Render refuses).
func (ac *Actor) Approve(ctx context.Context, reviewID string) (*Sent, error) {
	w, reviewerID := ac.w, ac.id
	var out *interaction.Interaction
	var sent *Email
	var item *OutboxItem
	err := w.update(ctx, func(t *tx) error {
		rv, o, r, err := w.decision(t, reviewerID, reviewID)
		if err != nil {
			return err
		}
		e, err := draftEmail(t, o)
		if err != nil {
			return err
		}
		if !hasRecipient(e) {
			return fmt.Errorf("%w: outbound %s has no recipient", ErrInvalidInput, o.ID)
		}
		if err := qa.Approve(r, reviewerID, qa.Hash(contentOf(e)), t.now); err != nil {
			return qaErr(err)
		}
		detail := fmt.Sprintf("round %d", r.Number)
		setQAStatus(o, qa.StatusApproved)
		if item, err = w.queueForDelivery(t, o, e, interaction.EventApprove, reviewerID, nil); err != nil {
			return err
		}
		sent = e
		rc := r.Clone()
		if err := t.appendEvent(Event{Type: EventApproved, InteractionID: o.ID, Agent: o.Owner, Actor: reviewerID,
			State: o.State, At: t.now, Detail: detail, Review: &rc}); err != nil {
			return err
		}
		parent, err := parentOf(t, o)
		if err != nil {
			return err
		}
		if err := w.parentQAStatus(t, parent, qa.StatusApproved, reviewerID); err != nil {
			return err
		}
		if err := w.closeReview(t, rv, reviewerID, qa.Approved); err != nil {
			return err
		}
		out = o
		return w.afterSend(t, o, reviewerID)
	})
	if err != nil {
		return nil, err
	}
	return w.deliver1(ctx, out, sent, item), nil
}

// Reject sends the email of review reviewID back to its author, in state
// rejected: editable again (EditDraft), with the reviewer's remarks as a
// note and in the round, and CaseQAStatus "rejected" on the email and on
// the inbound it answers. reason must be one of Options.RejectReasons;
// remarks must not be empty. The author's next Send submits it again.
//
// Errors: ErrNotFound; ErrForbidden and ErrInvalidTransition as for
// Approve; ErrInvalidInput (not a review, a reason not in the list, no
// remarks); ErrTooLarge (remarks over Limits.NoteBytes).
func (ac *Actor) Reject(ctx context.Context, reviewID, reason, remarks string) (*interaction.Interaction, error) {
	w, reviewerID := ac.w, ac.id
	if err := w.checkNote("remarks", remarks); err != nil {
		return nil, err
	}
	var out *interaction.Interaction
	err := w.update(ctx, func(t *tx) error {
		rv, o, r, err := w.decision(t, reviewerID, reviewID)
		if err != nil {
			return err
		}
		if err := qa.Reject(r, reviewerID, reason, remarks, w.rejectReasons(), t.now); err != nil {
			return err
		}
		if err := o.Fire(t.ctx, interaction.EventReject, reviewerID, t.now, reason); err != nil {
			return err
		}
		if err := o.AddNote(reviewerID, fmt.Sprintf("QA rejected (%s): %s", reason, r.Remarks), t.now); err != nil {
			return err
		}
		setQAStatus(o, qa.StatusRejected)
		if err := t.UpdateInteraction(t.ctx, o); err != nil {
			return err
		}
		rc := r.Clone()
		if err := t.appendEvent(Event{Type: EventRejected, InteractionID: o.ID, Agent: o.Owner, Actor: reviewerID,
			State: o.State, At: t.now, Detail: reason, Review: &rc}); err != nil {
			return err
		}
		parent, err := parentOf(t, o)
		if err != nil {
			return err
		}
		if err := w.parentQAStatus(t, parent, qa.StatusRejected, reviewerID); err != nil {
			return err
		}
		out = o
		return w.closeReview(t, rv, reviewerID, qa.Rejected)
	})
	return out.Clone(), err
}

// ReviewEdit changes the email of review reviewID as EditDraft does (the
// fields p sets; a From among those its queue allows), while the reviewer
// handles the review and the email is in review. The change
// is recorded in the round (who, when, content before and after) and the
// round's hash follows it, so a later Approve sends the edited version.
// Content equal to the current one records nothing.
//
// Errors: ErrNotFound; ErrForbidden and ErrInvalidTransition as for
// Approve; ErrInvalidInput (not a review, no recipient, a malformed
// address, CR or LF in the subject or a name); ErrTooLarge (over
// Limits.DraftBytes or Limits.Recipients).
func (ac *Actor) ReviewEdit(ctx context.Context, reviewID string, p DraftPatch) error {
	w, reviewerID := ac.w, ac.id
	return w.update(ctx, func(t *tx) error {
		_, o, r, err := w.decision(t, reviewerID, reviewID)
		if err != nil {
			return err
		}
		e, err := draftEmail(t, o)
		if err != nil {
			return err
		}
		before := contentOf(e)
		if err := w.applyPatch(o, e, p); err != nil {
			return err
		}
		if !hasRecipient(e) {
			return fmt.Errorf("%w: the edited email has no recipient", ErrInvalidInput)
		}
		changed, err := qa.EditContent(r, reviewerID, before, contentOf(e), t.now)
		if err != nil || !changed {
			return err
		}
		e.UpdatedAt = t.now
		if err := t.PutEmail(t.ctx, e); err != nil {
			return err
		}
		o.Subject = e.Subject
		detail := fmt.Sprintf("round %d", r.Number)
		o.Record(reviewerID, "review-edit", t.now, detail)
		if err := t.UpdateInteraction(t.ctx, o); err != nil {
			return err
		}
		return t.emit(EventReviewEdited, o, o.Owner, reviewerID, detail)
	})
}

// checkDraftContent refuses content an agent or a reviewer may not write:
// malformed addresses, header injection, over the limits.
func (w *Workspace) checkDraftContent(c DraftContent) error {
	if err := checkHeaderText("Subject", c.Subject); err != nil {
		return err
	}
	for _, l := range []struct {
		name string
		as   []mail.Address
	}{{"To", c.To}, {"Cc", c.Cc}, {"Bcc", c.Bcc}} {
		if err := checkAddresses(l.name, l.as); err != nil {
			return err
		}
	}
	if err := w.checkRecipients(c.To, c.Cc, c.Bcc); err != nil {
		return err
	}
	if err := checkBodyText("text", c.Text); err != nil {
		return err
	}
	if err := checkBodyText("HTML", c.HTML); err != nil {
		return err
	}
	return w.checkDraftSize(c.Subject, c.Text, c.HTML)
}

// Withdraw takes outbound email id back from review: it becomes a draft
// again, the round is recorded as withdrawn and its review is cancelled
// (taken from the reviewer's desk or the queue). Only the author may.
//
// Errors: ErrNotFound; ErrForbidden (not its author); ErrInvalidTransition
// (not in review: already decided, or never submitted).
func (ac *Actor) Withdraw(ctx context.Context, id string) (*interaction.Interaction, error) {
	w, authorID := ac.w, ac.id
	var out *interaction.Interaction
	err := w.update(ctx, func(t *tx) error {
		o, err := w.actingOwner(t, authorID, PrivilegeHandle, id)
		if err != nil {
			return err
		}
		r := qa.Current(o.Rounds)
		if !o.Can(interaction.EventWithdraw) || r == nil {
			return o.Fire(t.ctx, interaction.EventWithdraw, authorID, t.now, "")
		}
		if err := qa.Withdraw(r, authorID, t.now); err != nil {
			return err
		}
		detail := fmt.Sprintf("round %d", r.Number)
		if err := o.Fire(t.ctx, interaction.EventWithdraw, authorID, t.now, detail); err != nil {
			return err
		}
		setQAStatus(o, qa.StatusWithdrawn)
		if err := t.UpdateInteraction(t.ctx, o); err != nil {
			return err
		}
		if err := t.emit(EventWithdrawn, o, o.Owner, authorID, detail); err != nil {
			return err
		}
		parent, err := parentOf(t, o)
		if err != nil {
			return err
		}
		if err := w.parentQAStatus(t, parent, qa.StatusWithdrawn, authorID); err != nil {
			return err
		}
		out = o
		return w.cancelReview(t, r.ReviewID, authorID)
	})
	return out.Clone(), err
}

// cancelReview takes review id off the queue or the reviewer's desk.
func (w *Workspace) cancelReview(t *tx, id, actor string) error {
	rv, err := t.Interaction(t.ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !rv.Can(interaction.EventCancel) {
		return nil
	}
	holder := rv.OfferedTo
	if rv.State == interaction.StateHandling {
		holder = rv.Owner
	}
	if err := rv.Fire(t.ctx, interaction.EventCancel, actor, t.now, "withdrawn by the author"); err != nil {
		return err
	}
	rv.OfferedTo, rv.OfferedAt = "", time.Time{}
	if err := t.UpdateInteraction(t.ctx, rv); err != nil {
		return err
	}
	if err := t.emit(EventCancelled, rv, holder, actor, "withdrawn"); err != nil {
		return err
	}
	if holder != "" {
		return w.freed(t, holder)
	}
	return nil
}

// ReviewItem is what a reviewer sees of a review: the review interaction,
// the outbound email under review with its current content, and the round.
type ReviewItem struct {
	Review   *interaction.Interaction
	Outbound *interaction.Interaction
	Email    *Email
	Round    qa.Round
}

// Review returns review reviewID with the email under review, for a
// reviewer (offered it, handling it, or serving its queue), never its
// author. Errors: ErrNotFound; ErrForbidden (no review privilege, or a
// review the reviewer may not see); ErrInvalidInput (not a review).
func (ac *Actor) Review(ctx context.Context, reviewID string) (*ReviewItem, error) {
	w, reviewerID := ac.w, ac.id
	var out *ReviewItem
	err := w.view(ctx, func(t *tx) error {
		a, err := w.agent(t, reviewerID, PrivilegeReview)
		if err != nil {
			return err
		}
		rv, err := t.Interaction(ctx, reviewID)
		if err != nil {
			return err
		}
		if rv.Kind != interaction.KindReview {
			return fmt.Errorf("%w: %s is a %s interaction, not a review", ErrInvalidInput, reviewID, rv.Kind)
		}
		if err := w.checkSee(t, a, rv); err != nil {
			return err
		}
		o, err := t.Interaction(ctx, rv.ParentID)
		if err != nil {
			return err
		}
		e, err := draftEmail(t, o)
		if err != nil {
			return err
		}
		out = &ReviewItem{Review: rv, Outbound: o, Email: e}
		for _, r := range o.Rounds {
			if r.ReviewID == rv.ID {
				out.Round = r.Clone()
			}
		}
		return nil
	})
	return out, err
}

// Metrics returns the review figures (per agent, per reviewer, overall) of
// the rounds submitted in win. It reads every outbound interaction in one
// read transaction: a scan whose cost grows with the number of outbound
// emails kept in the Store, meant for reports, not for every screen
// refresh. Errors: only the Store's.
func (w *Workspace) Metrics(ctx context.Context, win qa.Window) (qa.Report, error) {
	var hs []qa.History
	err := w.view(ctx, func(t *tx) error {
		found, err := t.FindInteractions(ctx, Query{Kind: interaction.KindOutbound})
		for _, it := range found {
			if len(it.Rounds) > 0 {
				hs = append(hs, qa.History{EmailID: it.ID, Rounds: it.Rounds})
			}
		}
		return err
	})
	if err != nil {
		return qa.Report{}, err
	}
	return qa.Compute(hs, win), nil
}
