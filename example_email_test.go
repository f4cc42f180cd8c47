package emailflow_test

import (
	"context"
	"fmt"
	"net/mail"
	"strings"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/contact"
	"github.com/emailflow/emailflow/store/memory"
	transport "github.com/emailflow/emailflow/transport/memory"
)

// exampleMail is a customer's email to the shop, copied to a friend.
const exampleMail = "From: Jo Martin <jo@example.org>\r\nTo: support@shop.example\r\nCc: Lea <lea@example.org>\r\n" +
	"Subject: Where is my parcel?\r\nMessage-ID: <42@example.org>\r\n\r\nHello, order 42 has not arrived.\r\n"

// exampleDesk is the email window of the examples: a Workspace on the
// memory store where ana handles the customer's email (returned), and bo,
// a colleague, and sam, a supervisor, serve the same queue.
func exampleDesk(opts *emailflow.Options) (*emailflow.Workspace, *transport.Sender, string) {
	ctx := context.Background()
	if opts == nil {
		opts = &emailflow.Options{}
	}
	opts.Mailboxes = []emailflow.Mailbox{{Address: "support@shop.example", Name: "Shop support", Queue: "support"}}
	sender := &transport.Sender{}
	ws, err := emailflow.New(emailflow.Ports{Store: memory.New(nil), Sender: sender}, opts)
	if err != nil {
		panic(err)
	}
	for _, a := range []emailflow.Agent{
		{ID: "ana", Name: "Ana", Address: "ana@shop.example", Queues: []string{"support"}, Capacity: 5},
		{ID: "bo", Name: "Bo", Address: "bo@shop.example", Queues: []string{"support"}, Capacity: 5},
		{ID: "sam", Name: "Sam", Queues: []string{"support"}, Roles: []emailflow.Role{emailflow.RoleSupervisor}},
	} {
		if err := ws.PutAgent(ctx, a); err != nil {
			panic(err)
		}
	}
	ana := ws.As("ana")
	_ = ana.SetStatus(ctx, emailflow.StatusReady)
	it, err := ws.Ingest(ctx, "support@shop.example", strings.NewReader(exampleMail))
	if err != nil {
		panic(err)
	}
	if _, err := ana.Accept(ctx, it.ID); err != nil {
		panic(err)
	}
	_ = ws.As("bo").SetStatus(ctx, emailflow.StatusReady)
	return ws, sender, it.ID
}

// Reply: the draft comes back with its email (recipient, subject, quote);
// the agent writes above the quote and sends; Send says what became of it.
func ExampleActor_Reply() {
	ctx := context.Background()
	ws, _, inbound := exampleDesk(nil)
	ana := ws.As("ana")

	d, _ := ana.Reply(ctx, inbound)
	fmt.Println(d.Email.To[0].Address, "|", d.Email.Subject)
	d, _ = ana.EditDraft(ctx, d.ID, emailflow.DraftPatch{Text: new("It ships today.\n\n" + d.Email.Text)})
	sent, _ := ana.Send(ctx, d.ID, nil)
	fmt.Println(sent.Delivery.State, sent.Email.MessageID == d.Email.MessageID)
	// Output:
	// jo@example.org | Re: Where is my parcel?
	// sent true
}

// Reply all, with a standard response inserted above the quote, its field
// codes filled from the contact and the agent.
func ExampleActor_ReplyAll() {
	ctx := context.Background()
	lib := &compose.Library{}
	_ = lib.Add(compose.Template{ID: "late", Name: "Late delivery", Category: "Delivery",
		Text: "Hello {{contact.firstName}}, your parcel leaves today.\n{{agent.name}}\n"})
	ws, sender, inbound := exampleDesk(&emailflow.Options{Responses: lib})
	ana := ws.As("ana")

	d, _ := ana.ReplyAll(ctx, inbound)
	d, _ = ana.InsertResponse(ctx, emailflow.ResponseRef{Draft: d.ID, Response: "late"})
	fmt.Println(strings.SplitN(d.Email.Text, "\n", 2)[0])
	_, _ = ana.Send(ctx, d.ID, nil)
	fmt.Println(sender.Sent()[0].To)
	// Output:
	// Hello Jo, your parcel leaves today.
	// [jo@example.org lea@example.org]
}

// Forward to an external resource with instructions; its answer will come
// back on the customer's interaction.
func ExampleActor_Forward() {
	ctx := context.Background()
	ws, sender, inbound := exampleDesk(nil)
	ana := ws.As("ana")

	d, _ := ana.Forward(ctx, inbound, emailflow.ForwardRequest{
		To:           []mail.Address{{Name: "Carrier", Address: "desk@carrier.example"}},
		Instructions: "Where is parcel 42?",
	})
	fmt.Println(d.Purpose, "|", d.Email.Subject)
	_, _ = ana.Send(ctx, d.ID, nil)
	fmt.Println(sender.Sent()[0].To, strings.Contains(string(sender.Sent()[0].Raw), "Where is parcel 42?"))
	// Output:
	// forward | Fwd: Where is my parcel?
	// [desk@carrier.example] true
}

// A new email to a contact found in the directory.
func ExampleActor_NewEmail() {
	ctx := context.Background()
	ws, _, _ := exampleDesk(nil)
	_, _ = ws.PutContact(ctx, contact.Contact{ID: "c-hel", FirstName: "Hélène", LastName: "Dupré", Emails: []string{"helene@example.fr"}})
	found, _ := ws.SearchContacts(ctx, "helene", contact.Page{})
	ana := ws.As("ana")

	d, _ := ana.NewEmail(ctx, emailflow.NewEmailRequest{ContactID: found.Contacts[0].ID, Subject: "Your refund", Text: "Hello Hélène, the refund is on its way."})
	fmt.Println(d.Email.From.Address, "→", d.Email.To[0].Name, d.Email.To[0].Address)
	sent, _ := ana.Send(ctx, d.ID, nil)
	fmt.Println(sent.Delivery.State)
	// Output:
	// support@shop.example → Hélène Dupré helene@example.fr
	// sent
}

// "New email to…" during a phone call: the email is linked to the call in
// its case data.
func ExampleActor_NewEmail_duringACall() {
	ctx := context.Background()
	ws, _, _ := exampleDesk(nil)
	ana := ws.As("ana")

	d, _ := ana.NewEmail(ctx, emailflow.NewEmailRequest{
		To: []mail.Address{{Address: "jo@example.org"}}, VoiceInteractionID: "call-7781",
		Subject: "As promised on the phone", Text: "Here is the return label.",
	})
	call, _ := d.CaseData.Get(emailflow.CaseVoiceInteraction)
	fmt.Println(call)
	// Output:
	// call-7781
}
