package smtp_test

import (
	"context"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/store/memory"
	smtp "github.com/emailflow/emailflow/transport/smtp"
)

// TestEndToEnd runs a Workspace between two SMTP servers: a customer's
// email reaches it through the Server, the agent's reply leaves through
// the Sender to the customer's MX.
func TestEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	customerMX := &recorder{}
	mxAddr := serveRecorder(t, customerMX, nil, false, false)

	ws, err := emailflow.New(emailflow.Ports{
		Store:  memory.New(nil),
		Sender: smtp.NewSender(mxAddr, &smtp.SenderOptions{TLS: smtp.TLSNone, HeloName: "shop.example"}),
	}, &emailflow.Options{
		Hostname:  "shop.example",
		Mailboxes: []emailflow.Mailbox{{Address: "support@shop.example", Name: "Support", Queue: "support"}},
	})
	require.NoError(t, err)
	sub := ws.Subscribe(ctx, nil)

	ourMX := startServer(t, smtp.NewServer(smtp.IngestInto(ws), []string{"support@shop.example"}, &smtp.ServerOptions{Domain: "mx.shop.example", Logger: quiet}))
	require.NoError(t, deliver(t, ourMX, "jo@example.org", []string{"support@shop.example"}, inbound))

	var id string
	for id == "" {
		select {
		case e := <-sub.C:
			if e.Type == emailflow.EventIngested {
				id = e.InteractionID
			}
		case <-ctx.Done():
			t.Fatal("no interaction was ingested")
		}
	}
	require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: "admin", Roles: []emailflow.Role{emailflow.RoleAdmin}}))
	it, err := ws.As("admin").Interaction(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateQueued, it.State)
	assert.Equal(t, "support", it.Queue)
	assert.Equal(t, "Where is my parcel?", it.Subject)

	// The sending server retries (say our 250 was lost): nothing new.
	require.NoError(t, deliver(t, ourMX, "jo@example.org", []string{"support@shop.example"}, inbound))
	again, err := ws.Ingest(ctx, "support@shop.example", strings.NewReader(inbound))
	require.NoError(t, err)
	assert.Equal(t, id, again.ID)

	require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: "ana", Queues: []string{"support"}}))
	require.NoError(t, ws.As("ana").SetStatus(ctx, emailflow.StatusReady))
	_, err = ws.As("ana").Accept(ctx, id)
	require.NoError(t, err)
	reply, err := ws.As("ana").Reply(ctx, id)
	require.NoError(t, err)
	reply, err = ws.As("ana").EditDraft(ctx, reply.ID, emailflow.DraftPatch{Text: new("It ships today.\n\n" + reply.Email.Text)})
	require.NoError(t, err)
	sent, err := ws.As("ana").Send(ctx, reply.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateSent, sent.State)
	assert.Equal(t, emailflow.DeliverySent, sent.Delivery.State)

	got := customerMX.received()
	require.Len(t, got, 1)
	assert.Equal(t, []string{"jo@example.org"}, got[0].To)
	assert.Equal(t, "shop.example", got[0].Helo)
	raw := string(got[0].Data)
	assert.Contains(t, raw, "In-Reply-To: <1@example.org>\r\n")
	assert.Contains(t, raw, "References: <1@example.org>\r\n")
	assert.Contains(t, raw, "It ships today.")
	_, emails, err := ws.As("ana").OpenInteraction(ctx, reply.ID)
	require.NoError(t, err)
	require.NotEmpty(t, emails)
	assert.Equal(t, string(emails[len(emails)-1].Raw), raw, "the customer gets exactly the bytes stored")
}

// Forwarded as an attachment, an original with LF line ends (or a line
// of 1,200 octets) arrives as the bytes stored: Render made its line ends
// CRLF, and the SMTP client has nothing to change.
func TestForwardAsAttachmentSendsTheStoredBytes(t *testing.T) {
	ctx := context.Background()
	for _, body := range []string{"Bonjour,\nle colis est arrivé abîmé.\n", strings.Repeat("z", 1200) + "\n"} {
		partner := &recorder{}
		ws, err := emailflow.New(emailflow.Ports{
			Store:  memory.New(nil),
			Sender: smtp.NewSender(serveRecorder(t, partner, nil, false, false), &smtp.SenderOptions{TLS: smtp.TLSNone, HeloName: "shop.example"}),
		}, &emailflow.Options{
			Hostname:  "shop.example",
			Mailboxes: []emailflow.Mailbox{{Address: "support@shop.example", Queue: "support"}},
		})
		require.NoError(t, err)
		original := "From: Jo <jo@example.org>\nTo: support@shop.example\nSubject: Colis\nMessage-ID: <lf.1@example.org>\n" +
			"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n" + body
		in, err := ws.Ingest(ctx, "support@shop.example", strings.NewReader(original))
		require.NoError(t, err)
		require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: "ana", Queues: []string{"support"}}))
		require.NoError(t, ws.As("ana").SetStatus(ctx, emailflow.StatusReady))
		_, err = ws.As("ana").Accept(ctx, in.ID)
		require.NoError(t, err)
		fwd, err := ws.As("ana").Forward(ctx, in.ID, emailflow.ForwardRequest{To: []mail.Address{{Address: "logistics@partner.example"}}, Instructions: "Please check.", AsAttachment: true})
		require.NoError(t, err)
		sent, err := ws.As("ana").Send(ctx, fwd.ID, nil)
		require.NoError(t, err)
		require.Equal(t, interaction.StateSent, sent.State)
		got := partner.received()
		require.Len(t, got, 1)
		assert.Equal(t, string(sent.Email.Raw), string(got[0].Data), "the partner gets exactly the bytes stored")
		assert.NotContains(t, strings.ReplaceAll(string(got[0].Data), "\r\n", ""), "\n")
	}
}
