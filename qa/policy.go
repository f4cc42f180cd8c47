package qa

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
)

// Submission is what a Policy knows of an email being sent.
type Submission struct {
	ID       string   // the outbound interaction
	ParentID string   // the inbound it answers, if any
	ThreadID string   // the conversation
	Purpose  string   // "reply", "reply-all", "forward", "new"
	Author   string   // the sending agent
	Roles    []string // the author's roles ("agent", "supervisor"...)
	Groups   []string // the author's groups (teams)
	Queue    string   // the queue the email's interaction came through
	Mailbox  string   // our address it is sent from
	To       []string // every recipient address (To, Cc and Bcc)
	// Requested is set when the author asked for a review.
	Requested bool
}

// Verdict is a Policy's answer about one Submission.
type Verdict int

// Verdicts. A policy that has no opinion abstains, so policies combine: the
// first that does not abstain decides (First), or any that asks for review
// wins (Any).
const (
	Abstain Verdict = iota // no opinion: another policy, or no review
	Review                 // a reviewer must approve the email before it is sent
	Skip                   // send without review (an exemption)
)

// String returns the verdict's name.
func (v Verdict) String() string {
	switch v {
	case Review:
		return "review"
	case Skip:
		return "skip"
	}
	return "abstain"
}

// Policy decides at Send whether an email goes to review first. It is a
// port: hosts may implement it (a CRM rule, a per-customer setting); the
// built-ins below cover the usual cases and combine with First and Any.
// Decide must be safe for concurrent use and must not block.
type Policy interface {
	Decide(s Submission) Verdict
}

// PolicyFunc adapts a function to a Policy.
type PolicyFunc func(Submission) Verdict

// Decide calls f.
func (f PolicyFunc) Decide(s Submission) Verdict { return f(s) }

// Needs reports whether p sends s to review: p's verdict is Review. A nil
// p never does.
func Needs(p Policy, s Submission) bool {
	return p != nil && p.Decide(s) == Review
}

// All reviews every email.
func All() Policy { return PolicyFunc(func(Submission) Verdict { return Review }) }

// None reviews nothing: every email is sent at once (Skip).
func None() Policy { return PolicyFunc(func(Submission) Verdict { return Skip }) }

// ByGroup reviews the email of authors in any of groups; it abstains for
// others.
func ByGroup(groups ...string) Policy {
	groups = slices.Clone(groups)
	return PolicyFunc(func(s Submission) Verdict {
		for _, g := range s.Groups {
			if slices.Contains(groups, g) {
				return Review
			}
		}
		return Abstain
	})
}

// ByQueue reviews the email answering interactions of any of queues; it
// abstains for others.
func ByQueue(queues ...string) Policy {
	queues = slices.Clone(queues)
	return PolicyFunc(func(s Submission) Verdict {
		if slices.Contains(queues, s.Queue) {
			return Review
		}
		return Abstain
	})
}

// Sample reviews a fraction rate (0 to 1) of emails, chosen by a hash of
// the interaction id: the same email always gets the same answer, in every
// process, so a sample is reproducible and cannot be re-rolled by sending
// again. (A new draft is a new interaction, hence a new draw; SampleBy with
// the thread id samples conversations instead.) It abstains for the emails
// not drawn.
func Sample(rate float64) Policy {
	return SampleBy(rate, func(s Submission) string { return s.ID })
}

// SampleBy is Sample drawing by another key of the submission, such as
// the thread id (every email of a sampled conversation is reviewed) or the
// author and the day.
func SampleBy(rate float64, key func(Submission) string) Policy {
	return PolicyFunc(func(s Submission) Verdict {
		if Drawn(key(s), rate) {
			return Review
		}
		return Abstain
	})
}

// Drawn reports whether id falls in a sample of the given rate: the first
// 53 bits of SHA-256(id), as a fraction of 1, are under rate.
func Drawn(id string, rate float64) bool {
	if rate <= 0 {
		return false
	}
	if rate >= 1 {
		return true
	}
	sum := sha256.Sum256([]byte(id))
	x := binary.BigEndian.Uint64(sum[:8]) >> 11
	return float64(x)/(1<<53) < rate
}

// OnRequest reviews the emails whose author asked for it
// (Submission.Requested); it abstains for others.
func OnRequest() Policy {
	return PolicyFunc(func(s Submission) Verdict {
		if s.Requested {
			return Review
		}
		return Abstain
	})
}

// Exempt skips review for authors having any of roles (a supervisor's own
// email, say); it abstains for others. Put it first in First.
func Exempt(roles ...string) Policy {
	roles = slices.Clone(roles)
	return PolicyFunc(func(s Submission) Verdict {
		for _, r := range s.Roles {
			if slices.Contains(roles, r) {
				return Skip
			}
		}
		return Abstain
	})
}

// ExemptIf skips review for the submissions pred accepts; it abstains for
// others.
func ExemptIf(pred func(Submission) bool) Policy {
	return PolicyFunc(func(s Submission) Verdict {
		if pred(s) {
			return Skip
		}
		return Abstain
	})
}

// First returns the verdict of the first policy that does not abstain, or
// Abstain. Nil policies are ignored.
func First(policies ...Policy) Policy {
	policies = slices.Clone(policies)
	return PolicyFunc(func(s Submission) Verdict {
		for _, p := range policies {
			if p == nil {
				continue
			}
			if v := p.Decide(s); v != Abstain {
				return v
			}
		}
		return Abstain
	})
}

// Any reviews when any policy says Review, even if another says Skip;
// otherwise it abstains. Nil policies are ignored.
func Any(policies ...Policy) Policy {
	policies = slices.Clone(policies)
	return PolicyFunc(func(s Submission) Verdict {
		for _, p := range policies {
			if p != nil && p.Decide(s) == Review {
				return Review
			}
		}
		return Abstain
	})
}
