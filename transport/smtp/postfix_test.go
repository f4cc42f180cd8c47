package smtp_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/store/memory"
	smtp "github.com/emailflow/emailflow/transport/smtp"
)

// The real-MTA tests run against the private Postfix instance that
// .ci/postfix.sh starts (.ci/run does): it listens on 127.0.0.1:20025,
// delivers mail for customer.example to a Maildir, bounces mail for
// bounce.example and relays mail for shop.example to 127.0.0.1:20026,
// where these tests run the Server. The script writes the ports it used
// in DIR/ports.
var (
	postfixAddr = "127.0.0.1:20025"
	relayTarget = "127.0.0.1:20026"
)

// postfix returns the directory of the running Postfix instance, or
// skips the test when there is none (fails under CI=true).
func postfix(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("EMAILFLOW_POSTFIX_DIR")
	if dir == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("EMAILFLOW_POSTFIX_DIR is not set under CI: .ci/run starts Postfix for these tests")
		}
		t.Skip("Postfix is not running: `.ci/postfix.sh start DIR` (as root, with Debian's postfix installed), then EMAILFLOW_POSTFIX_DIR=DIR")
	}
	if b, err := os.ReadFile(filepath.Join(dir, "ports")); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			postfixAddr, relayTarget = f[0], f[1]
		}
	}
	c, err := net.DialTimeout("tcp", postfixAddr, 5*time.Second)
	require.NoError(t, err, "Postfix is not listening on %s", postfixAddr)
	_ = c.Close()
	return dir
}

// postfixQueueEmpty reports whether Postfix has nothing left to deliver.
func postfixQueueEmpty(t *testing.T, dir string) bool {
	t.Helper()
	out, err := exec.Command("postqueue", "-c", dir, "-p").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return strings.Contains(string(out), "Mail queue is empty")
}

// maildirFiles returns the messages delivered to the Maildir since
// seen, by file name.
func maildirFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	newDir := filepath.Join(dir, "mail", "customer", "new")
	entries, err := os.ReadDir(newDir)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	out := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(newDir, e.Name()))
		require.NoError(t, err)
		out[e.Name()] = b
	}
	return out
}

// withoutPostfixTrace splits the fields Postfix prepends on delivery
// (Return-Path, X-Original-To, Delivered-To, Received) from a Maildir
// file.
func withoutPostfixTrace(b []byte) (trace map[string][]string, rest []byte) {
	trace = map[string][]string{}
	rest = b
	name := ""
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			return trace, rest
		}
		line := string(rest[:i])
		switch {
		case strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t"):
			if name == "" {
				return trace, rest
			}
			trace[name][len(trace[name])-1] += "\n" + line
		default:
			k, v, ok := strings.Cut(line, ": ")
			if !ok || !slices.Contains([]string{"Return-Path", "X-Original-To", "Delivered-To", "Received"}, k) {
				return trace, rest
			}
			name = k
			trace[k] = append(trace[k], v)
		}
		rest = rest[i+1:]
	}
}

// Our Sender delivers a French reply all, with a Bcc and an attachment
// with a non-ASCII name, through Postfix (STARTTLS, and a check of the
// EHLO name) to the customers' Maildir: each copy is the stored bytes,
// only Postfix's trace fields added (a Maildir keeps LF line ends).
func TestPostfixDeliversOurMail(t *testing.T) {
	dir := postfix(t)
	ctx := context.Background()
	pem, err := os.ReadFile(filepath.Join(dir, "cert.pem"))
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pem))
	before := maildirFiles(t, dir)

	ws, err := emailflow.New(emailflow.Ports{
		Store:  memory.New(nil),
		Sender: smtp.NewSender(postfixAddr, &smtp.SenderOptions{TLSConfig: &tls.Config{RootCAs: pool}}),
	}, &emailflow.Options{
		Hostname:  "shop.example",
		Mailboxes: []emailflow.Mailbox{{Address: "support@shop.example", Name: "Service client", Queue: "support"}},
	})
	require.NoError(t, err)
	customer := "From: =?utf-8?q?Fran=C3=A7oise_Dupr=C3=A9?= <francoise@customer.example>\r\n" +
		"To: support@shop.example\r\nCc: =?utf-8?q?Marc_Lef=C3=A8vre?= <marc@customer.example>\r\n" +
		"Subject: =?utf-8?q?Colis_ab=C3=AEm=C3=A9_=E2=80=94_commande_n=C2=B0_1234?=\r\n" +
		"Message-ID: <postfix-fr-" + time.Now().Format("150405.000") + "@customer.example>\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
		"Bonjour,\r\nle colis est arrivé abîmé. Que faire ?\r\nFrançoise\r\n"
	in, err := ws.Ingest(ctx, "support@shop.example", strings.NewReader(customer))
	require.NoError(t, err)
	require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: "ana", Queues: []string{"support"}}))
	require.NoError(t, ws.As("ana").SetStatus(ctx, emailflow.StatusReady))
	_, err = ws.As("ana").Accept(ctx, in.ID)
	require.NoError(t, err)
	reply, err := ws.As("ana").ReplyAll(ctx, in.ID)
	require.NoError(t, err)
	bcc := []mail.Address{{Name: "Archives", Address: "archives@customer.example"}}
	_, err = ws.As("ana").EditDraft(ctx, reply.ID, emailflow.DraftPatch{
		Bcc: &bcc, HTML: new(""),
		Text: new("Bonjour Françoise,\n\nnous vous envoyons un nouveau colis dès aujourd'hui.\n\n" + reply.Email.Text),
	})
	require.NoError(t, err)
	_, err = ws.As("ana").AddAttachment(ctx, reply.ID, emailflow.NewAttachment{Filename: "reçu détaillé — commande n° 1234.pdf", ContentType: "application/pdf", Body: strings.NewReader("%PDF-1.4 reçu")})
	require.NoError(t, err)
	sent, err := ws.As("ana").Send(ctx, reply.ID, nil)
	require.NoError(t, err)
	require.Equal(t, interaction.StateSent, sent.State, "delivered through Postfix at once")
	emails, err := ws.As("ana").Emails(ctx, reply.ID)
	require.NoError(t, err)
	stored := emails[len(emails)-1].Raw

	var delivered map[string][]byte
	require.Eventually(t, func() bool {
		delivered = map[string][]byte{}
		for name, b := range maildirFiles(t, dir) {
			if _, old := before[name]; !old {
				delivered[name] = b
			}
		}
		return len(delivered) == 3
	}, time.Minute, 100*time.Millisecond, "three copies: To, Cc and Bcc")
	var to []string
	want := bytes.ReplaceAll(stored, []byte("\r\n"), []byte("\n"))
	for _, b := range delivered {
		trace, rest := withoutPostfixTrace(b)
		to = append(to, trace["Delivered-To"]...)
		assert.Equal(t, string(want), string(rest), "the stored bytes, Postfix's trace fields aside")
		assert.NotContains(t, string(rest), "archives@customer.example", "Bcc is in the envelope only")
		require.Len(t, trace["Received"], 1)
		assert.Contains(t, trace["Received"][0], "with ESMTPS", "sent with STARTTLS")
		assert.True(t, strings.HasPrefix(trace["Received"][0], "from [127.0.0.1] "), "our EHLO name, the address literal, which Postfix takes as fully qualified")
	}
	slices.Sort(to)
	assert.Equal(t, []string{"archives@customer.example", "francoise@customer.example", "marc@customer.example"}, to)
	assert.Eventually(t, func() bool { return postfixQueueEmpty(t, dir) }, time.Minute, 100*time.Millisecond)
}

// Postfix relays customers' mail (8-bit, SMTPUTF8, a 20 MB attachment)
// into our Server, with STARTTLS: each becomes one interaction, and
// Postfix's queue is empty (nothing bounced, nothing deferred).
func TestPostfixRelaysToOurServer(t *testing.T) {
	dir := postfix(t)
	ctx := context.Background()
	serverTLS, _ := testTLS(t)
	ws, err := emailflow.New(emailflow.Ports{Store: memory.New(nil), Sender: &recorderSender{}}, &emailflow.Options{
		Hostname:  "shop.example",
		Mailboxes: []emailflow.Mailbox{{Address: "support@shop.example", Queue: "support"}},
	})
	require.NoError(t, err)
	srv := smtp.NewServer(smtp.IngestInto(ws), []string{"support@shop.example"}, &smtp.ServerOptions{Domain: "mx.shop.example", TLSConfig: serverTLS, Logger: quiet})
	l, err := net.Listen("tcp", relayTarget)
	require.NoError(t, err)
	serve(t, func() error { return srv.Serve(l) }, srv.Close)

	stamp := time.Now().Format("150405.000")
	eightBit := "From: =?utf-8?q?Fran=C3=A7oise?= <francoise@customer.example>\r\nTo: support@shop.example\r\n" +
		"Subject: =?utf-8?q?R=C3=A9clamation?=\r\nMessage-ID: <8bit-" + stamp + "@customer.example>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
		"Ça ne marche toujours pas, voilà.\r\n"
	utf8 := "From: Jörg Müller <jörg@müller.example>\r\nTo: support@shop.example\r\nSubject: Grüße aus Köln\r\n" +
		"Message-ID: <utf8-" + stamp + "@müller.example>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nMein Paket fehlt.\r\n"
	big := largeMessage(t, "big-"+stamp, 20<<20)
	for _, m := range []struct {
		from string
		msg  string
		utf8 bool
	}{
		{"francoise@customer.example", eightBit, false},
		{"jörg@müller.example", utf8, true},
		{"jo@example.org", big, false},
	} {
		c, err := gosmtp.Dial(postfixAddr)
		require.NoError(t, err)
		require.NoError(t, c.Hello("client.customer.example"))
		require.NoError(t, c.Mail(m.from, &gosmtp.MailOptions{UTF8: m.utf8}))
		require.NoError(t, c.Rcpt("support@shop.example", nil))
		w, err := c.Data()
		require.NoError(t, err)
		_, err = io.Copy(w, struct{ io.Reader }{strings.NewReader(m.msg)})
		require.NoError(t, err)
		require.NoError(t, w.Close(), "Postfix took it")
		require.NoError(t, c.Quit())
	}

	var its []*interaction.Interaction
	require.Eventually(t, func() bool {
		its = interactions(t, ws)
		return len(its) >= 3 && postfixQueueEmpty(t, dir)
	}, 2*time.Minute, 200*time.Millisecond, "Postfix relayed all three and its queue is empty")
	require.Len(t, its, 3, "one interaction each")
	bySubject := map[string]*emailflow.Email{}
	for _, it := range its {
		es, err := ws.As("admin").Emails(ctx, it.ID)
		require.NoError(t, err)
		require.Len(t, es, 1)
		bySubject[it.Subject] = es[0]
	}
	assert.Equal(t, "Ça ne marche toujours pas, voilà.\n", bySubject["Réclamation"].Text)
	de := bySubject["Grüße aus Köln"]
	require.NotNil(t, de)
	assert.Equal(t, "jörg@müller.example", de.From.Address)
	assert.Equal(t, "jörg@müller.example", de.Envelope.From)
	assert.Contains(t, string(de.Raw), "with UTF8SMTPS id")
	scans := bySubject["Scans"]
	require.NotNil(t, scans)
	require.Len(t, scans.Attachments, 1)
	assert.Greater(t, scans.Attachments[0].Size, int64(14<<20))
	for _, e := range bySubject {
		assert.True(t, strings.HasPrefix(string(e.Raw), "Return-Path: <"+e.Envelope.From+">\r\nReceived: from postfix.emailflow.test ([127.0.0.1])"), "%.200s", e.Raw)
		assert.Contains(t, string(e.Raw), "by postfix.emailflow.test (Postfix) with ", "Postfix's own trace field follows ours")
	}
}

// recorderSender is a Sender that takes everything: these tests send
// nothing out.
type recorderSender struct{}

func (recorderSender) Send(context.Context, string, []string, []byte) error { return nil }
