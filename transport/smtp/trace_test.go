package smtp_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	gosmtp "github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/store/memory"
	transport "github.com/emailflow/emailflow/transport/memory"
	smtp "github.com/emailflow/emailflow/transport/smtp"
)

// inboxWorkspace is a Workspace on the memory store with the support
// mailbox and postmaster mail routed to the "it" queue.
func inboxWorkspace(t *testing.T) *emailflow.Workspace {
	t.Helper()
	ws, err := emailflow.New(emailflow.Ports{Store: memory.New(nil), Sender: &transport.Sender{}}, &emailflow.Options{
		Hostname: "shop.example",
		Mailboxes: []emailflow.Mailbox{
			{Address: "support@shop.example", Queue: "support"},
			{Address: "postmaster@shop.example", Queue: "it"},
		},
	})
	require.NoError(t, err)
	return ws
}

// interactions returns every interaction of ws, as its administrator
// sees them.
func interactions(t testing.TB, ws *emailflow.Workspace) []*interaction.Interaction {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: "admin", Roles: []emailflow.Role{emailflow.RoleAdmin}}))
	its, err := ws.As("admin").Interactions(ctx, emailflow.Query{})
	require.NoError(t, err)
	return its
}

// stored returns the interactions of the Workspace with their emails.
func stored(t *testing.T, ws *emailflow.Workspace) map[string][]*emailflow.Email {
	t.Helper()
	ctx := context.Background()
	its := interactions(t, ws)
	out := map[string][]*emailflow.Email{}
	for _, it := range its {
		es, err := ws.As("admin").Emails(ctx, it.ID)
		require.NoError(t, err)
		out[it.Queue] = append(out[it.Queue], es...)
	}
	return out
}

func TestServerTraceFieldsAndEnvelope(t *testing.T) {
	serverTLS, clientTLS := testTLS(t)
	for _, useTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "STARTTLS"}[useTLS], func(t *testing.T) {
			ws := inboxWorkspace(t)
			opts := &smtp.ServerOptions{Domain: "mx.shop.example", Logger: quiet}
			if useTLS {
				opts.TLSConfig = serverTLS
			}
			addr := startServer(t, smtp.NewServer(smtp.IngestInto(ws), []string{"support@shop.example"}, opts))
			dial := func() (*gosmtp.Client, error) { return gosmtp.Dial(addr) }
			if useTLS {
				dial = func() (*gosmtp.Client, error) { return gosmtp.DialStartTLS(addr, clientTLS) }
			}
			c, err := dial()
			require.NoError(t, err)
			defer c.Close()
			require.NoError(t, c.Hello("relay.example.org"))
			require.NoError(t, c.SendMail("bounces+jo@example.org", []string{"Support@Shop.Example", "support@shop.example"}, strings.NewReader(inbound)))
			require.NoError(t, c.Quit())

			got := stored(t, ws)["support"]
			require.Len(t, got, 1)
			e := got[0]
			require.NotNil(t, e.Envelope)
			assert.Equal(t, "bounces+jo@example.org", e.Envelope.From)
			assert.Equal(t, []string{"Support@Shop.Example", "support@shop.example"}, e.Envelope.To)
			raw := string(e.Raw)
			assert.True(t, strings.HasSuffix(raw, "\r\n"+inbound) || strings.HasSuffix(raw, inbound), "the message follows the trace fields unchanged")
			proto, tlsInfo := "ESMTP", ""
			if useTLS {
				proto, tlsInfo = "ESMTPS", `\r\n\t\(using TLS 1\.[23] with cipher [A-Z0-9_]+\)`
			}
			assert.Regexp(t, regexp.MustCompile(`^Return-Path: <bounces\+jo@example\.org>\r\n`+
				`Received: from relay\.example\.org \(\[127\.0\.0\.1\]\)\r\n`+
				`\tby mx\.shop\.example \(emailflow\) with `+proto+` id [0-9A-F]{16}`+tlsInfo+`\r\n`+
				`\tfor <Support@Shop\.Example>; [A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d [+-]\d{4}\r\n`+
				`From: Jo <jo@example\.org>\r\n`), raw)
		})
	}
}

func TestServerSMTPUTF8(t *testing.T) {
	ws := inboxWorkspace(t)
	addr := startServer(t, smtp.NewServer(smtp.IngestInto(ws), []string{"support@shop.example"}, &smtp.ServerOptions{Logger: quiet}))
	c, err := gosmtp.Dial(addr)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Hello("relay.example.org"))
	ok, _ := c.Extension("SMTPUTF8")
	require.True(t, ok, "SMTPUTF8 is offered by default")
	msg := "From: Jörg Müller <jörg@müller.example>\r\nTo: support@shop.example\r\nSubject: Grüße aus Köln\r\nMessage-ID: <utf8.1@müller.example>\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nMein Paket ist nicht angekommen.\r\n"
	require.NoError(t, c.Mail("jörg@müller.example", &gosmtp.MailOptions{UTF8: true}))
	require.NoError(t, c.Rcpt("support@shop.example", nil))
	w, err := c.Data()
	require.NoError(t, err)
	_, err = w.Write([]byte(msg))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.NoError(t, c.Quit())

	got := stored(t, ws)["support"]
	require.Len(t, got, 1)
	assert.Equal(t, "jörg@müller.example", got[0].From.Address)
	assert.Equal(t, "Jörg Müller", got[0].From.Name)
	assert.Equal(t, "Grüße aus Köln", got[0].Subject)
	assert.Equal(t, "jörg@müller.example", got[0].Envelope.From)
	assert.Contains(t, string(got[0].Raw), "with UTF8SMTP id")

	off := startServer(t, smtp.NewServer(smtp.IngestInto(ws), []string{"support@shop.example"}, &smtp.ServerOptions{Logger: quiet, DisableSMTPUTF8: true}))
	c2, err := gosmtp.Dial(off)
	require.NoError(t, err)
	defer c2.Close()
	require.NoError(t, c2.Hello("relay.example.org"))
	ok, _ = c2.Extension("SMTPUTF8")
	assert.False(t, ok)
}

func TestServerPostmaster(t *testing.T) {
	ws := inboxWorkspace(t)
	addr := startServer(t, smtp.NewServer(smtp.IngestInto(ws), []string{"support@shop.example", "sales@shop-sales.example"}, &smtp.ServerOptions{Logger: quiet}))
	for i, rcpt := range []string{"postmaster@shop.example", "POSTMASTER@Shop.Example"} {
		msg := strings.Replace(inbound, "<1@example.org>", "<pm"+string(rune('0'+i))+"@example.org>", 1)
		require.NoError(t, deliver(t, addr, "jo@example.org", []string{rcpt}, msg), rcpt)
	}
	// "Postmaster" without a domain (RFC 5321 section 4.5.1), raw.
	rc := dialRaw(t, addr)
	rc.expect(220)
	rc.send("EHLO relay.example.org\r\nMAIL FROM:<jo@example.org>\r\nRCPT TO:<Postmaster>\r\nDATA\r\n")
	rc.expect(250)
	rc.expect(250)
	rc.expect(250)
	rc.expect(354)
	rc.send(strings.Replace(inbound, "<1@example.org>", "<pm9@example.org>", 1) + ".\r\nQUIT\r\n")
	rc.expect(250)
	rc.expect(221)

	got := stored(t, ws)
	assert.Len(t, got["it"], 3, "routed to the queue of postmaster@shop.example")
	// Another domain's postmaster is taken too, in the default queue.
	require.NoError(t, deliver(t, addr, "jo@example.org", []string{"postmaster@shop-sales.example"}, strings.Replace(inbound, "<1@example.org>", "<pm5@example.org>", 1)))
	// A stranger's domain is not ours.
	err := deliver(t, addr, "jo@example.org", []string{"postmaster@elsewhere.example"}, inbound)
	var se *gosmtp.SMTPError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 550, se.Code)

	// Or to a mailbox of the host's choice.
	k := &sink{}
	addr2 := startServer(t, smtp.NewServer(k.ingest, []string{"support@shop.example"}, &smtp.ServerOptions{Logger: quiet, Postmaster: "support@shop.example"}))
	require.NoError(t, deliver(t, addr2, "jo@example.org", []string{"postmaster@shop.example"}, inbound))
	require.Len(t, k.calls(), 1)
	assert.Equal(t, "support@shop.example", k.calls()[0].Mailbox)
	_, env := k.trace(0)
	assert.Equal(t, []string{"postmaster@shop.example"}, env.To)
}
