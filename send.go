package emailflow

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/sla"
)

// Send renders outbound draft id and queues it for delivery: in one
// transaction the draft becomes "outbox", the rendered bytes go to the
// outbox and, with Options.CompleteOnReply, the inbound it answers is
// marked done. Unless Options.ManualDispatch, delivery is then tried at
// once. It returns the outbound, the email as rendered (with its
// Message-ID) and what became of its delivery (Sent.Delivery): sent; in
// the outbox, to be retried with backoff (same bytes, same Message-ID) by
// a Runner; failed for good at once (a permanent refusal: the email is
// back with its agent as failed); or, under review, queued for a reviewer.
// A delivery that failed is not an error of Send: the email was accepted.
// opts may be nil.
//
// Errors: ErrNotFound; ErrForbidden (not the owner); ErrInvalidTransition
// (not a draft); ErrInvalidInput (no recipient, or content Render refuses);
// ErrInvalidInput also when CompleteOnReply needs a missing disposition;
// ErrTooLarge (more recipients than Limits.Recipients); ErrConflict when
// the draft kept changing (edited elsewhere) through every try.
//
// Under review (Options.ReviewPolicy, RequestReview, or an email rejected
// before) the email goes to review instead: its content is frozen in a new
// round, a review is queued for the reviewers and nothing is sent until
// Approve; the outbound is then in state in-review and the delivery
// DeliveryInReview.
func (ac *Actor) Send(ctx context.Context, id string, opts *SendOptions) (*Sent, error) {
	var so SendOptions
	if opts != nil {
		so = *opts
	}
	return ac.w.trySend(ctx, ac.id, id, so)
}

// trySend renders the draft and queues exactly those bytes in one
// transaction: the draft, its email and the agent (locked, as the send
// may free it) are read in one round trip, the draft is rendered
// (microseconds; the agent's lock is held to the commit in any case),
// then written. A draft changed meanwhile (every edit bumps its version)
// fails its write (ErrConflict), and update runs it all again on the
// edited draft.
func (w *Workspace) trySend(ctx context.Context, agentID, id string, so SendOptions) (*Sent, error) {
	var out *interaction.Interaction
	var sent *Email
	var item *OutboxItem
	err := w.update(ctx, func(t *tx) error {
		// Sent ahead, to ride with the agent's lock: the draft, then its
		// emails. In this order, an email read with the draft's version
		// is that version's or a later one's, and a later one's fails the
		// version check of the draft's write: what is sent is what was
		// read at the version written.
		t.aheadInteraction(id)
		t.aheadEmails(id)
		a, aerr := w.agent(t, agentID, PrivilegeHandle)
		if aerr != nil && !errors.Is(aerr, ErrForbidden) {
			return aerr
		}
		// The draft's own refusals go first (not found, not the owner's,
		// no email), then the agent's.
		o, err := owned(t, agentID, id)
		if err != nil {
			return err
		}
		var e *Email
		if o.Can(interaction.EventSend) {
			if e, err = draftEmail(t, o); err != nil {
				return err
			}
			// The inbound it answers, which afterSend (or the review's
			// check) reads: with the next round trip, the writes'.
			t.aheadInteraction(o.ParentID)
		}
		if aerr != nil {
			return aerr
		}
		if submitted, err := w.submitForReview(t, a, o, e, so); submitted || err != nil {
			if err != nil {
				return err
			}
			out = o
			sent, err = draftEmail(t, o)
			return err
		}
		if !o.Can(interaction.EventSend) {
			return o.Fire(ctx, interaction.EventSend, agentID, t.now, "")
		}
		if !hasRecipient(e) {
			return fmt.Errorf("%w: outbound %s has no recipient", ErrInvalidInput, id)
		}
		// Rendered by queueForDelivery after the recipients' checks: a
		// refusal of Render rolls it all back.
		if item, err = w.queueForDelivery(t, o, e, interaction.EventSend, agentID, nil); err != nil {
			return err
		}
		out, sent = o, e
		return w.afterSend(t, o, agentID)
	})
	if err != nil {
		return nil, err
	}
	return w.deliver1(ctx, out, sent, item), nil
}

// deliver1 makes the first delivery attempt of the outbox item an action
// (Send, Approve) just queued for outbound out with email e, unless
// dispatch is manual or nothing was queued (in review), and returns what
// the action tells its caller. out and e were written, so they are the
// store's: the caller gets copies.
func (w *Workspace) deliver1(ctx context.Context, out *interaction.Interaction, e *Email, item *OutboxItem) *Sent {
	res := &Sent{Email: e.Clone()}
	switch {
	case item == nil:
		res.Delivery = Delivery{State: DeliveryInReview}
	case w.opts.ManualDispatch:
		res.Delivery = Delivery{State: DeliveryQueued, NextAttempt: item.NextAttempt}
	default:
		it, rec, sendErr := w.attemptOutcome(ctx, item)
		if sendErr != nil {
			w.logAttempt("delivery", out.ID, it, sendErr)
		}
		if it != nil {
			out = it // as it now stands: sent, failed, or waiting for a retry
		}
		res.Delivery = deliveryOf(out, rec, sendErr)
	}
	res.Interaction = out.Clone()
	return res
}

// render renders e as sent at now, setting e.Date.
func (w *Workspace) render(e *Email, now time.Time) ([]byte, error) {
	e.Date = now
	raw, err := compose.Render(emailDraft(e), &compose.RenderOptions{Hostname: w.opts.Hostname, Now: func() time.Time { return now }})
	return raw, domainErr(err)
}

// queueForDelivery fires ev (send, or approve) on o and writes the outbox
// item with the rendered message (raw, or rendered here when nil), all in
// transaction t. Unless dispatch is manual, the item is leased for the
// delivery the caller tries right after the commit (see attempt), so no
// other dispatcher takes it meanwhile.
func (w *Workspace) queueForDelivery(t *tx, o *interaction.Interaction, e *Email, ev interaction.Event, actor string, raw []byte) (*OutboxItem, error) {
	if err := w.checkRecipients(e.To, e.Cc, e.Bcc); err != nil {
		return nil, err
	}
	if raw == nil {
		var err error
		if raw, err = w.render(e, t.now); err != nil {
			return nil, err
		}
	}
	if err := o.Fire(t.ctx, ev, actor, t.now, e.MessageID); err != nil {
		return nil, err
	}
	e.Raw, e.UpdatedAt = raw, t.now
	if err := t.PutEmail(t.ctx, e); err != nil {
		return nil, err
	}
	item := &OutboxItem{
		ID: w.ids.NewID(), InteractionID: o.ID, EmailID: e.ID, MessageID: e.MessageID,
		From: e.From.Address, To: emailRecipients(e), Raw: raw, State: OutboxPending,
		NextAttempt: t.now, CreatedAt: t.now, UpdatedAt: t.now,
	}
	if !w.opts.ManualDispatch {
		item.Attempts, item.NextAttempt = 1, t.now.Add(w.opts.DeliveryLease)
	}
	if err := t.Enqueue(t.ctx, item); err != nil {
		return nil, err
	}
	// Every caller fails with any error of the write: its check may wait
	// for the statements after it (see updateLast).
	if err := t.updateLast(o); err != nil {
		return nil, err
	}
	return item, t.emit(EventOutbox, o, o.Owner, actor, e.MessageID)
}

// afterSend records the send on the inbound being answered, gives it the
// outbound's disposition when it has none and is open, and, with
// CompleteOnReply, marks it done.
func (w *Workspace) afterSend(t *tx, o *interaction.Interaction, actor string) error {
	if o.ParentID == "" {
		return nil
	}
	parent, err := t.Interaction(t.ctx, o.ParentID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	parent.Record(actor, "sent", t.now, o.ID)
	if o.Purpose == interaction.PurposeReply || o.Purpose == interaction.PurposeReplyAll {
		// Only an answer to the customer meets a response deadline: not a
		// forward to a third party nor a new email. Escalations that fire
		// on the way (a reply sent after its breach) no longer move it.
		if _, err := w.slaApply(t, parent, sla.Event{Kind: sla.ReplySent, At: t.now}); err != nil {
			return err
		}
	}
	if o.Disposition != "" && parent.Disposition == "" && parent.State.Open() {
		// The disposition set in the reply's window settles the inbound.
		parent.Disposition = o.Disposition
		parent.Record(o.Owner, "disposition", t.now, o.Disposition)
	}
	closes := w.opts.CompleteOnReply && parent.State == interaction.StateHandling &&
		(o.Purpose == interaction.PurposeReply || o.Purpose == interaction.PurposeReplyAll)
	if closes {
		if w.opts.DispositionRequired && parent.Disposition == "" {
			return fmt.Errorf("%w: sending this reply marks %s done, which needs a disposition first", ErrInvalidInput, parent.ID)
		}
		if err := parent.Fire(t.ctx, interaction.EventComplete, actor, t.now, "reply sent"); err != nil {
			return err
		}
	}
	// Its check may wait for the statements after it (see updateLast):
	// nothing here goes on after a refusal, which fails the send.
	if err := t.updateLast(parent); err != nil {
		return err
	}
	if !closes {
		return nil
	}
	if err := t.emit(EventDone, parent, parent.Owner, actor, "reply sent"); err != nil {
		return err
	}
	return w.freed(t, parent.Owner)
}

// dispatch delivers the outbox items that are due and returns how many
// were delivered (Runner.Dispatch).
func (w *Workspace) dispatch(ctx context.Context) (int, error) {
	var due []*OutboxItem
	claims := false
	err := w.view(ctx, func(t *tx) error {
		if _, claims = t.Tx.(OutboxClaimTx); claims {
			return nil // claimed one by one below
		}
		var err error
		due, err = t.DueOutbox(ctx, t.now, 100)
		return err
	})
	if err == nil && claims {
		return w.dispatchClaiming(ctx)
	}
	if err != nil {
		return 0, err
	}
	n := 0
	for _, o := range due {
		ok, err := w.deliver(ctx, o.ID)
		if ok {
			n++
		}
		if err != nil && ctx.Err() != nil {
			return n, ctx.Err()
		}
	}
	return n, nil
}

// logAttempt logs a first delivery attempt that failed, made right after
// the action that queued it (what: "delivery", "acknowledgement"): a
// failed outbound went back to its agent, another waits in the outbox for
// a retry.
func (w *Workspace) logAttempt(what, id string, it *interaction.Interaction, err error) {
	if it != nil && it.State == interaction.StateFailed {
		w.log.Warn("emailflow: "+what+" failed, back to the agent", "interaction", id, "outbound", it.ID, "err", err)
		return
	}
	w.log.Warn("emailflow: "+what+" deferred to the outbox", "interaction", id, "err", err)
}

// permanent reports a Sender error that retrying cannot help (see Sender).
func permanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

// Delivery is at least once: SMTP cannot make it exactly once. A process
// that dies after the Sender handed the message over and before the
// outcome is committed leaves the item pending, and another dispatcher
// sends it again once the lease runs out, with the same bytes and so the
// same Message-ID, by which the receiver can tell the copy. The window is
// kept as small as it can be: the attempt is recorded (leased) before the
// hand-off, the outcome right after it, and the lease is short and
// renewed while the Sender works, so a slow delivery is never taken over
// by another dispatcher and a dead one is retried soon.

// deliver hands outbox item id to the Sender once: it leases the item,
// sends, then records the outcome. It reports whether the item was
// delivered; an error means it was not (and will be retried, or failed).
func (w *Workspace) deliver(ctx context.Context, id string) (bool, error) {
	var item *OutboxItem
	err := w.update(ctx, func(t *tx) error {
		o, err := t.OutboxItem(ctx, id)
		if err != nil {
			return err
		}
		if o.State != OutboxPending || o.NextAttempt.After(t.now) {
			return errSkip
		}
		item = o
		return w.lease(t, o)
	})
	if errors.Is(err, errSkip) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	_, err = w.attempt(ctx, item)
	return err == nil, err
}

// lease records an attempt at outbox item o: it is not due again until the
// lease runs out (see keepLease).
func (w *Workspace) lease(t *tx, o *OutboxItem) error {
	o.Attempts++
	o.NextAttempt, o.UpdatedAt = t.now.Add(w.opts.DeliveryLease), t.now
	return t.UpdateOutbox(t.ctx, o)
}

// attempt sends a leased outbox item and records the outcome: delivered
// (the outbound is sent), failed for good after MaxAttempts (back to its
// agent), or due again after a backoff. It returns the outbound as it now
// stands and the Sender's error.
func (w *Workspace) attempt(ctx context.Context, item *OutboxItem) (*interaction.Interaction, error) {
	it, _, err := w.attemptOutcome(ctx, item)
	return it, err
}

// attemptOutcome is attempt, also returning the outbox item as recorded
// (nil when another dispatcher's outcome counts). Both are the store's:
// the caller copies what it hands on.
func (w *Workspace) attemptOutcome(ctx context.Context, item *OutboxItem) (*interaction.Interaction, *OutboxItem, error) {
	stop := w.keepLease(ctx, item)
	sendErr := w.sender.Send(ctx, item.From, item.To, item.Raw)
	stop()
	// Record what happened even if the caller gives up now: a delivery the
	// Sender took must not be sent again for want of a commit.
	ctx = context.WithoutCancel(ctx)
	var out *interaction.Interaction
	var rec *OutboxItem
	err := w.update(ctx, func(t *tx) error {
		rec = nil
		// Losing this commit in a crash leaves the item leased and
		// pending: it is sent again once the lease runs out, as after a
		// crash just before the commit. So it need not wait for the disk.
		if a, ok := t.Tx.(AsyncCommitTx); ok {
			a.AsyncCommit()
		}
		t.aheadInteraction(item.InteractionID) // with the item's read
		o, err := t.OutboxItem(ctx, item.ID)
		if err != nil {
			return err
		}
		if o.State != OutboxPending || o.Attempts != item.Attempts {
			// The lease ran out and another dispatcher took the item: its
			// outcome is the one that counts.
			return errSkip
		}
		it, err := t.Interaction(ctx, o.InteractionID)
		if err != nil {
			return err
		}
		out, rec = it, o
		o.UpdatedAt = t.now
		var ev interaction.Event
		switch {
		case sendErr == nil:
			o.State, o.LastError, ev = OutboxDelivered, "", interaction.EventDeliver
		case o.Attempts >= w.opts.MaxAttempts || permanent(sendErr):
			o.State, o.LastError, ev = OutboxFailed, sendErr.Error(), interaction.EventFail
		default:
			o.LastError = sendErr.Error()
			o.NextAttempt = t.now.Add(w.opts.RetryBackoff << min(o.Attempts-1, 16))
			return t.UpdateOutbox(ctx, o)
		}
		if err := t.UpdateOutbox(ctx, o); err != nil {
			return err
		}
		if !it.Can(ev) {
			// The item is closed whatever the outbound's state: an item left
			// pending would be sent again and again.
			w.log.Warn("emailflow: outbox outcome without a transition", "outbound", it.ID, "state", it.State, "event", ev)
			return nil
		}
		detail := o.MessageID
		if sendErr != nil {
			detail = sendErr.Error()
		}
		if err := it.Fire(ctx, ev, "system", t.now, detail); err != nil {
			return err
		}
		// Any error of the write fails the outcome (it is recorded again
		// on the retry): the store may check it with the commit.
		if err := t.updateLast(it); err != nil {
			return err
		}
		if sendErr == nil {
			return t.emit(EventSent, it, it.Owner, "system", o.MessageID)
		}
		return t.emit(EventFailed, it, it.Owner, "system", sendErr.Error())
	})
	if errors.Is(err, errSkip) {
		return nil, nil, sendErr
	}
	if err != nil {
		return nil, nil, err
	}
	return out, rec, sendErr
}

// keepLease renews the lease on item every third of Options.DeliveryLease
// while the Sender works, and returns the function that stops renewing
// (waiting for a renewal under way). It stops by itself when the item is
// no longer this attempt's.
func (w *Workspace) keepLease(ctx context.Context, item *OutboxItem) (stop func()) {
	k := &leaseKeeper{w: w, ctx: ctx, item: item, every: w.opts.DeliveryLease / 3}
	k.mu.Lock()
	k.timer = time.AfterFunc(k.every, k.renew)
	k.mu.Unlock()
	return k.stop
}

// leaseKeeper renews one delivery's lease.
type leaseKeeper struct {
	w     *Workspace
	ctx   context.Context
	item  *OutboxItem
	every time.Duration

	mu      sync.Mutex // held by a renewal, so that stop waits for it
	stopped bool
	timer   *time.Timer
}

func (k *leaseKeeper) renew() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.stopped {
		return
	}
	ctx, w := k.ctx, k.w
	err := w.update(ctx, func(t *tx) error {
		o, err := t.OutboxItem(ctx, k.item.ID)
		if err != nil {
			return err
		}
		if o.State != OutboxPending || o.Attempts != k.item.Attempts {
			return errSkip
		}
		o.NextAttempt, o.UpdatedAt = t.now.Add(w.opts.DeliveryLease), t.now
		return t.UpdateOutbox(ctx, o)
	})
	if errors.Is(err, errSkip) {
		return // no longer ours
	}
	if err != nil {
		w.log.Warn("emailflow: delivery lease not renewed, trying again", "outbox", k.item.ID, "err", err)
	}
	k.timer.Reset(k.every)
}

func (k *leaseKeeper) stop() {
	k.mu.Lock()
	k.stopped = true
	k.timer.Stop()
	k.mu.Unlock()
}
