package emailflow

import (
	"fmt"
	"net/mail"

	"github.com/emailflow/emailflow/compose"
)

// Limits bound what agents write into the Workspace, so that one request
// cannot fill the store or reach thousands: beyond a limit the action fails
// with ErrTooLarge and changes nothing. A zero field means its default; a
// negative one is refused by New.
type Limits struct {
	// NoteBytes bounds one note: AddNote, a transfer's or an assignment's
	// note, a consultation's question and answer, a reviewer's remarks.
	// Default 32 KiB.
	NoteBytes int
	// CaseDataBytes bounds a case data key and its value, each, and a
	// disposition code. Default 4 KiB.
	CaseDataBytes int
	// InstructionsBytes bounds the instructions written above a forward.
	// Default 64 KiB.
	InstructionsBytes int
	// DraftBytes bounds the subject, text and HTML of an email together,
	// as an agent or a reviewer writes them (EditDraft, ReviewEdit,
	// NewEmail, InsertResponse). Default 10 MiB.
	DraftBytes int
	// Recipients bounds the To, Cc and Bcc addresses of an outbound email
	// together. A reply, reply all or forward that would get more (the
	// customer's Reply-To counts) is created with the first ones only and
	// a warning saying so (Email.Warnings); an edit or a Send beyond it is
	// refused. Default compose.DefaultMaxRecipients (50).
	Recipients int
}

// Default limits.
const (
	DefaultNoteBytes         = 32 << 10
	DefaultCaseDataBytes     = 4 << 10
	DefaultInstructionsBytes = 64 << 10
	DefaultDraftBytes        = 10 << 20
)

// withDefaults fills the zero fields and refuses negative ones.
func (l *Limits) withDefaults() error {
	for _, f := range []struct {
		name string
		v    *int
		def  int
	}{
		{"NoteBytes", &l.NoteBytes, DefaultNoteBytes},
		{"CaseDataBytes", &l.CaseDataBytes, DefaultCaseDataBytes},
		{"InstructionsBytes", &l.InstructionsBytes, DefaultInstructionsBytes},
		{"DraftBytes", &l.DraftBytes, DefaultDraftBytes},
		{"Recipients", &l.Recipients, compose.DefaultMaxRecipients},
	} {
		switch {
		case *f.v < 0:
			return fmt.Errorf("%w: Options.Limits.%s %d is negative", ErrInvalidInput, f.name, *f.v)
		case *f.v == 0:
			*f.v = f.def
		}
	}
	return nil
}

// tooLarge refuses a text of what over max bytes.
func tooLarge(what, text string, max int) error {
	if len(text) > max {
		return fmt.Errorf("%w: %s of %d bytes, at most %d", ErrTooLarge, what, len(text), max)
	}
	return nil
}

func (w *Workspace) checkNote(what, text string) error {
	return tooLarge(what, text, w.opts.Limits.NoteBytes)
}

func (w *Workspace) checkCaseData(key, value string) error {
	if err := tooLarge("case data key", key, w.opts.Limits.CaseDataBytes); err != nil {
		return err
	}
	return tooLarge("case data value", value, w.opts.Limits.CaseDataBytes)
}

// checkDraftSize refuses an email whose subject, text and HTML together
// are over Limits.DraftBytes.
func (w *Workspace) checkDraftSize(subject, text, html string) error {
	if n, max := len(subject)+len(text)+len(html), w.opts.Limits.DraftBytes; n > max {
		return fmt.Errorf("%w: an email of %d bytes (subject, text and HTML), at most %d", ErrTooLarge, n, max)
	}
	return nil
}

// checkRecipients refuses an outbound email to more than
// Limits.Recipients addresses.
func (w *Workspace) checkRecipients(to, cc, bcc []mail.Address) error {
	if n, max := len(to)+len(cc)+len(bcc), w.opts.Limits.Recipients; n > max {
		return fmt.Errorf("%w: %d recipients (To, Cc and Bcc), at most %d", ErrTooLarge, n, max)
	}
	return nil
}

// cutRecipients keeps the first Limits.Recipients addresses of a draft the
// Workspace builds (To first, then Cc, then Bcc) and returns a warning
// saying what was cut, or "".
func (w *Workspace) cutRecipients(d *compose.Draft) string {
	n, max := len(d.To)+len(d.Cc)+len(d.Bcc), w.opts.Limits.Recipients
	if n <= max {
		return ""
	}
	left := max
	keep := func(l []mail.Address) []mail.Address {
		k := min(len(l), left)
		left -= k
		if k == 0 {
			return nil
		}
		return l[:k:k]
	}
	d.To, d.Cc, d.Bcc = keep(d.To), keep(d.Cc), keep(d.Bcc)
	return fmt.Sprintf("recipients cut: the original email gave %d addresses (its Reply-To, From, To and Cc), an email goes to at most %d; the first %d are kept", n, max, max)
}
