package port

import (
	"net/mail"
	"time"

	"github.com/emailflow/emailflow/compose"
)

// Direction says whether an email came in or goes out.
type Direction string

// Directions of an email.
const (
	Inbound  Direction = "inbound"
	Outbound Direction = "outbound"
)

// String returns the direction's name.
func (d Direction) String() string { return string(d) }

// Email is one message of an interaction: a received email as parsed, or an
// outbound draft (Raw is set once it is rendered for sending).
type Email struct {
	ID            string
	InteractionID string
	Direction     Direction
	Mailbox       string // our address it came to or is sent from

	MessageID  string // without angle brackets
	InReplyTo  []string
	References []string

	From    mail.Address
	To      []mail.Address
	Cc      []mail.Address
	Bcc     []mail.Address
	ReplyTo []mail.Address
	Subject string
	Date    time.Time
	Text    string
	HTML    string

	Attachments []Attachment
	// Auto is the automated-mail classification of an inbound email
	// ("auto-reply", "bulk", "list", "bounce"; empty for a person's mail).
	// On an outbound email, a non-empty Auto marks our own automated mail:
	// it is rendered with "Auto-Submitted: auto-replied".
	Auto string
	// Report is what a delivery status notification (a bounce, a delay
	// warning) says about the message it reports on; nil for any other
	// email.
	Report *compose.Report
	// BounceOf marks a delivery report about one of our emails: that
	// outbound email's id. Such a report is kept on the outbound's
	// interaction, beside the email it reports on, and is no customer's
	// mail. Empty for any other email.
	BounceOf string
	// Automatic marks automated mail kept on a conversation it joined (an
	// out-of-office answer, an auto-reply): in its history, never the
	// customer's answer (Reply answers the customer's latest email).
	Automatic bool
	// Verdict is the decision of the filter that quarantined the email
	// (or let it through on its own say, VerdictDeliver); nil when no
	// filter decided.
	Verdict *Verdict
	// ForwardID marks an external resource's answer to one of our
	// forwards: the forward's (outbound) interaction id. Such an email is
	// kept on the inbound the forward was made from, for its agent; it is
	// not the customer's mail (Reply answers the customer's latest email).
	// Empty for any other email.
	ForwardID string
	// Warnings lists what could not be read of a malformed inbound email,
	// and what its intake had to set aside (a sender no contact could be
	// made for, a reference to a conversation the sender is no party of);
	// on an outbound draft, what the Workspace changed in what it built
	// (recipients cut to Limits.Recipients).
	Warnings []string
	// Raw is the message as received, or as rendered for sending. Treat it
	// as read-only: stores may share it.
	Raw []byte
	// Envelope is the SMTP envelope an inbound email arrived with, when
	// its source told it (see EnvelopeReader); nil otherwise.
	Envelope *Envelope

	CreatedAt time.Time
	UpdatedAt time.Time
}

// IsResourceAnswer reports whether e is an external resource's answer to
// one of our forwards rather than the customer's mail.
func (e *Email) IsResourceAnswer() bool { return e.ForwardID != "" }

// Attachment is a file attached to an email. Data is read-only once stored.
type Attachment struct {
	ID string
	// Filename is safe to show and to save under: compose.SafeFilename of
	// the name the sender gave (the base name only, without control,
	// bidirectional or invisible characters, at most 255 bytes).
	Filename string
	// OriginalFilename is the name as the sender gave it, when it differs
	// from Filename: for display on request only, escaped, never as a
	// path.
	OriginalFilename string
	ContentType      string
	ContentID        string // for inline parts, without angle brackets
	Inline           bool
	Size             int64
	Data             []byte
}

// Clone returns a copy whose slices can be changed without touching e.
// Attachment bodies and Raw are shared: they are never changed in place.
func (e *Email) Clone() *Email {
	if e == nil {
		return nil
	}
	c := *e
	// One backing array per element type, each field a capped window of
	// it: a copy costs three allocations, not eight, and an append to one
	// field cannot run into the next.
	ss := make([]string, 0, len(e.InReplyTo)+len(e.References)+len(e.Warnings))
	c.InReplyTo, ss = carve(ss, e.InReplyTo)
	c.References, ss = carve(ss, e.References)
	c.Warnings, _ = carve(ss, e.Warnings)
	as := make([]mail.Address, 0, len(e.To)+len(e.Cc)+len(e.Bcc)+len(e.ReplyTo))
	c.To, as = carve(as, e.To)
	c.Cc, as = carve(as, e.Cc)
	c.Bcc, as = carve(as, e.Bcc)
	c.ReplyTo, _ = carve(as, e.ReplyTo)
	c.Attachments = append([]Attachment(nil), e.Attachments...)
	c.Envelope = e.Envelope.Clone()
	if e.Report != nil {
		r := *e.Report
		r.Recipients = append([]compose.RecipientStatus(nil), e.Report.Recipients...)
		c.Report = &r
	}
	if e.Verdict != nil {
		v := *e.Verdict
		c.Verdict = &v
	}
	return &c
}

// IsBounce reports whether e is a delivery report about one of our
// emails (see BounceOf).
func (e *Email) IsBounce() bool { return e.BounceOf != "" }

// carve copies src into the free capacity of buf and returns the copy,
// capped so that appending to it reallocates, and buf past it. An empty src
// gives nil.
func carve[T any](buf, src []T) (cp, rest []T) {
	if len(src) == 0 {
		return nil, buf
	}
	n := len(buf)
	buf = append(buf, src...)
	return buf[n:len(buf):len(buf)], buf
}
