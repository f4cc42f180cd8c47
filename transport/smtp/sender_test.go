package smtp_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	smtp "github.com/emailflow/emailflow/transport/smtp"
)

// A message as the Workspace renders it: CRLF lines, a line starting with
// a dot (dot-stuffed on the wire), 8-bit text, no trailing whitespace
// trimmed.
const rendered = "From: Support <support@shop.example>\r\n" +
	"To: Jo <jo@example.org>\r\n" +
	"Subject: Your parcel\r\n" +
	"Message-ID: <ef.t1.e1@shop.example>\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"Hello Jo,\r\n" +
	".it ships today  \r\n" +
	"..\r\n" +
	".\r\n" +
	"Grüße\r\n"

func TestSenderDelivers(t *testing.T) {
	serverTLS, clientTLS := testTLS(t)
	users := map[string]string{"relay-user": "s3cret"}
	tests := []struct {
		name     string
		users    map[string]string
		tls      bool // the server offers TLS
		implicit bool
		insecure bool // the server allows AUTH without TLS
		opts     smtp.SenderOptions
		wantUser string
	}{
		{name: "plain", opts: smtp.SenderOptions{TLS: smtp.TLSNone}},
		{name: "plain with AUTH PLAIN", users: users, insecure: true,
			opts:     smtp.SenderOptions{TLS: smtp.TLSNone, Username: "relay-user", Password: "s3cret", InsecureAuth: true},
			wantUser: "relay-user"},
		{name: "STARTTLS with AUTH PLAIN", users: users, tls: true,
			opts:     smtp.SenderOptions{TLSConfig: clientTLS, Username: "relay-user", Password: "s3cret", HeloName: "app.shop.example"},
			wantUser: "relay-user"},
		{name: "implicit TLS", tls: true, implicit: true,
			opts: smtp.SenderOptions{TLS: smtp.TLSImplicit, TLSConfig: clientTLS, HeloName: "app.shop.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{users: tt.users}
			var cfg = serverTLS
			if !tt.tls {
				cfg = nil
			}
			addr := serveRecorder(t, rec, cfg, tt.implicit, tt.insecure)
			s := smtp.NewSender(addr, &tt.opts)

			to := []string{"jo@example.org", "boss@example.org", "archive@shop.example"}
			require.NoError(t, s.Send(context.Background(), "bounces@shop.example", to, []byte(rendered)))

			got := rec.received()
			require.Len(t, got, 1)
			assert.Equal(t, "bounces@shop.example", got[0].From)
			assert.Equal(t, to, got[0].To)
			assert.Equal(t, rendered, string(got[0].Data), "the bytes arrive unchanged")
			assert.Equal(t, tt.wantUser, got[0].User)
			if tt.opts.HeloName != "" {
				assert.Equal(t, tt.opts.HeloName, got[0].Helo)
			}
		})
	}
}

func TestSenderRefusals(t *testing.T) {
	serverTLS, clientTLS := testTLS(t)
	rec := &recorder{refuse: map[string]*gosmtp.SMTPError{
		"gone@example.org": {Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "No such user"},
		"full@example.org": {Code: 452, EnhancedCode: gosmtp.EnhancedCode{4, 2, 2}, Message: "Mailbox full"},
		"busy@example.org": {Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "Try later"},
	}}
	plainAddr := serveRecorder(t, rec, nil, false, false)
	authRec := &recorder{users: map[string]string{"u": "right"}}
	authAddr := serveRecorder(t, authRec, serverTLS, false, false)
	implicitAddr := serveRecorder(t, &recorder{}, serverTLS, true, false)
	fqdnAddr := serveRecorder(t, &recorder{fqdn: true}, nil, false, false)

	tests := []struct {
		name      string
		addr      string
		opts      smtp.SenderOptions
		to        []string
		code      int   // the server's reply, 0 when the refusal is ours
		kind      error // the sentinel of a configuration error
		reason    string
		permanent bool
	}{
		{name: "unknown recipient", addr: plainAddr, opts: smtp.SenderOptions{TLS: smtp.TLSNone},
			to: []string{"jo@example.org", "gone@example.org"}, code: 550, permanent: true},
		{name: "temporary 451", addr: plainAddr, opts: smtp.SenderOptions{TLS: smtp.TLSNone},
			to: []string{"busy@example.org"}, code: 451},
		{name: "temporary 452 after an accepted recipient", addr: plainAddr, opts: smtp.SenderOptions{TLS: smtp.TLSNone},
			to: []string{"jo@example.org", "full@example.org"}, code: 452},
		{name: "wrong password", addr: authAddr, opts: smtp.SenderOptions{TLSConfig: clientTLS, Username: "u", Password: "wrong"},
			to: []string{"jo@example.org"}, code: 535, permanent: true},
		{name: "authentication required", addr: authAddr, opts: smtp.SenderOptions{TLSConfig: clientTLS},
			to: []string{"jo@example.org"}, code: 502, permanent: true},
		{name: "no STARTTLS offered", addr: plainAddr, opts: smtp.SenderOptions{},
			to: []string{"jo@example.org"}, kind: smtp.ErrNoStartTLS, reason: "does not offer STARTTLS", permanent: true},
		{name: "credentials without TLS", addr: plainAddr, opts: smtp.SenderOptions{TLS: smtp.TLSNone, Username: "u", Password: "p"},
			to: []string{"jo@example.org"}, kind: smtp.ErrInsecureAuth, reason: "without TLS", permanent: true},
		{name: "untrusted certificate", addr: authAddr, opts: smtp.SenderOptions{},
			to: []string{"jo@example.org"}, kind: smtp.ErrUntrustedCertificate, reason: "certificate for 127.0.0.1 not trusted: x509:", permanent: true},
		{name: "untrusted certificate, implicit TLS", addr: implicitAddr, opts: smtp.SenderOptions{TLS: smtp.TLSImplicit},
			to: []string{"jo@example.org"}, kind: smtp.ErrUntrustedCertificate, reason: "certificate for 127.0.0.1 not trusted: x509:", permanent: true},
		{name: "TLS handshake with a server that does not speak TLS", addr: plainAddr, opts: smtp.SenderOptions{TLS: smtp.TLSImplicit},
			to: []string{"jo@example.org"}, kind: smtp.ErrTLSHandshake, reason: "TLS handshake with", permanent: true},
		{name: "AUTH mechanism not offered", addr: plainAddr, opts: smtp.SenderOptions{TLS: smtp.TLSNone, Username: "u", Password: "p", InsecureAuth: true},
			to: []string{"jo@example.org"}, kind: smtp.ErrAuthUnsupported, reason: "does not offer AUTH PLAIN", permanent: true},
		{name: "unknown TLS mode", addr: plainAddr, opts: smtp.SenderOptions{TLS: "tls1.0"},
			to: []string{"jo@example.org"}, kind: smtp.ErrConfig, reason: "unknown TLS mode", permanent: true},
		{name: "non-ASCII address without SMTPUTF8", addr: plainAddr, opts: smtp.SenderOptions{TLS: smtp.TLSNone},
			to: []string{"jörg@example.org"}, kind: smtp.ErrConfig, reason: "does not offer SMTPUTF8", permanent: true},
		{name: "EHLO name refused", addr: fqdnAddr, opts: smtp.SenderOptions{TLS: smtp.TLSNone, HeloName: "desk"},
			to: []string{"jo@example.org"}, code: 504, permanent: true},
		{name: "no recipient", addr: plainAddr, opts: smtp.SenderOptions{TLS: smtp.TLSNone}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := smtp.NewSender(tt.addr, &tt.opts).Send(context.Background(), "support@shop.example", tt.to, []byte(rendered))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.addr)
			assert.Equal(t, tt.permanent, smtp.IsPermanent(err))
			var p interface{ Permanent() bool }
			require.ErrorAs(t, err, &p, "the Workspace's outbox reads Permanent")
			assert.Equal(t, tt.permanent, p.Permanent())
			var se *gosmtp.SMTPError
			if tt.code != 0 {
				require.ErrorAs(t, err, &se, "the server's reply is wrapped")
				assert.Equal(t, tt.code, se.Code)
			} else {
				assert.False(t, errors.As(err, &se))
			}
			if tt.kind != nil {
				assert.ErrorIs(t, err, tt.kind)
			}
			assert.Contains(t, err.Error(), tt.reason)
		})
	}
	assert.Empty(t, rec.received(), "a refused recipient fails the whole message")
	assert.Empty(t, authRec.received())
}

// A relay that checks the EHLO name sees ours on both greetings of a
// STARTTLS session, and the default is a name it takes, not "localhost".
func TestSenderEHLOName(t *testing.T) {
	serverTLS, clientTLS := testTLS(t)
	for _, tt := range []struct {
		name string
		helo string
		want string
	}{
		{"configured", "desk.shop.example", "desk.shop.example"},
		{"default", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{fqdn: true}
			addr := serveRecorder(t, rec, serverTLS, false, false)
			s := smtp.NewSender(addr, &smtp.SenderOptions{TLSConfig: clientTLS, HeloName: tt.helo})
			require.NoError(t, s.Send(context.Background(), "support@shop.example", []string{"jo@example.org"}, []byte(rendered)))
			got := rec.greetings()
			require.Len(t, got, 2, "one EHLO before STARTTLS, one after")
			assert.Equal(t, got[0], got[1])
			if tt.want != "" {
				assert.Equal(t, tt.want, got[0])
			} else {
				assert.NotEqual(t, "localhost", got[0])
				assert.Contains(t, got[0], ".", "a fully qualified name or an address literal")
			}
			require.Len(t, rec.received(), 1)
			assert.Equal(t, rendered, string(rec.received()[0].Data))
		})
	}
}

// A refused transaction ends with QUIT, as RFC 5321 asks, not a hang-up.
func TestSenderQuitsAfterARefusal(t *testing.T) {
	for _, to := range [][]string{{"gone@example.org"}, {"jo@example.org", "busy@example.org"}} {
		rec := &recorder{refuse: map[string]*gosmtp.SMTPError{
			"gone@example.org": {Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "No such user"},
			"busy@example.org": {Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "Try later"},
		}}
		addr := serveRecorder(t, rec, nil, false, false)
		err := smtp.NewSender(addr, &smtp.SenderOptions{TLS: smtp.TLSNone}).Send(context.Background(), "support@shop.example", to, []byte(rendered))
		require.Error(t, err)
		require.Eventually(t, func() bool { return strings.Contains(rec.dialogue(), "QUIT\r\n221 2.0.0 Bye") }, 5*time.Second, 10*time.Millisecond)
	}
}

func TestSenderHonoursContext(t *testing.T) {
	addr := silent(t) // accepts, never greets
	s := smtp.NewSender(addr, &smtp.SenderOptions{TLS: smtp.TLSNone})
	msg := []byte(rendered)
	to := []string{"jo@example.org"}

	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := s.Send(ctx, "support@shop.example", to, msg)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.False(t, smtp.IsPermanent(err))
		assert.Less(t, time.Since(start), 2*time.Second)
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		start := time.Now()
		err := s.Send(ctx, "support@shop.example", to, msg)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Less(t, time.Since(start), 2*time.Second)
	})
	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		assert.ErrorIs(t, s.Send(ctx, "support@shop.example", to, msg), context.Canceled)
	})
	t.Run("command timeout", func(t *testing.T) {
		s := smtp.NewSender(addr, &smtp.SenderOptions{TLS: smtp.TLSNone, CommandTimeout: 100 * time.Millisecond})
		start := time.Now()
		err := s.Send(context.Background(), "support@shop.example", to, msg)
		var ne interface{ Timeout() bool }
		require.ErrorAs(t, err, &ne)
		assert.True(t, ne.Timeout())
		assert.False(t, smtp.IsPermanent(err))
		assert.Less(t, time.Since(start), 2*time.Second)
	})
	t.Run("STARTTLS command timeout", func(t *testing.T) {
		s := smtp.NewSender(addr, &smtp.SenderOptions{CommandTimeout: 100 * time.Millisecond})
		start := time.Now()
		require.Error(t, s.Send(context.Background(), "support@shop.example", to, msg))
		assert.Less(t, time.Since(start), 2*time.Second)
	})
}

func TestIsPermanent(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("connection reset"), false},
		{&gosmtp.SMTPError{Code: 550}, true},
		{&gosmtp.SMTPError{Code: 554}, true},
		{&gosmtp.SMTPError{Code: 421}, false},
		{context.DeadlineExceeded, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, smtp.IsPermanent(tt.err), "%v", tt.err)
	}
}

func TestTLSModeString(t *testing.T) {
	assert.Equal(t, "starttls", smtp.TLSStartTLS.String())
	assert.Equal(t, "implicit", smtp.TLSImplicit.String())
	assert.Equal(t, "none", smtp.TLSNone.String())
}

// Once the server took the message, Send returns without waiting for the
// answer to QUIT: the outbox records the delivery when Send returns, and
// a crash before that makes the message go again.
func TestSenderDoesNotWaitForQuitsAnswer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	returned := make(chan struct{})
	quitSeen := make(chan bool, 1) // whether Send had returned when QUIT came
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		say := func(s string) { _, _ = io.WriteString(c, s+"\r\n") }
		say("220 relay.example ESMTP")
		inData := false
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
			case inData:
				if cmd == "." {
					inData = false
					say("250 2.0.0 queued")
				}
			case strings.HasPrefix(cmd, "EHLO"):
				say("250 relay.example")
			case cmd == "DATA":
				inData = true
				say("354 go ahead")
			case cmd == "QUIT":
				select {
				case <-returned:
					quitSeen <- true
				case <-time.After(10 * time.Second):
					quitSeen <- false
				}
				say("221 2.0.0 Bye")
				return
			default:
				say("250 2.1.0 ok")
			}
		}
	}()
	err = smtp.NewSender(l.Addr().String(), &smtp.SenderOptions{TLS: smtp.TLSNone}).
		Send(context.Background(), "support@shop.example", []string{"jo@example.org"}, []byte(rendered))
	close(returned)
	require.NoError(t, err)
	assert.True(t, <-quitSeen, "QUIT was said, and Send had returned before its answer")
}
