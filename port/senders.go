package port

import (
	"context"
	"time"
)

// SenderRule is an entry of the centre's sender lists: what Ingest does
// with mail from an address or a domain, before any other filter. The
// lists are kept in the Store, so every Workspace sharing it applies the
// same ones, and supervisors change them at run time (PutSenderRule,
// DeleteSenderRule).
type SenderRule struct {
	// Pattern is an address ("promo@deals.example") or a domain
	// ("deals.example"), which also covers its subdomains
	// ("mx.deals.example"); lower case, in contact.NormalizeAddress
	// form. The most specific rule that matches a sender applies: its
	// address, then its domain, then the parent domains.
	Pattern string
	// Action is what the rule does with the mail.
	Action ListAction
	// Note says why, for the supervisors.
	Note string
	// By is the agent who set the rule; At when.
	By string
	At time.Time
}

// SenderListTx is the optional ability of a Tx to keep the sender lists,
// found by type assertion. store/memory and store/postgres have it; with
// a Store without it the Workspace has no sender lists: Ingest finds no
// rule, and PutSenderRule, DeleteSenderRule and SenderRules return an
// error wrapping errors.ErrUnsupported.
type SenderListTx interface {
	// SenderRules returns the sender rules stored for these patterns, in
	// the order of patterns; patterns without a rule are left out. It is
	// one look-up however many patterns it is given (Ingest gives the
	// sender's address and its domains, a bounded number).
	SenderRules(ctx context.Context, patterns []string) ([]SenderRule, error)
	// ListSenderRules returns a page of every sender rule, ordered by
	// pattern (byte order); a limit of 0 means no limit.
	ListSenderRules(ctx context.Context, offset, limit int) ([]SenderRule, error)
	// PutSenderRule inserts or replaces the rule for r.Pattern.
	PutSenderRule(ctx context.Context, r SenderRule) error
	// DeleteSenderRule removes the rule for pattern, or returns
	// ErrNotFound.
	DeleteSenderRule(ctx context.Context, pattern string) error
}

// ListAction is what a sender rule does with a sender's mail.
type ListAction string

// Sender rule actions.
const (
	// ListAllow delivers the sender's mail without asking the filters
	// nor counting it against the rate limit of automated mail.
	ListAllow ListAction = "allow"
	// ListQuarantine sets the sender's mail aside for a supervisor.
	ListQuarantine ListAction = "quarantine"
	// ListReject refuses the sender's mail: Ingest returns ErrRejected and
	// stores nothing (the SMTP server answers 550).
	ListReject ListAction = "reject"
)

// String returns the action's name.
func (a ListAction) String() string { return string(a) }
