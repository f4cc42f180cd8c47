package emailflow

import (
	"context"
	"errors"
	"fmt"

	"github.com/emailflow/emailflow/compose"
)

// Filter is a check Ingest makes of a message before it reaches agents
// (a port: the host's own classifier, or a built-in one such as
// UpstreamFilter). Ingest asks the sender lists first (see SenderRule),
// then Options.Filters in order: the first decisive verdict (anything but
// VerdictPass) wins. Filters are not asked about our own mail, bounces of
// our emails, nor automatic answers stored on their conversation.
//
// A filter must be safe for concurrent use and must not change the
// message. A filter that fails is skipped: its error is logged and added
// to the email's warnings, and the mail is taken in as if it had no
// opinion (a broken classifier must not stop the intake).
type Filter interface {
	Check(ctx context.Context, m *Incoming) (Verdict, error)
}

// FilterFunc is a function that is a Filter: the hook for a host's own
// classifier.
type FilterFunc func(ctx context.Context, m *Incoming) (Verdict, error)

// Check calls f.
func (f FilterFunc) Check(ctx context.Context, m *Incoming) (Verdict, error) { return f(ctx, m) }

// Incoming is what a Filter sees of a message: read it, never change it.
type Incoming struct {
	// Mailbox is our address it came to.
	Mailbox string
	// Message is the message as parsed.
	Message *compose.Message
	// Raw is the message as received, trace fields included.
	Raw []byte
	// Envelope is the SMTP envelope, when its source told it; nil
	// otherwise.
	Envelope *Envelope
}

// ErrRejected is returned by Ingest for mail a filter or the sender lists
// refused: nothing was stored. The SMTP server answers it with 550.
var ErrRejected = errors.New("emailflow: message rejected")

// verdict asks the sender lists (the rule lookup read), then each of
// Options.Filters in turn, and returns the first decisive verdict, with
// warnings for filters that failed. A sender the lists allow gets
// VerdictDeliver without asking the filters.
func (w *Workspace) verdict(ctx context.Context, in *intake) (Verdict, []string, error) {
	if rule := in.rule; rule != nil {
		v := Verdict{Filter: "sender-list", Reason: "sender rule " + rule.Pattern}
		if rule.Note != "" {
			v.Reason += ": " + rule.Note
		}
		switch rule.Action {
		case ListAllow:
			v.Action = VerdictDeliver
		case ListQuarantine:
			v.Action = VerdictQuarantine
		case ListReject:
			v.Action = VerdictReject
		}
		return v, nil, nil
	}
	if len(w.opts.Filters) == 0 {
		return Verdict{}, nil, nil
	}
	m := &Incoming{Mailbox: in.mailbox, Message: in.msg, Raw: in.raw, Envelope: in.envelope}
	var warnings []string
	for i, f := range w.opts.Filters {
		v, err := f.Check(ctx, m)
		if err != nil {
			if ctx.Err() != nil {
				return Verdict{}, nil, ctx.Err()
			}
			w.log.Warn("emailflow: filter failed, skipped", "filter", i+1, "err", err)
			warnings = append(warnings, fmt.Sprintf("filter %d failed and was skipped: %v", i+1, err))
			continue
		}
		if v.Action == VerdictPass {
			continue
		}
		if v.Filter == "" {
			v.Filter = fmt.Sprintf("filter %d", i+1)
		}
		switch v.Action {
		case VerdictDeliver, VerdictQuarantine, VerdictReject:
			return v, warnings, nil
		}
		warnings = append(warnings, fmt.Sprintf("%s gave the unknown verdict %q, taken as no opinion", v.Filter, v.Action))
	}
	return Verdict{}, warnings, nil
}
