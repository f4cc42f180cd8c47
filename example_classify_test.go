package emailflow_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/store/memory"
	transport "github.com/emailflow/emailflow/transport/memory"
)

// A spam verdict written by a relay the centre trusts quarantines the
// mail; a supervisor releases it, and it is routed as other mail. The
// sender lists reject a domain outright.
func ExampleUpstreamFilter() {
	ctx := context.Background()
	spam, err := emailflow.NewUpstreamFilter(&emailflow.UpstreamOptions{Trusted: []string{"192.0.2.25"}})
	if err != nil {
		panic(err)
	}
	ws, err := emailflow.New(emailflow.Ports{Store: memory.New(nil), Sender: &transport.Sender{}}, &emailflow.Options{
		Mailboxes: []emailflow.Mailbox{{Address: "support@shop.example", Queue: "support"}},
		Filters:   []emailflow.Filter{spam},
	})
	if err != nil {
		panic(err)
	}
	_ = ws.PutAgent(ctx, emailflow.Agent{ID: "ana", Queues: []string{"support"}})
	_ = ws.As("ana").SetStatus(ctx, emailflow.StatusReady)
	_ = ws.PutAgent(ctx, emailflow.Agent{ID: "sue", Queues: []string{"support"}, Roles: []emailflow.Role{emailflow.RoleSupervisor}})

	raw := "Received: from mx.shop.example ([192.0.2.25]) by desk.shop.example; Mon, 30 Nov 2026 09:00:00 +0000\r\n" +
		"X-Spam-Flag: YES\r\nX-Spam-Status: Yes, score=7.2 required=5.0\r\n" +
		"From: jo@example.org\r\nTo: support@shop.example\r\nSubject: Prize\r\nMessage-ID: <p@example.org>\r\n\r\nYou won.\r\n"
	it, _ := ws.Ingest(ctx, "support@shop.example", strings.NewReader(raw))
	reason, _ := it.CaseData.Get(emailflow.CaseQuarantine)
	fmt.Println(it.State, "-", reason)

	it, _ = ws.As("sue").Release(ctx, it.ID) // a false positive
	fmt.Println(it.State, "to", it.OfferedTo)

	_, _ = ws.As("sue").PutSenderRule(ctx, emailflow.SenderRule{Pattern: "deals.example", Action: emailflow.ListReject})
	_, err = ws.Ingest(ctx, "support@shop.example", strings.NewReader("From: promo@deals.example\r\nSubject: Deals\r\n\r\nBuy.\r\n"))
	fmt.Println(errors.Is(err, emailflow.ErrRejected))
	// Output:
	// quarantined - upstream: marked as spam by SpamAssassin (score 7.2, required 5)
	// offered to ana
	// true
}
