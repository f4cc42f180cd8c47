package memory_test

import (
	"context"
	"errors"
	"fmt"

	transport "github.com/emailflow/emailflow/transport/memory"
)

func ExampleSender() {
	var s transport.Sender
	ctx := context.Background()
	_ = s.Send(ctx, "support@shop.example", []string{"jo@example.org"}, []byte("Subject: Hi\r\n\r\nHello\r\n"))

	s.Fail(errors.New("421 try again later")) // exercise the outbox retries
	fmt.Println(s.Send(ctx, "support@shop.example", []string{"jo@example.org"}, []byte("...")))
	s.Fail(nil)

	for _, d := range s.Sent() {
		fmt.Println(d.From, "→", d.To)
	}
	for _, a := range s.Attempts() { // failed ones too
		fmt.Println(a.To, a.Err)
	}
	// Output:
	// 421 try again later
	// support@shop.example → [jo@example.org]
	// [jo@example.org] <nil>
	// [jo@example.org] 421 try again later
}
