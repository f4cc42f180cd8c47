package emailflow_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/store/memory"
	transport "github.com/emailflow/emailflow/transport/memory"
)

func Example() {
	ctx := context.Background()
	sender := &transport.Sender{}
	ws, err := emailflow.New(emailflow.Ports{Store: memory.New(nil), Sender: sender}, &emailflow.Options{
		Mailboxes: []emailflow.Mailbox{{Address: "support@shop.example", Name: "Support", Queue: "support"}},
	})
	if err != nil {
		panic(err)
	}
	_ = ws.PutAgent(ctx, emailflow.Agent{ID: "ana", Queues: []string{"support"}})
	_ = ws.As("ana").SetStatus(ctx, emailflow.StatusReady)

	raw := "From: Jo <jo@example.org>\r\nTo: support@shop.example\r\nSubject: Where is my parcel?\r\n" +
		"Message-ID: <1@example.org>\r\n\r\nHello, order 42 has not arrived.\r\n"
	it, _ := ws.Ingest(ctx, "support@shop.example", strings.NewReader(raw))
	fmt.Println(it.State, "to", it.OfferedTo)

	ana := ws.As("ana") // every action and read names its agent once
	it, _ = ana.Accept(ctx, it.ID)
	fmt.Println(it.State, "by", it.Owner)

	reply, _ := ana.Reply(ctx, it.ID) // the draft: interaction and email
	reply, _ = ana.EditDraft(ctx, reply.ID, emailflow.DraftPatch{Text: new("It ships today.\n\n" + reply.Email.Text)})
	sent, _ := ana.Send(ctx, reply.ID, nil)
	fmt.Println("reply", sent.Delivery.State, "to", sender.Sent()[0].To)

	_ = ana.MarkDone(ctx, it.ID)
	it, _ = ana.Interaction(ctx, it.ID) // her own: done, it is in the history she may read
	fmt.Println(it.State)
	// Output:
	// offered to ana
	// handling by ana
	// reply sent to [jo@example.org]
	// done
}

func ExampleWorkspace_Subscribe() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ws, _ := emailflow.New(emailflow.Ports{Store: memory.New(nil), Sender: &transport.Sender{}}, nil)
	sub := ws.Subscribe(ctx, nil)

	_, _ = ws.Ingest(ctx, "support@shop.example", strings.NewReader("From: jo@example.org\r\nSubject: Hi\r\n\r\nHello\r\n"))
	for i := 0; i < 2; i++ {
		e := <-sub.C
		fmt.Println(e.Type, e.State)
	}
	// Output:
	// ingested queued
	// queued queued
}
