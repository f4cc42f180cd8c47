package memory_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/store/memory"
	transport "github.com/emailflow/emailflow/transport/memory"
)

func Example() {
	store := memory.New(&memory.Options{EventLog: 1000})
	// The memory store is also the contact Directory.
	ws, err := emailflow.New(emailflow.Ports{Store: store, Sender: &transport.Sender{}}, nil)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	it, _ := ws.Ingest(ctx, "support@shop.example", strings.NewReader("From: Jo Bloggs <jo@example.org>\r\nSubject: Hello\r\n\r\nHi\r\n"))
	c, _ := store.Contact(ctx, it.ContactID)
	fmt.Println(it.State, c.FirstName, c.LastName)
	// Output: queued Jo Bloggs
}
