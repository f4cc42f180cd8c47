package qa_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/emailflow/emailflow/qa"
)

func TestPolicies(t *testing.T) {
	agent := qa.Submission{ID: "o-1", Author: "alice", Roles: []string{"agent"}, Groups: []string{"new-hires"}, Queue: "support-fr"}
	supervisor := qa.Submission{ID: "o-2", Author: "sam", Roles: []string{"supervisor"}, Groups: []string{"leads"}, Queue: "billing"}
	requested := agent
	requested.Requested = true
	tests := []struct {
		name   string
		policy qa.Policy
		s      qa.Submission
		want   qa.Verdict
	}{
		{"all", qa.All(), agent, qa.Review},
		{"none", qa.None(), requested, qa.Skip},
		{"group member", qa.ByGroup("seniors", "new-hires"), agent, qa.Review},
		{"group outsider", qa.ByGroup("new-hires"), supervisor, qa.Abstain},
		{"queue", qa.ByQueue("support-fr"), agent, qa.Review},
		{"other queue", qa.ByQueue("support-fr"), supervisor, qa.Abstain},
		{"on request, asked", qa.OnRequest(), requested, qa.Review},
		{"on request, not asked", qa.OnRequest(), agent, qa.Abstain},
		{"exempt role", qa.Exempt("supervisor"), supervisor, qa.Skip},
		{"not exempt", qa.Exempt("supervisor"), agent, qa.Abstain},
		{"exempt by predicate", qa.ExemptIf(func(s qa.Submission) bool { return s.Queue == "billing" }), supervisor, qa.Skip},
		{"predicate false", qa.ExemptIf(func(s qa.Submission) bool { return s.Queue == "billing" }), agent, qa.Abstain},
		{"sample all", qa.Sample(1), agent, qa.Review},
		{"sample none", qa.Sample(0), agent, qa.Abstain},
		{"sample by key", qa.SampleBy(1, func(s qa.Submission) string { return s.ThreadID }), agent, qa.Review},
		{"first: exemption wins", qa.First(qa.Exempt("supervisor"), qa.All()), supervisor, qa.Skip},
		{"first: falls through", qa.First(qa.Exempt("supervisor"), qa.All()), agent, qa.Review},
		{"first: nil ignored, all abstain", qa.First(nil, qa.ByQueue("x")), agent, qa.Abstain},
		{"any: one review wins over skip", qa.Any(qa.None(), qa.ByGroup("new-hires")), agent, qa.Review},
		{"any: none reviews", qa.Any(qa.None(), nil), agent, qa.Abstain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.policy.Decide(tt.s))
			assert.Equal(t, tt.want == qa.Review, qa.Needs(tt.policy, tt.s))
		})
	}
	assert.False(t, qa.Needs(nil, requested), "a nil policy reviews nothing")
	assert.Equal(t, "review", qa.Review.String())
	assert.Equal(t, "skip", qa.Skip.String())
	assert.Equal(t, "abstain", qa.Abstain.String())
}

func TestPolicyArgumentsAreCopied(t *testing.T) {
	groups := []string{"new-hires"}
	p := qa.ByGroup(groups...)
	groups[0] = "other"
	assert.Equal(t, qa.Review, p.Decide(qa.Submission{Groups: []string{"new-hires"}}))
}

// TestSampleIsDeterministicAndProportional: the same id always gets the
// same answer, and the fraction drawn over many ids is close to the rate.
func TestSampleIsDeterministicAndProportional(t *testing.T) {
	for _, rate := range []float64{0.05, 0.25, 0.5, 0.9} {
		p := qa.Sample(rate)
		drawn := 0
		const n = 20000
		for i := range n {
			s := qa.Submission{ID: fmt.Sprintf("outbound-%d", i)}
			v := p.Decide(s)
			assert.Equal(t, v, qa.Sample(rate).Decide(s), "reproducible")
			if v == qa.Review {
				drawn++
			}
		}
		assert.InDelta(t, rate, float64(drawn)/n, 0.015, "rate %v", rate)
	}
	// SampleBy thread: every email of a conversation gets the same answer.
	byThread := qa.SampleBy(0.5, func(s qa.Submission) string { return s.ThreadID })
	for i := range 100 {
		th := fmt.Sprint("thread-", i)
		assert.Equal(t, byThread.Decide(qa.Submission{ID: "a", ThreadID: th}), byThread.Decide(qa.Submission{ID: "b", ThreadID: th}))
	}
	// Monotone: an id drawn at a rate is drawn at any higher rate.
	for i := range 1000 {
		id := fmt.Sprint(i)
		if qa.Drawn(id, 0.3) {
			assert.True(t, qa.Drawn(id, 0.6))
		}
	}
}
