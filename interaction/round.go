package interaction

import (
	"net/mail"
	"slices"
	"time"
)

// Decision is a reviewer's verdict on one review round of an outbound email.
type Decision string

// Decisions of a review round.
const (
	DecisionPending   Decision = "pending"   // submitted, waiting for a reviewer
	DecisionApproved  Decision = "approved"  // approved: the reviewed version went to the outbox
	DecisionRejected  Decision = "rejected"  // sent back to its author with remarks
	DecisionWithdrawn Decision = "withdrawn" // pulled back by its author before a decision
)

// String returns the decision's name.
func (d Decision) String() string { return string(d) }

// Round is one submission of an outbound email for quality review: who
// wrote it, who decided, what and why, when, and the hash of exactly the
// content under review. An outbound interaction keeps its rounds in order
// (Interaction.Rounds); the qa package decides how they change.
type Round struct {
	Number    int    // 1 for the first submission
	ReviewID  string // the review interaction routed to reviewers
	Author    string // the agent who submitted the email
	Requested bool   // the author asked for this review
	// Reviewer is the reviewer who decided (or edited); empty while
	// nobody has.
	Reviewer    string
	Decision    Decision
	Reason      string // the reason code of a rejection
	Remarks     string // the reviewer's remarks to the author
	SubmittedAt time.Time
	DecidedAt   time.Time // zero while pending
	// SubmittedHash is the content hash of the email as submitted; Hash is
	// the hash of the content under review now (they differ after a
	// reviewer edit). An approval sends only content with this Hash.
	SubmittedHash string
	Hash          string
	// Edits are the reviewer's changes, oldest first.
	Edits []RoundEdit
}

// RoundEdit is one change a reviewer made to an email in review, with the
// content before and after.
type RoundEdit struct {
	By     string
	At     time.Time
	Before EmailContent
	After  EmailContent
}

// EmailContent is what of an outbound email reaches its recipients: what a
// review freezes and what its content hash covers. Message-ID and Date are
// left out: they are set when the email is rendered.
type EmailContent struct {
	From        mail.Address
	To          []mail.Address
	Cc          []mail.Address
	Bcc         []mail.Address
	ReplyTo     []mail.Address
	Subject     string
	Text        string
	HTML        string
	InReplyTo   []string
	References  []string
	Attachments []AttachmentDigest
}

// AttachmentDigest identifies an attachment without its body.
type AttachmentDigest struct {
	Filename    string
	ContentType string
	ContentID   string
	Inline      bool
	Size        int64
	SHA256      string // hex digest of the body
}

// Clone returns a deep copy.
func (c EmailContent) Clone() EmailContent {
	c.To, c.Cc, c.Bcc, c.ReplyTo = slices.Clone(c.To), slices.Clone(c.Cc), slices.Clone(c.Bcc), slices.Clone(c.ReplyTo)
	c.InReplyTo, c.References = slices.Clone(c.InReplyTo), slices.Clone(c.References)
	c.Attachments = slices.Clone(c.Attachments)
	return c
}

// Clone returns a deep copy.
func (r Round) Clone() Round {
	if r.Edits != nil {
		edits := make([]RoundEdit, len(r.Edits))
		for i, e := range r.Edits {
			edits[i] = RoundEdit{By: e.By, At: e.At, Before: e.Before.Clone(), After: e.After.Clone()}
		}
		r.Edits = edits
	}
	return r
}

func cloneRounds(rs []Round) []Round {
	if rs == nil {
		return nil
	}
	out := make([]Round, len(rs))
	for i, r := range rs {
		out[i] = r.Clone()
	}
	return out
}
