package emailflow_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/label"
	"github.com/emailflow/emailflow/qa"
	"github.com/emailflow/emailflow/store/memory"
	transport "github.com/emailflow/emailflow/transport/memory"
)

// reviewDesk is exampleDesk under a review-everything policy, with rita,
// a reviewer; ana's reply is in review, offered to rita. It returns the
// reply's and the review's ids.
func reviewDesk() (*emailflow.Workspace, *transport.Sender, string, string) {
	ctx := context.Background()
	ws, sender, inbound := exampleDesk(&emailflow.Options{ReviewPolicy: qa.All(), RejectReasons: []string{"tone", "accuracy"}})
	_ = ws.PutAgent(ctx, emailflow.Agent{ID: "rita", Queues: []string{"review"}, Roles: []emailflow.Role{emailflow.RoleReviewer}})
	_ = ws.As("rita").SetStatus(ctx, emailflow.StatusReady)
	ana := ws.As("ana")
	d, _ := ana.Reply(ctx, inbound)
	_, _ = ana.EditDraft(ctx, d.ID, emailflow.DraftPatch{Text: new("It comes when it comes.")})
	_, _ = ana.Send(ctx, d.ID, nil) // Delivery.State: in-review
	rounds, _ := ana.Rounds(ctx, d.ID)
	return ws, sender, d.ID, rounds[len(rounds)-1].ReviewID
}

// QA: the reviewer approves; exactly the reviewed email is sent.
func ExampleActor_Approve() {
	ctx := context.Background()
	ws, sender, reply, review := reviewDesk()
	rita := ws.As("rita")

	it, _ := ws.As("ana").Interaction(ctx, reply)
	fmt.Println(it.State, len(sender.Sent()))
	_, _ = rita.Accept(ctx, review)
	_, _ = rita.Approve(ctx, review)
	it, _ = ws.As("ana").Interaction(ctx, reply)
	fmt.Println(it.State, len(sender.Sent()))
	// Output:
	// in-review 0
	// sent 1
}

// QA: the reviewer rejects with a reason and remarks; the author finds
// them in the outcome's typed place, and the desk shows the state in
// French with package label.
func ExampleActor_Reject() {
	ctx := context.Background()
	ws, _, reply, review := reviewDesk()
	rita := ws.As("rita")

	_, _ = rita.Accept(ctx, review)
	_, _ = rita.Reject(ctx, review, "tone", "Be kinder, and give the date.")
	it, _ := ws.As("ana").Interaction(ctx, reply)
	r, _ := it.LastReview()
	fr := label.French()
	fmt.Println(fr.State(it.State), "|", r.Reviewer, fr.Decision(r.Decision), r.Reason+":", r.Remarks)
	// Output:
	// Refusé | rita Refusé tone: Be kinder, and give the date.
}

// The Runner drives accept timeouts and outbox retries on the Workspace's
// Clock: with a fake clock, advancing it wakes Run.
func ExampleWorkspace_Runner() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))
	ws, _ := emailflow.New(emailflow.Ports{Store: memory.New(nil), Sender: &transport.Sender{}, Clock: clock}, &emailflow.Options{AcceptTimeout: 30 * time.Second})
	_ = ws.PutAgent(ctx, emailflow.Agent{ID: "ana", Queues: []string{"default"}})
	_ = ws.PutAgent(ctx, emailflow.Agent{ID: "sam", Queues: []string{"default"}, Roles: []emailflow.Role{emailflow.RoleSupervisor}})
	_ = ws.As("ana").SetStatus(ctx, emailflow.StatusReady)
	it, _ := ws.Ingest(ctx, "support@shop.example", strings.NewReader(exampleMail))
	fmt.Println(it.State, "to", it.OfferedTo)

	go func() { _ = ws.Runner(nil).Run(ctx) }()
	_ = clock.BlockUntilContext(ctx, 1) // Run waits on the clock
	clock.Advance(31 * time.Second)     // ana lets the offer time out
	_ = clock.BlockUntilContext(ctx, 1) // the round is done
	a, _ := ws.Agent(ctx, "ana")
	it, _ = ws.As("sam").Interaction(ctx, it.ID) // back in the queue sam supervises
	fmt.Println(it.State, "|", a.Status)
	// Output:
	// offered to ana
	// queued | not-responding
}
