package emailflow

import (
	"context"
	"strings"

	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/contact"
)

// classify decides what the message is, and so where it goes, in this
// order: one of ours (a copy of our email, a message taken in before, our
// X-Loop)? a bounce (linked to the email it reports on, or to
// Options.BounceQueue)? automated mail that joins a conversation (stored
// on it)? a resource's answer to a forward? the sender lists' and the
// filters' verdict (deliver, quarantine, reject)? Otherwise it is a
// customer's mail, a follow-up or a new conversation.
func (w *Workspace) classify(ctx context.Context, in *intake) error {
	if w.ours(in) {
		return nil
	}
	if in.msg.Auto == compose.AutoBounce {
		w.bounce(in)
		return nil
	}
	if err := w.thread(ctx, in); err != nil {
		return err
	}
	switch {
	case in.inbound != "":
		in.dest = toResource
		return nil
	case in.thread != "" && in.msg.Auto.Automated() && !w.opts.AutoRepliesAsMail:
		in.dest = toAutomatic
		return nil
	}
	return w.filter(ctx, in)
}

// ours reports whether the message is one of ours or was taken in
// before, and sets where it goes: nowhere new for a copy of our own
// email or a message taken in before, the quarantine for mail carrying
// our X-Loop (mail we sent, come back through an automatic forward or
// responder).
func (w *Workspace) ours(in *intake) bool {
	if in.same != nil && w.sameMessage(&in.placement, in, in.same) {
		in.dest = toDuplicate
		if in.ownCopy != "" {
			in.dest = toOwnCopy
		}
		return true
	}
	if loop := w.ourLoop(in); loop != "" {
		in.dest, in.reason = toQuarantine, "carries our X-Loop: "+loop+": mail of ours come back, a loop"
		return true
	}
	return false
}

// ourLoop returns the X-Loop value of the message that names us: one of
// our mailboxes, the mailbox it came to, or our host name ("" for none).
func (w *Workspace) ourLoop(in *intake) string {
	for _, v := range in.msg.Header.Values("X-Loop") {
		for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
			a := contact.NormalizeAddress(strings.Trim(f, "<>"))
			if a != "" && (w.own[a] || a == in.mailbox || a == strings.ToLower(w.opts.Hostname)) {
				return a
			}
		}
	}
	return ""
}

// bounce sets where a bounce goes: the outbound of our email it reports
// on, or, when it names nothing of ours, an inbound interaction of its
// own (Options.BounceQueue), never a customer's.
func (w *Workspace) bounce(in *intake) {
	if e := in.original; e != nil && e.Direction == Outbound {
		in.dest, in.bounceOf = toBounce, e
		return
	}
	in.dest = toInbox
}

// filter asks the sender lists and Options.Filters for their verdict:
// deliver (on their own say, which also spares the mail the rate limit of
// automated mail), quarantine, or reject.
func (w *Workspace) filter(ctx context.Context, in *intake) error {
	v, warnings, err := w.verdict(ctx, in)
	if err != nil {
		return err
	}
	in.warnings = append(in.warnings, warnings...)
	switch v.Action {
	case VerdictDeliver:
		in.allowed, in.verdict = true, &v
	case VerdictQuarantine:
		in.dest, in.verdict, in.reason = toQuarantine, &v, v.Filter+": "+v.Reason
	case VerdictReject:
		in.dest, in.verdict = toReject, &v
	}
	return nil
}
