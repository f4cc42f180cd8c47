package emailflow_test

import (
	"context"
	"fmt"

	"github.com/emailflow/emailflow"
)

// Transfer to a colleague, with a note: it is theirs once they accept.
func ExampleActor_Transfer() {
	ctx := context.Background()
	ws, _, inbound := exampleDesk(nil)

	_ = ws.As("ana").Transfer(ctx, inbound, emailflow.TransferTarget{Agent: "bo", Note: "Bo knows this carrier."})
	it, _ := ws.As("bo").Accept(ctx, inbound)
	fmt.Println(it.State, "by", it.Owner, "|", it.Notes[0].Text)
	// Output:
	// handling by bo | Bo knows this carrier.
}

// Consult a colleague: the answer comes back on the interaction, in its
// typed place, while it stays with its owner.
func ExampleActor_Consult() {
	ctx := context.Background()
	ws, _, inbound := exampleDesk(nil)
	ana, bo := ws.As("ana"), ws.As("bo")

	consults, _ := ana.Consult(ctx, inbound, []string{"bo"}, "Can we refund the shipping?")
	_, _ = bo.Accept(ctx, consults[0].ID)
	_ = bo.Answer(ctx, consults[0].ID, "Yes, up to 10 euros.")
	it, _ := ana.Interaction(ctx, inbound)
	fmt.Println(it.Owner, "|", it.Answers[0].Colleague, "answered:", it.Answers[0].Text)
	// Output:
	// ana | bo answered: Yes, up to 10 euros.
}

// Park an email in one's workbin and take it back; a supervisor lists an
// agent's workbin with the same call.
func ExampleActor_Workbin() {
	ctx := context.Background()
	ws, _, inbound := exampleDesk(nil)
	ana := ws.As("ana")

	_ = ana.SaveToWorkbin(ctx, inbound, emailflow.WorkbinRef{}) // her in-progress workbin
	mine, _ := ana.Workbin(ctx, emailflow.WorkbinRef{Bin: emailflow.WorkbinInProgress})
	hers, _ := ws.As("sam").Workbin(ctx, emailflow.WorkbinRef{Owner: "ana", Bin: emailflow.WorkbinInProgress})
	fmt.Println(len(mine), len(hers), mine[0].State)
	_ = ana.TakeFromWorkbin(ctx, inbound)
	it, _ := ana.Interaction(ctx, inbound)
	fmt.Println(it.State)
	// Output:
	// 1 1 parked
	// handling
}

// Case data: the system's keys are read-only; the agent adds their own.
func ExampleActor_SetCaseData() {
	ctx := context.Background()
	ws, _, inbound := exampleDesk(nil)
	ana := ws.As("ana")

	_ = ana.SetCaseData(ctx, inbound, "Order", "42")
	err := ana.SetCaseData(ctx, inbound, emailflow.CaseSubject, "changed")
	data, _ := ana.CaseData(ctx, inbound)
	order, _ := data.Get("Order")
	subject, _ := data.Get(emailflow.CaseSubject)
	fmt.Println(order, "|", subject, "|", err != nil)
	// Output:
	// 42 | Where is my parcel? | true
}

// A note, a disposition, and done: with DispositionRequired, done waits
// for the disposition.
func ExampleActor_MarkDone() {
	ctx := context.Background()
	ws, _, inbound := exampleDesk(&emailflow.Options{Dispositions: []string{"resolved", "escalated"}, DispositionRequired: true})
	ana := ws.As("ana")

	_ = ana.AddNote(ctx, inbound, "Carrier confirmed delivery for tomorrow.")
	fmt.Println(ana.MarkDone(ctx, inbound) != nil)
	_ = ana.SetDisposition(ctx, inbound, "resolved")
	_ = ana.MarkDone(ctx, inbound)
	it, _ := ana.Interaction(ctx, inbound)
	fmt.Println(it.State, it.Disposition, len(it.Notes))
	// Output:
	// true
	// done resolved 1
}
