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
	"net/mail"
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
		Mailboxes:           []emailflow.Mailbox{{Address: mail.Address{Name: "Service Client", Address: "support@boutique.example"}, Queue: "support-fr"}},
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
	if err := ws.SetStatus(ctx, "camille", emailflow.StatusReady); err != nil {
		return err
	}
	step("agent camille is ready on queue support-fr")

	it, err := ws.Ingest(ctx, "support@boutique.example", bytes.NewReader(customerEmail))
	if err != nil {
		return err
	}
	from, _ := it.CaseData.Get(emailflow.CaseFrom)
	step("ingested %q from %s → %s in queue %s, offered to %s", it.Subject, from, it.State, it.Queue, it.OfferedTo)

	if it, err = ws.Accept(ctx, "camille", it.ID); err != nil {
		return err
	}
	step("camille accepted: state %s, owner %s", it.State, it.Owner)

	if err := ws.SetCaseData(ctx, "camille", it.ID, "Commande", "FR-2291"); err != nil {
		return err
	}
	if err := ws.AddNote(ctx, "camille", it.ID, "Colis bloqué au dépôt de Lyon, relancé le transporteur."); err != nil {
		return err
	}
	data, err := ws.CaseData(ctx, "camille", it.ID)
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

	reply, err := ws.Reply(ctx, "camille", it.ID)
	if err != nil {
		return err
	}
	draft, err := ws.Draft(ctx, "camille", reply.ID)
	if err != nil {
		return err
	}
	step("reply draft %s to %s, subject %q", reply.ID, draft.To[0].Address, draft.Subject)

	if err := ws.EditDraft(ctx, "camille", reply.ID, emailflow.DraftContent{
		To: draft.To, Cc: draft.Cc, Subject: draft.Subject,
		Text: "Bonjour Hélène,\n\nVotre colis était bloqué au dépôt de Lyon ; il vous sera livré demain avant 13 h.\n\nBien cordialement,\nCamille, Service Client\n\n" + draft.Text,
		HTML: "<p>Bonjour Hélène,</p><p>Votre colis était bloqué au dépôt de Lyon ; il vous sera livré demain avant 13 h.</p><p>Bien cordialement,<br>Camille, Service Client</p>" + draft.HTML,
	}); err != nil {
		return err
	}
	if reply, err = ws.Send(ctx, "camille", reply.ID); err != nil {
		return err
	}
	step("reply %s", reply.State)

	if err := ws.SetDisposition(ctx, "camille", it.ID, "résolu"); err != nil {
		return err
	}
	if err := ws.MarkDone(ctx, "camille", it.ID); err != nil {
		return err
	}
	if it, err = ws.Interaction(ctx, "camille", it.ID); err != nil {
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

	sent := sender.Sent()
	if len(sent) != 1 {
		return fmt.Errorf("expected one sent message, got %d", len(sent))
	}
	fmt.Printf("\n--- rendered reply (envelope from %s to %s) ---\n", sent[0].From, strings.Join(sent[0].To, ", "))
	_, err = os.Stdout.Write(sent[0].Raw)
	return err
}
