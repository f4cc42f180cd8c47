package emailflow_test

import (
	"context"
	"fmt"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/qa"
)

// The inbox: what is offered to the agent, what they own, and their
// workbins, in one call that reads one consistent moment.
func ExampleActor_Inbox() {
	ctx := context.Background()
	ws, _, inbound := exampleDesk(nil)
	ana := ws.As("ana")

	d, _ := ana.Reply(ctx, inbound)
	_ = ana.SaveToWorkbin(ctx, d.ID, emailflow.WorkbinRef{}) // the draft, put aside
	in, _ := ana.Inbox(ctx)
	fmt.Println(len(in.Offered), "offered,", len(in.Owned), "owned")
	for _, bin := range in.Workbins {
		fmt.Println(bin.Bin, len(bin.Items))
	}
	// Output:
	// 0 offered, 1 owned
	// in-progress 0
	// drafts 1
	// pending 0
}

// The standard responses: the library as a picker shows it, by category,
// then inserted into a draft by id.
func ExampleActor_Responses() {
	ctx := context.Background()
	lib := &compose.Library{}
	_ = lib.Add(compose.Template{ID: "late", Name: "Late parcel", Category: "delivery", Text: "Your parcel is late; we are on it."})
	_ = lib.Add(compose.Template{ID: "lost", Name: "Lost parcel", Category: "delivery", Text: "We have opened an inquiry."})
	_ = lib.Add(compose.Template{ID: "thanks", Name: "Thanks", Category: "general", Text: "Thank you for writing."})
	ws, _, inbound := exampleDesk(&emailflow.Options{Responses: lib})
	ana := ws.As("ana")

	page, _ := ana.Responses(ctx, emailflow.ResponseQuery{Category: "delivery"})
	fmt.Println(page.Categories, page.Total)
	for _, r := range page.Responses {
		fmt.Println(r.ID, "|", r.Name)
	}
	d, _ := ana.Reply(ctx, inbound)
	d, _ = ana.InsertResponse(ctx, emailflow.ResponseRef{Draft: d.ID, Response: page.Responses[0].ID})
	fmt.Println(d.Email.Text[:len("Your parcel is late")])
	// Output:
	// [delivery general] 2
	// late | Late parcel
	// lost | Lost parcel
	// Your parcel is late
}

// A reviewer lists the reviews waiting for them in the review queue (never
// their own email's) and takes one, without a supervisor's privileges.
func ExampleActor_Queue_reviewer() {
	ctx := context.Background()
	ws, _, inbound := exampleDesk(&emailflow.Options{ReviewPolicy: qa.All()})
	// rita is not ready: the review waits in the queue.
	_ = ws.PutAgent(ctx, emailflow.Agent{ID: "rita", Queues: []string{emailflow.DefaultReviewQueue}, Roles: []emailflow.Role{emailflow.RoleReviewer}})
	ana, rita := ws.As("ana"), ws.As("rita")
	d, _ := ana.Reply(ctx, inbound)
	_, _ = ana.Send(ctx, d.ID, nil)

	waiting, _ := rita.Queue(ctx, emailflow.DefaultReviewQueue)
	for _, rv := range waiting {
		fmt.Println(rv.Kind, rv.State, rv.Subject)
	}
	taken, _ := rita.Pull(ctx, emailflow.DefaultReviewQueue)
	fmt.Println(taken.ID == waiting[0].ID, taken.State)
	// Output:
	// review queued Re: Where is my parcel?
	// true handling
}
