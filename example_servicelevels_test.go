package emailflow_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/sla"
	"github.com/emailflow/emailflow/store/memory"
	transport "github.com/emailflow/emailflow/transport/memory"
)

// A first answer is promised within 4 hours: warned at 3, breached at 4,
// escalated to another queue. The host's clock is set by hand here.
func ExampleOptions_serviceLevels() {
	ctx := context.Background()
	now := clockwork.NewFakeClockAt(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	ws, _ := emailflow.New(emailflow.Ports{Store: memory.New(nil), Sender: &transport.Sender{}, Clock: now}, &emailflow.Options{
		ServiceLevels: sla.Config{
			Policies: []sla.Policy{{Name: "standard", FirstResponse: sla.Target{Within: 4 * time.Hour, Warn: 75,
				Escalations: []sla.Escalation{{On: sla.Breach, Action: sla.MoveToQueue, Queue: "escalated"}}}}},
			Default: "standard",
		},
		Queues: []emailflow.Queue{{Name: "escalated"}},
	})
	sub := ws.Subscribe(ctx, &emailflow.SubscribeOptions{Buffer: 32})
	it, _ := ws.Ingest(ctx, "support@shop.example", strings.NewReader("From: jo@example.org\r\nSubject: Hi\r\n\r\nHello\r\n"))
	fmt.Println(it.SLA.Policy, "due", it.SLA.Due.Format(time.Kitchen))

	for range 4 {
		now.Advance(time.Hour)
		_, _ = ws.Runner(nil).Tick(ctx)
	}
	for len(sub.C) > 0 {
		switch e := <-sub.C; e.Type {
		case emailflow.EventSLAWarning, emailflow.EventSLABreached, emailflow.EventSLAEscalated:
			fmt.Println(e.Type, e.Detail)
		}
	}
	// Output:
	// standard due 1:00PM
	// sla-warning first-response/1/warning at 2026-03-02T12:00:00Z policy standard
	// sla-breached first-response/1/breach at 2026-03-02T13:00:00Z policy standard
	// sla-escalated move-to-queue escalated
}
