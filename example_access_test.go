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

// Every read names its agent; the customer's HTML comes sanitized, and a
// colleague with no part in the email is refused.
func ExampleActor_Emails() {
	ctx := context.Background()
	ws, _ := emailflow.New(emailflow.Ports{Store: memory.New(nil), Sender: &transport.Sender{}}, nil)
	_ = ws.PutAgent(ctx, emailflow.Agent{ID: "ana", Queues: []string{"default"}})
	_ = ws.PutAgent(ctx, emailflow.Agent{ID: "bo", Queues: []string{"default"}})
	_ = ws.As("ana").SetStatus(ctx, emailflow.StatusReady)

	raw := "From: jo@example.org\r\nSubject: Hi\r\nContent-Type: text/html\r\n\r\n<p onclick=\"steal()\">Hello<script>steal()</script></p>\r\n"
	it, _ := ws.Ingest(ctx, "support@shop.example", strings.NewReader(raw))
	_, _ = ws.As("ana").Accept(ctx, it.ID)

	emails, _ := ws.As("ana").Emails(ctx, it.ID)
	fmt.Println(strings.TrimSpace(emails[0].HTML))
	unsafe, _ := ws.As("ana").UnsafeHTML(ctx, emails[0].ID)
	fmt.Println(strings.TrimSpace(unsafe))
	_, err := ws.As("bo").Emails(ctx, it.ID)
	fmt.Println(errors.Is(err, emailflow.ErrForbidden))
	// Output:
	// <p>Hello</p>
	// <p onclick="steal()">Hello<script>steal()</script></p>
	// true
}
