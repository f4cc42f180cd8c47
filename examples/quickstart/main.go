// Command quickstart takes one realistic French customer email through the
// life of a contact-center interaction on the embedded in-memory default:
// ingest → offer → accept → case data and a note → reply → send →
// disposition → done, printing each step and the rendered reply.
//
//	go run ./examples/quickstart
package main

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/store/memory"
	transport "github.com/emailflow/emailflow/transport/memory"
)

//go:embed customer.eml
var customerEmail []byte

func main() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	sender := &transport.Sender{}
	ws, err := emailflow.New(emailflow.Ports{Store: memory.New(nil), Sender: sender}, &emailflow.Options{
		Hostname:            "desk.boutique.example",
		Mailboxes:           []emailflow.Mailbox{{Address: "support@boutique.example", Name: "Service Client", Queue: "support-fr"}},
		Dispositions:        []string{"résolu", "escaladé", "sans suite"},
		DispositionRequired: true,
		QuoteLanguage:       "fr",
	})
	if err != nil {
		return err
	}

	step := func(format string, args ...any) { fmt.Printf("• "+format+"\n", args...) }

	if err := ws.PutAgent(ctx, emailflow.Agent{ID: "camille", Name: "Camille Laurent", Address: "camille@boutique.example", Queues: []string{"support-fr"}, Capacity: 3}); err != nil {
		return err
	}
	camille := ws.As("camille") // every action and read names its agent once
	if err := camille.SetStatus(ctx, emailflow.StatusReady); err != nil {
		return err
	}
	step("agent camille is ready on queue support-fr")

	it, err := ws.Ingest(ctx, "support@boutique.example", bytes.NewReader(customerEmail))
	if err != nil {
		return err
	}
	from, _ := it.CaseData.Get(emailflow.CaseFrom)
	step("ingested %q from %s → %s in queue %s, offered to %s", it.Subject, from, it.State, it.Queue, it.OfferedTo)

	if it, err = camille.Accept(ctx, it.ID); err != nil {
		return err
	}
	step("camille accepted: state %s, owner %s", it.State, it.Owner)

	if err := camille.SetCaseData(ctx, it.ID, "Commande", "FR-2291"); err != nil {
		return err
	}
	if err := camille.AddNote(ctx, it.ID, "Colis bloqué au dépôt de Lyon, relancé le transporteur."); err != nil {
		return err
	}
	data, err := camille.CaseData(ctx, it.ID)
	if err != nil {
		return err
	}
	for _, f := range data {
		ro := ""
		if f.ReadOnly {
			ro = " (lecture seule)"
		}
		step("case data %s = %s%s", f.Key, f.Value, ro)
	}

	reply, err := camille.Reply(ctx, it.ID) // the draft: interaction and email
	if err != nil {
		return err
	}
	step("reply draft %s to %s, subject %q", reply.ID, reply.Email.To[0].Address, reply.Email.Subject)

	// Only the text changes; the HTML follows it, the quoted original kept.
	reply, err = camille.EditDraft(ctx, reply.ID, emailflow.DraftPatch{
		Text: new("Bonjour Hélène,\n\nVotre colis était bloqué au dépôt de Lyon ; il vous sera livré demain avant 13 h.\n\nBien cordialement,\nCamille, Service Client\n\n" + reply.Email.Text),
	})
	if err != nil {
		return err
	}
	sent, err := camille.Send(ctx, reply.ID, nil)
	if err != nil {
		return err
	}
	step("reply %s, Message-ID <%s>", sent.Delivery.State, sent.Email.MessageID)

	if err := camille.SetDisposition(ctx, it.ID, "résolu"); err != nil {
		return err
	}
	if err := camille.MarkDone(ctx, it.ID); err != nil {
		return err
	}
	if it, err = camille.Interaction(ctx, it.ID); err != nil {
		return err
	}
	step("marked done with disposition %q; history:", it.Disposition)
	for _, h := range it.History {
		detail := h.Detail
		if h.Note > 0 { // the entry refers to the note: it.Notes[h.Note-1]
			detail = fmt.Sprintf("note %d", h.Note)
		}
		fmt.Printf("    %s  %-8s %-12s %s → %s %s\n", h.At.Format("15:04:05"), h.Actor, h.Action, h.From, h.To, detail)
	}

	out := sender.Sent()
	if len(out) != 1 {
		return fmt.Errorf("expected one sent message, got %d", len(out))
	}
	fmt.Printf("\n--- rendered reply (envelope from %s to %s) ---\n", out[0].From, strings.Join(out[0].To, ", "))
	_, err = os.Stdout.Write(out[0].Raw)
	return err
}
