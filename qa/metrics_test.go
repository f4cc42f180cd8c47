package qa_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/emailflow/emailflow/qa"
)

func round(n int, author, reviewer string, d qa.Decision, reason string, submitted, took time.Duration) qa.Round {
	r := qa.Round{Number: n, Author: author, Reviewer: reviewer, Decision: d, Reason: reason, SubmittedAt: t0.Add(submitted)}
	if d != qa.Pending {
		r.DecidedAt = r.SubmittedAt.Add(took)
	}
	return r
}

func TestCompute(t *testing.T) {
	h := []qa.History{
		{EmailID: "e1", Rounds: []qa.Round{
			round(1, "alice", "rita", qa.Rejected, "tone", 0, 10*time.Minute),
			round(2, "alice", "paul", qa.Rejected, "accuracy", time.Hour, 20*time.Minute),
			round(3, "alice", "rita", qa.Approved, "", 2*time.Hour, 30*time.Minute),
		}},
		{EmailID: "e2", Rounds: []qa.Round{
			round(1, "alice", "", qa.Withdrawn, "", 0, time.Minute),
			round(2, "alice", "rita", qa.Approved, "", time.Hour, 60*time.Minute),
		}},
		{EmailID: "e3", Rounds: []qa.Round{
			round(1, "bob", "", qa.Pending, "", 3*time.Hour, 0),
		}},
	}
	rep := qa.Compute(h, qa.Window{})
	assert.Equal(t, []string{"alice", "bob"}, rep.AgentIDs())
	assert.Equal(t, []string{"paul", "rita"}, rep.ReviewerIDs())
	assert.Equal(t, qa.Stats{
		Emails: 2, Rounds: 5, RoundsPerEmail: 2.5, Approved: 2, Rejected: 2, Withdrawn: 1, ApprovalRate: 0.5,
		TimeInReview: 120 * time.Minute, MeanTimeInReview: 30 * time.Minute, MaxTimeInReview: time.Hour,
		Reasons: map[string]int{"tone": 1, "accuracy": 1},
	}, rep.Agents["alice"])
	assert.Equal(t, qa.Stats{Emails: 1, Rounds: 1, RoundsPerEmail: 1, Pending: 1}, rep.Agents["bob"])
	assert.Equal(t, qa.Stats{
		Emails: 2, Rounds: 3, RoundsPerEmail: 1.5, Approved: 2, Rejected: 1, ApprovalRate: 2.0 / 3,
		TimeInReview: 100 * time.Minute, MeanTimeInReview: 100 * time.Minute / 3, MaxTimeInReview: time.Hour,
		Reasons: map[string]int{"tone": 1},
	}, rep.Reviewers["rita"])
	assert.Equal(t, 6, rep.Total.Rounds)
	assert.Equal(t, 3, rep.Total.Emails)

	late := qa.Compute(h, qa.Window{From: t0.Add(time.Hour), To: t0.Add(3 * time.Hour)})
	assert.Equal(t, 3, late.Total.Rounds, "rounds submitted in [1h, 3h)")
	assert.Empty(t, qa.Compute(nil, qa.Window{}).Agents)
}
