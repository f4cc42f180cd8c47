package smtp_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/store/memory"
	smtp "github.com/emailflow/emailflow/transport/smtp"
)

// spamMessage is a message an upstream SpamAssassin marked as spam.
const spamMessage = "X-Spam-Flag: YES\r\nX-Spam-Status: Yes, score=8.1 required=5.0 tests=BAYES_99\r\n" +
	"From: Deals <promo@deals.example>\r\nTo: support@shop.example\r\nSubject: You won\r\nMessage-ID: <won-%s@deals.example>\r\n\r\nClick.\r\n"

// A verdict written by the relay that hands the message to our Server is
// believed when its address (the one our Received field names) is
// trusted, and not otherwise, whatever EHLO name the client gives; the
// sender lists' rejection is answered 550 and stores nothing.
func TestServerUpstreamVerdictAndRejection(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		trusted []string
		helo    string
		want    interaction.State
	}{
		{"trusted relay", []string{"127.0.0.0/8"}, "relay.shop.example", interaction.StateQuarantined},
		{"untrusted relay", []string{"192.0.2.25"}, "relay.shop.example", interaction.StateQueued},
		{"untrusted relay naming a trusted address as its EHLO name", []string{"192.0.2.25"}, "[192.0.2.25]", interaction.StateQueued},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up, err := emailflow.NewUpstreamFilter(&emailflow.UpstreamOptions{Trusted: tt.trusted})
			require.NoError(t, err)
			ws, err := emailflow.New(emailflow.Ports{Store: memory.New(nil), Sender: recorderSender{}}, &emailflow.Options{
				Hostname:  "shop.example",
				Mailboxes: []emailflow.Mailbox{{Address: "support@shop.example", Queue: "support"}},
				Filters:   []emailflow.Filter{up},
			})
			require.NoError(t, err)
			require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: "admin", Roles: []emailflow.Role{emailflow.RoleAdmin}}))
			addr := startServer(t, smtp.NewServer(smtp.IngestInto(ws), []string{"support@shop.example"}, &smtp.ServerOptions{Domain: "mx.shop.example", Logger: quiet}))
			c, err := gosmtp.Dial(addr)
			require.NoError(t, err)
			defer c.Close()
			require.NoError(t, c.Hello(tt.helo))
			require.NoError(t, c.SendMail("promo@deals.example", []string{"support@shop.example"}, strings.NewReader(strings.Replace(spamMessage, "%s", string(rune('a'+i)), 1))))
			its := interactions(t, ws)
			require.Len(t, its, 1, "taken in, whatever the verdict")
			assert.Equal(t, tt.want, its[0].State)
		})
	}

	t.Run("rejected", func(t *testing.T) {
		st := memory.New(nil)
		ws, err := emailflow.New(emailflow.Ports{Store: st, Sender: recorderSender{}}, &emailflow.Options{
			Hostname:  "shop.example",
			Mailboxes: []emailflow.Mailbox{{Address: "support@shop.example", Queue: "support"}},
		})
		require.NoError(t, err)
		require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: "admin", Roles: []emailflow.Role{emailflow.RoleAdmin}}))
		require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: "sup", Queues: []string{"support"}, Roles: []emailflow.Role{emailflow.RoleSupervisor}}))
		_, err = ws.As("sup").PutSenderRule(ctx, emailflow.SenderRule{Pattern: "deals.example", Action: emailflow.ListReject})
		require.NoError(t, err)
		addr := startServer(t, smtp.NewServer(smtp.IngestInto(ws), []string{"support@shop.example"}, &smtp.ServerOptions{Domain: "mx.shop.example", Logger: quiet}))
		err = deliver(t, addr, "promo@deals.example", []string{"support@shop.example"}, strings.Replace(spamMessage, "%s", "r", 1))
		var se *gosmtp.SMTPError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, 550, se.Code)
		assert.Equal(t, gosmtp.EnhancedCode{5, 7, 1}, se.EnhancedCode)
		assert.NotContains(t, se.Message, "deals.example", "the sender learns nothing of the lists")
		assert.Empty(t, interactions(t, ws), "nothing stored")
	})
}

// Postfix bounces our reply to a mailbox that does not exist (its error
// transport for bounce.example) and sends the report back to our Server
// with a null sender: the reply fails back to its agent, the report on
// it. A small reply comes back whole (message/rfc822), one over Postfix's
// bounce_size_limit as its header only (text/rfc822-headers).
func TestPostfixBounceLinkedToOurReply(t *testing.T) {
	dir := postfix(t)
	ctx := context.Background()
	pem, err := os.ReadFile(filepath.Join(dir, "cert.pem"))
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pem))
	ws, err := emailflow.New(emailflow.Ports{
		Store:  memory.New(nil),
		Sender: smtp.NewSender(postfixAddr, &smtp.SenderOptions{TLSConfig: &tls.Config{RootCAs: pool}}),
	}, &emailflow.Options{
		Hostname:  "shop.example",
		Mailboxes: []emailflow.Mailbox{{Address: "support@shop.example", Name: "Service client", Queue: "support"}},
	})
	require.NoError(t, err)
	srv := smtp.NewServer(smtp.IngestInto(ws), []string{"support@shop.example"}, &smtp.ServerOptions{Domain: "mx.shop.example", Logger: quiet})
	l, err := net.Listen("tcp", relayTarget)
	require.NoError(t, err)
	serve(t, func() error { return srv.Serve(l) }, srv.Close)
	require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: "admin", Roles: []emailflow.Role{emailflow.RoleAdmin}}))
	require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: "ana", Queues: []string{"support"}, Capacity: 5}))
	require.NoError(t, ws.As("ana").SetStatus(ctx, emailflow.StatusReady))
	sub := ws.Subscribe(ctx, &emailflow.SubscribeOptions{Agent: "ana"})
	defer sub.Close()

	stamp := time.Now().Format("150405.000")
	for _, tt := range []struct {
		name     string
		attach   int
		returned compose.Returned
	}{
		{"whole", 0, compose.ReturnedMessage},
		{"header only", 80 << 10, compose.ReturnedHeaders},
	} {
		t.Run(tt.name, func(t *testing.T) {
			customer := "From: Nobody <nobody@bounce.example>\r\nTo: support@shop.example\r\nSubject: Question " + tt.name + "\r\n" +
				"Message-ID: <q-" + tt.name[:1] + "-" + stamp + "@bounce.example>\r\n\r\nHello?\r\n"
			in, err := ws.Ingest(ctx, "support@shop.example", strings.NewReader(customer))
			require.NoError(t, err)
			_, err = ws.As("ana").Accept(ctx, in.ID)
			require.NoError(t, err)
			r, err := ws.As("ana").Reply(ctx, in.ID)
			require.NoError(t, err)
			if tt.attach > 0 {
				_, err = ws.As("ana").AddAttachment(ctx, r.ID, emailflow.NewAttachment{Filename: "scan.bin", ContentType: "application/octet-stream", Body: strings.NewReader(strings.Repeat("x", tt.attach))})
				require.NoError(t, err)
			}
			sent, err := ws.As("ana").Send(ctx, r.ID, nil)
			require.NoError(t, err)
			require.Equal(t, interaction.StateSent, sent.State, "Postfix took it")
			emails, err := ws.As("admin").Emails(ctx, r.ID)
			require.NoError(t, err)
			ours := emails[0]
			before := len(interactions(t, ws))

			var bounced emailflow.Event
			deadline := time.After(time.Minute)
			for bounced.Type == "" {
				select {
				case e := <-sub.C:
					if e.Type == emailflow.EventBounced && e.InteractionID == r.ID {
						bounced = e
					}
				case <-deadline:
					t.Fatalf("no bounce came back; Postfix's log:\n%s", tail(filepath.Join(dir, "maillog")))
				}
			}
			assert.Contains(t, bounced.Detail, "nobody@bounce.example: failed 5.1.1")
			o, err := ws.As("ana").Interaction(ctx, r.ID)
			require.NoError(t, err)
			assert.Equal(t, interaction.StateFailed, o.State, "back with its agent")
			emails, err = ws.As("admin").Emails(ctx, r.ID)
			require.NoError(t, err)
			require.Len(t, emails, 2, "the reply and its report")
			report := emails[1]
			assert.Equal(t, ours.ID, report.BounceOf)
			require.NotNil(t, report.Envelope)
			assert.Equal(t, "", report.Envelope.From, "Postfix sends reports with a null sender")
			require.NotNil(t, report.Report)
			assert.Equal(t, tt.returned, report.Report.Returned)
			assert.Equal(t, ours.MessageID, report.Report.OriginalMessageID)
			require.Len(t, report.Report.Recipients, 1)
			s := report.Report.Recipients[0]
			assert.Equal(t, "nobody@bounce.example", s.Recipient)
			assert.Equal(t, compose.ActionFailed, s.Action)
			assert.Equal(t, "5.1.1", s.Status)
			assert.Contains(t, s.Diagnostic, "mailbox unavailable")
			assert.Len(t, interactions(t, ws), before, "no interaction for the report")
		})
	}
	assert.Eventually(t, func() bool { return postfixQueueEmpty(t, dir) }, time.Minute, 100*time.Millisecond)
}

// tail returns the end of a log file, for a failure's message.
func tail(name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		return err.Error()
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
