// Command qa-review takes one customer email through two rounds of quality
// review on the embedded in-memory default: the agent's reply goes to a
// reviewer instead of the customer; the reviewer rejects it with remarks;
// the agent edits and sends again; the reviewer fixes a detail and
// approves; exactly the approved version is sent. It prints each step, the
// rounds and the review metrics.
//
//	go run ./examples/qa-review
package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"time"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/qa"
	"github.com/emailflow/emailflow/store/memory"
	transport "github.com/emailflow/emailflow/transport/memory"
	"github.com/jonboulle/clockwork"
)

const customerEmail = "From: Hélène Dupré <helene.dupre@exemple.fr>\r\n" +
	"To: Service Client <support@boutique.example>\r\n" +
	"Subject: Commande FR-2291 : colis non reçu\r\n" +
	"Date: Wed, 25 Nov 2026 18:42:07 +0100\r\n" +
	"Message-ID: <CAF3x9-helene-2291@mail.exemple.fr>\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"Bonjour,\r\n\r\nJ'ai commandé une bouilloire le 12 novembre et je n'ai rien reçu.\r\n\r\nHélène\r\n"

// ids numbers ids in order, so the output is reproducible.
type ids struct{ n int }

func (g *ids) NewID() string { g.n++; return fmt.Sprintf("id-%d", g.n) }

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n    ")
}

func must[T any](v T, err error) T {
	check(err)
	return v
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// desk is what the walk-through leaves behind: its test reads the
// outcome through the Workspace.
type desk struct {
	ws             *emailflow.Workspace
	sender         *transport.Sender
	inbound, reply string // interaction ids
}

func main() {
	d := run(os.Stdout)
	if len(d.sender.Sent()) != 1 {
		os.Exit(1)
	}
}

// run walks through the review cycle, printing each step to w.
func run(w io.Writer) *desk {
	ctx := context.Background()
	step := func(format string, args ...any) { fmt.Fprintf(w, "• "+format+"\n", args...) }
	line := func(s string) { fmt.Fprintln(w, s) }
	clk := clockwork.NewFakeClockAt(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)) // so the times in review are reproducible
	sender := &transport.Sender{}
	ws := must(emailflow.New(emailflow.Ports{Store: memory.New(nil), Sender: sender, Clock: clk, IDs: &ids{}}, &emailflow.Options{
		Hostname:  "desk.boutique.example",
		Mailboxes: []emailflow.Mailbox{{Address: "support@boutique.example", Name: "Service Client", Queue: "support-fr"}},
		// New hires are always reviewed; supervisors never; anyone may ask.
		ReviewPolicy:  qa.First(qa.Exempt("supervisor"), qa.Any(qa.ByGroup("new-hires"), qa.OnRequest())),
		RejectReasons: []string{"exactitude", "ton", "orthographe"},
	}))

	check(ws.PutAgent(ctx, emailflow.Agent{ID: "camille", Name: "Camille Laurent", Queues: []string{"support-fr"}, Groups: []string{"new-hires"}, Capacity: 3}))
	check(ws.PutAgent(ctx, emailflow.Agent{ID: "rita", Name: "Rita Moreau", Queues: []string{"review"}, Roles: []emailflow.Role{emailflow.RoleReviewer}, Capacity: 5}))
	camille, rita := ws.As("camille"), ws.As("rita")
	check(camille.SetStatus(ctx, emailflow.StatusReady))
	check(rita.SetStatus(ctx, emailflow.StatusReady))
	step("camille (new hire) serves support-fr; rita (reviewer) serves the review queue")

	in := must(ws.Ingest(ctx, "support@boutique.example", strings.NewReader(customerEmail)))
	in = must(camille.Accept(ctx, in.ID))
	step("customer email %q accepted by camille", in.Subject)

	reply := must(camille.Reply(ctx, in.ID))
	edit := func(text string) {
		// Only the text changes: recipients and subject stay as they are.
		must(camille.EditDraft(ctx, reply.ID, emailflow.DraftPatch{Text: &text, HTML: new("")}))
	}
	edit("Bonjour, votre colis arrive bientôt.")
	sent := must(camille.Send(ctx, reply.ID, nil))
	step("camille sends her reply → %s; messages sent so far: %d", sent.Delivery.State, len(sender.Sent()))

	// Round 1: rejected with remarks.
	review := lastRound(ctx, ws, reply.ID).ReviewID
	rv := must(rita.Interaction(ctx, review)) // offered to her
	step("review %s is %s to %s in queue %q", rv.ID, rv.State, rv.OfferedTo, rv.Queue)
	must(rita.Accept(ctx, review))
	clk.Advance(12 * time.Minute)
	out := must(rita.Reject(ctx, review, "exactitude", "Donne le numéro de suivi et la date de livraison prévue."))
	step("rita rejects: the reply is %s, back with %s", out.State, out.Owner)
	if r, ok := out.LastReview(); ok { // the outcome's typed place
		line(indent(fmt.Sprintf("review: %s by %s, reason %s: %s", r.Decision, r.Reviewer, r.Reason, r.Remarks)))
	}
	status, _ := must(camille.CaseData(ctx, in.ID)).Get(emailflow.CaseQAStatus)
	line(indent("case data of the customer's interaction: " + emailflow.CaseQAStatus + " = " + status))

	// Round 2: the agent edits, the reviewer fixes a detail and approves.
	clk.Advance(20 * time.Minute)
	edit("Bonjour Hélène,\n\nVotre colis (suivi 6A12345) sera livré jeudi 27 novembre.\n\nCamille")
	sent = must(camille.Send(ctx, reply.ID, nil))
	step("camille edits and sends again → %s (round %d)", sent.State, lastRound(ctx, ws, reply.ID).Number)
	review = lastRound(ctx, ws, reply.ID).ReviewID
	must(rita.Accept(ctx, review))
	item := must(rita.Review(ctx, review))
	clk.Advance(5 * time.Minute)
	check(rita.ReviewEdit(ctx, review, emailflow.DraftPatch{Text: new(strings.Replace(item.Email.Text, "Camille", "Camille Laurent\nService Client", 1))}))
	step("rita adds the signature herself (a reviewer edit)")
	sent = must(rita.Approve(ctx, review))
	step("rita approves → %s", sent.Delivery.State)

	delivered := sender.Sent()
	step("the customer received %d message:", len(delivered))
	msg := must(compose.Parse(bytes.NewReader(delivered[0].Raw), nil))
	line(indent(fmt.Sprintf("To: %v\nSubject: %s\nIn-Reply-To: <%s>\n\n%s", delivered[0].To, msg.Subject, strings.Join(msg.InReplyTo, "> <"), msg.Text)))

	step("rounds of the reply:")
	for _, r := range must(camille.Rounds(ctx, reply.ID)) {
		fmt.Fprintf(w, "    round %d by %s: %s by %s after %v", r.Number, r.Author, r.Decision, r.Reviewer, r.DecidedAt.Sub(r.SubmittedAt))
		if r.Reason != "" {
			fmt.Fprintf(w, " (%s: %s)", r.Reason, r.Remarks)
		}
		if len(r.Edits) > 0 {
			fmt.Fprintf(w, ", %d reviewer edit(s)", len(r.Edits))
		}
		fmt.Fprintf(w, ", content %s…\n", r.Hash[:19])
	}

	m := must(ws.Metrics(ctx, qa.Window{}))
	for _, id := range m.AgentIDs() {
		s := m.Agents[id]
		step("agent %s: %.1f rounds per email, approval rate %.0f%%, mean time in review %v, reasons %v", id, s.RoundsPerEmail, 100*s.ApprovalRate, s.MeanTimeInReview, s.Reasons)
	}
	for _, id := range m.ReviewerIDs() {
		s := m.Reviewers[id]
		step("reviewer %s: %d decisions, %d approved, %d edited", id, s.Rounds, s.Approved, s.Edited)
	}
	return &desk{ws: ws, sender: sender, inbound: in.ID, reply: reply.ID}
}

// lastRound returns the latest review round of camille's email id.
func lastRound(ctx context.Context, ws *emailflow.Workspace, id string) qa.Round {
	rounds := must(ws.As("camille").Rounds(ctx, id))
	return rounds[len(rounds)-1]
}
