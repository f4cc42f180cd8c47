package emailflow_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/store/memory"
	transport "github.com/emailflow/emailflow/transport/memory"
)

// A mailbox reader (transport/imap's Ingester does this) takes in a
// message too large to fetch from its header alone, and keeps how far it
// got in a checkpoint.
func ExampleWorkspace_IngestHeader() {
	ctx := context.Background()
	ws, _ := emailflow.New(emailflow.Ports{Store: memory.New(nil), Sender: &transport.Sender{}}, &emailflow.Options{
		Mailboxes: []emailflow.Mailbox{{Address: "support@shop.example", Queue: "support"}},
	})

	header := "From: Jo <jo@example.org>\r\nTo: support@shop.example\r\nSubject: Video of the broken parcel\r\n" +
		"Message-ID: <big-1@example.org>\r\n\r\n"
	it, err := ws.IngestHeader(ctx, "support@shop.example", strings.NewReader(header),
		"This message of 31.5 MB is over the 25.0 MB limit: only its header was taken in.")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(it.Subject, "→", it.State)
	fmt.Println("note:", it.Notes[0].Text)
	known, _ := ws.Ingested(ctx, "support@shop.example", "big-1@example.org", int64(len(header)))
	fmt.Println("known:", known)

	_, _ = ws.SaveCheckpoint(ctx, emailflow.Checkpoint{Source: "imap://support@imap.shop.example:993/INBOX", Validity: 1700000000, Last: 42})
	cp, _ := ws.Checkpoint(ctx, "imap://support@imap.shop.example:993/INBOX")
	fmt.Println("checkpoint:", cp.Validity, cp.Last)
	// Output:
	// Video of the broken parcel → queued
	// note: This message of 31.5 MB is over the 25.0 MB limit: only its header was taken in.
	// known: true
	// checkpoint: 1700000000 42
}
