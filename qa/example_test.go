package qa_test

import (
	"fmt"
	"net/mail"
	"time"

	"github.com/emailflow/emailflow/qa"
)

// A typical centre: supervisors are never reviewed, agents may ask for a
// review, new hires are always reviewed and everyone else one email in ten.
func ExampleFirst() {
	policy := qa.First(
		qa.Exempt("supervisor"),
		qa.Any(qa.OnRequest(), qa.ByGroup("new-hires"), qa.Sample(0.1)),
	)
	for _, s := range []qa.Submission{
		{ID: "o-1", Author: "sam", Roles: []string{"supervisor"}, Groups: []string{"new-hires"}},
		{ID: "o-2", Author: "nina", Roles: []string{"agent"}, Groups: []string{"new-hires"}},
		{ID: "o-3", Author: "alex", Roles: []string{"agent"}, Requested: true},
	} {
		fmt.Printf("%s: %v\n", s.Author, policy.Decide(s))
	}
	// Output:
	// sam: skip
	// nina: review
	// alex: review
}

// Sample draws by a hash of the interaction id: the same email always gets
// the same answer, in every process.
func ExampleSample() {
	p := qa.Sample(0.5)
	first := p.Decide(qa.Submission{ID: "outbound-42"})
	again := p.Decide(qa.Submission{ID: "outbound-42"})
	fmt.Println(first == again)
	// Output:
	// true
}

// The rules of one round: submit, the author cannot approve, a reviewer
// rejects with a configured reason, the next submission is round 2.
func ExampleReject() {
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	c := qa.Content{To: []mail.Address{{Address: "helene@exemple.fr"}}, Subject: "Re: Commande", Text: "Bonjour"}
	r, _ := qa.Submit(nil, "alice", "review-1", c, false, at)
	fmt.Println(qa.Approve(&r, "alice", qa.Hash(c), at))
	fmt.Println(qa.Reject(&r, "rita", "tone", "Plus chaleureux, svp.", qa.DefaultRejectReasons, at.Add(time.Hour)))
	next, _ := qa.Submit([]qa.Round{r}, "alice", "review-2", c, false, at.Add(2*time.Hour))
	fmt.Println(r.Decision, r.Reason, next.Number, qa.MustReview([]qa.Round{r}))
	// Output:
	// forbidden: "alice" may not review their own email (four eyes)
	// <nil>
	// rejected tone 2 true
}

// Approval is refused when the content is not the version under review.
func ExampleApprove() {
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	c := qa.Content{Subject: "Re: Commande", Text: "Bonjour"}
	r, _ := qa.Submit(nil, "alice", "review-1", c, false, at)
	changed := c
	changed.Text = "Bonjour !"
	err := qa.Approve(&r, "rita", qa.Hash(changed), at)
	fmt.Println(err != nil, r.Decision)
	fmt.Println(qa.Approve(&r, "rita", qa.Hash(c), at), r.Decision)
	// Output:
	// true pending
	// <nil> approved
}

func ExampleCompute() {
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	rep := qa.Compute([]qa.History{{EmailID: "o-1", Rounds: []qa.Round{
		{Number: 1, Author: "alice", Reviewer: "rita", Decision: qa.Rejected, Reason: "tone", SubmittedAt: at, DecidedAt: at.Add(20 * time.Minute)},
		{Number: 2, Author: "alice", Reviewer: "rita", Decision: qa.Approved, SubmittedAt: at.Add(time.Hour), DecidedAt: at.Add(70 * time.Minute)},
	}}}, qa.Window{})
	a := rep.Agents["alice"]
	fmt.Printf("alice: %.1f rounds per email, approval rate %.0f%%, mean time in review %v, reasons %v\n",
		a.RoundsPerEmail, 100*a.ApprovalRate, a.MeanTimeInReview, a.Reasons)
	// Output:
	// alice: 2.0 rounds per email, approval rate 50%, mean time in review 15m0s, reasons map[tone:1]
}
