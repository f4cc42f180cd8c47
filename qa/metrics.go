package qa

import (
	"maps"
	"slices"
	"time"
)

// History is the rounds of one email, as Metrics reads them.
type History struct {
	EmailID string // the outbound interaction
	Rounds  []Round
}

// Window selects the rounds submitted in [From, To); a zero bound is open.
type Window struct {
	From, To time.Time
}

// Contains reports whether t is in the window.
func (w Window) Contains(t time.Time) bool {
	return (w.From.IsZero() || !t.Before(w.From)) && (w.To.IsZero() || t.Before(w.To))
}

// Stats are review figures for one agent (as author), one reviewer (as
// decider) or everybody.
type Stats struct {
	Emails int // distinct emails with a counted round
	Rounds int // counted rounds
	// RoundsPerEmail is Rounds / Emails: 1 means every email passed at
	// its first review.
	RoundsPerEmail float64
	Approved       int
	Rejected       int
	Withdrawn      int
	Pending        int
	// ApprovalRate is Approved / (Approved + Rejected), 0 when nothing was
	// decided.
	ApprovalRate float64
	// Edited counts the rounds a reviewer edited.
	Edited int
	// TimeInReview is from submission to decision, over approved and
	// rejected rounds: the total, the mean and the longest.
	TimeInReview     time.Duration
	MeanTimeInReview time.Duration
	MaxTimeInReview  time.Duration
	// Reasons counts the rejections per reason code.
	Reasons map[string]int
}

// Report holds the figures per agent (the rounds they submitted), per
// reviewer (the rounds they approved or rejected) and overall.
type Report struct {
	Agents    map[string]Stats
	Reviewers map[string]Stats
	Total     Stats
}

// AgentIDs returns the agents of the report, sorted.
func (r Report) AgentIDs() []string { return slices.Sorted(maps.Keys(r.Agents)) }

// ReviewerIDs returns the reviewers of the report, sorted.
func (r Report) ReviewerIDs() []string { return slices.Sorted(maps.Keys(r.Reviewers)) }

// tally accumulates one Stats and the distinct emails behind it.
type tally struct {
	s      Stats
	emails map[string]bool
	timed  int
}

func (t *tally) add(email string, r *Round) {
	if t.emails == nil {
		t.emails = map[string]bool{}
	}
	t.emails[email] = true
	t.s.Rounds++
	if len(r.Edits) > 0 {
		t.s.Edited++
	}
	switch r.Decision {
	case Approved:
		t.s.Approved++
	case Rejected:
		t.s.Rejected++
		if t.s.Reasons == nil {
			t.s.Reasons = map[string]int{}
		}
		t.s.Reasons[r.Reason]++
	case Withdrawn:
		t.s.Withdrawn++
	default:
		t.s.Pending++
	}
	if (r.Decision == Approved || r.Decision == Rejected) && !r.DecidedAt.IsZero() {
		d := r.DecidedAt.Sub(r.SubmittedAt)
		t.s.TimeInReview += d
		t.s.MaxTimeInReview = max(t.s.MaxTimeInReview, d)
		t.timed++
	}
}

func (t *tally) stats() Stats {
	s := t.s
	s.Emails = len(t.emails)
	if s.Emails > 0 {
		s.RoundsPerEmail = float64(s.Rounds) / float64(s.Emails)
	}
	if d := s.Approved + s.Rejected; d > 0 {
		s.ApprovalRate = float64(s.Approved) / float64(d)
	}
	if t.timed > 0 {
		s.MeanTimeInReview = s.TimeInReview / time.Duration(t.timed)
	}
	return s
}

// Compute returns the review figures of the rounds submitted in w. A round
// counts for its author; an approved or rejected round also for the
// reviewer who decided it.
func Compute(emails []History, w Window) Report {
	agents, reviewers := map[string]*tally{}, map[string]*tally{}
	var total tally
	get := func(m map[string]*tally, id string) *tally {
		t, ok := m[id]
		if !ok {
			t = &tally{}
			m[id] = t
		}
		return t
	}
	for _, e := range emails {
		for i := range e.Rounds {
			r := &e.Rounds[i]
			if !w.Contains(r.SubmittedAt) {
				continue
			}
			total.add(e.EmailID, r)
			get(agents, r.Author).add(e.EmailID, r)
			if (r.Decision == Approved || r.Decision == Rejected) && r.Reviewer != "" {
				get(reviewers, r.Reviewer).add(e.EmailID, r)
			}
		}
	}
	rep := Report{Agents: map[string]Stats{}, Reviewers: map[string]Stats{}, Total: total.stats()}
	for id, t := range agents {
		rep.Agents[id] = t.stats()
	}
	for id, t := range reviewers {
		rep.Reviewers[id] = t.stats()
	}
	return rep
}
