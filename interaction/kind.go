package interaction

// Kind says what an interaction is.
type Kind string

// The kinds of interaction.
const (
	// KindInbound is an email received from a customer.
	KindInbound Kind = "inbound"
	// KindOutbound is an email an agent writes: a reply, reply all, forward
	// or a new email.
	KindOutbound Kind = "outbound"
	// KindConsult is a consultation of a colleague about another interaction.
	KindConsult Kind = "consult"
	// KindReview is a quality-assurance review of an outbound email: it is
	// queued and offered to reviewers like inbound mail.
	KindReview Kind = "review"
)

// String returns the kind's name.
func (k Kind) String() string { return string(k) }

// Valid reports whether k is one of the known kinds.
func (k Kind) Valid() bool {
	switch k {
	case KindInbound, KindOutbound, KindConsult, KindReview:
		return true
	}
	return false
}

// Purpose says why an outbound email was written.
type Purpose string

// The purposes of an outbound email.
const (
	PurposeReply    Purpose = "reply"
	PurposeReplyAll Purpose = "reply-all"
	PurposeForward  Purpose = "forward"
	PurposeNew      Purpose = "new"
	// PurposeAutoReply is the automatic acknowledgement of a customer's
	// first email, sent by the system.
	PurposeAutoReply Purpose = "auto-reply"
)

// String returns the purpose's name.
func (p Purpose) String() string { return string(p) }
