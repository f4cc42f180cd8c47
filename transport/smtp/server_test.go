package smtp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	smtp "github.com/emailflow/emailflow/transport/smtp"
)

// ingested is one call of the IngestFunc: the message as the client
// sent it, after the trace fields the server prepends.
type ingested struct {
	Mailbox string
	Raw     string
}

// sink is an IngestFunc that records its calls, failing for the mailboxes
// in fail.
type sink struct {
	mu     sync.Mutex
	got    []ingested
	traces []string             // the trace fields of each call
	envs   []emailflow.Envelope // the envelope of each call
	fail   map[string]error
}

func (k *sink) ingest(_ context.Context, mailbox string, r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if err := k.fail[mailbox]; err != nil {
		return err
	}
	trace, rest := splitTrace(string(b))
	var env emailflow.Envelope
	if er, ok := r.(emailflow.EnvelopeReader); ok {
		env = er.Envelope()
	}
	k.mu.Lock()
	k.got = append(k.got, ingested{mailbox, rest})
	k.traces = append(k.traces, trace)
	k.envs = append(k.envs, env)
	k.mu.Unlock()
	return nil
}

// splitTrace splits the leading Return-Path and Received fields from raw.
func splitTrace(raw string) (trace, rest string) {
	rest = raw
	for strings.HasPrefix(rest, "Return-Path:") || strings.HasPrefix(rest, "Received:") || strings.HasPrefix(rest, "\t") {
		i := strings.Index(rest, "\r\n")
		if i < 0 {
			break
		}
		rest = rest[i+2:]
	}
	return raw[:len(raw)-len(rest)], rest
}

func (k *sink) calls() []ingested {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]ingested(nil), k.got...)
}

func (k *sink) trace(i int) (string, emailflow.Envelope) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.traces[i], k.envs[i]
}

var quiet = slog.New(slog.DiscardHandler)

// startServer serves s on 127.0.0.1 and returns its address.
func startServer(t testing.TB, s *smtp.Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	serve(t, func() error { return s.Serve(l) }, s.Close)
	return l.Addr().String()
}

// deliver sends msg with go-smtp's client and returns the reply to the
// first refused command (nil when the message was accepted).
func deliver(t testing.TB, addr, from string, to []string, msg string) error {
	t.Helper()
	c, err := gosmtp.Dial(addr)
	require.NoError(t, err)
	defer c.Close()
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt, nil); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, struct{ io.Reader }{strings.NewReader(msg)}); err != nil { // in pieces, never a copy of msg
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

const inbound = "From: Jo <jo@example.org>\r\n" +
	"To: support@shop.example, sales@shop.example\r\n" +
	"Subject: Where is my parcel?\r\n" +
	"Message-ID: <1@example.org>\r\n" +
	"\r\n" +
	"Hello,\r\n" +
	".order 42 has not arrived.\r\n"

func TestServer(t *testing.T) {
	mailboxes := []string{"support@shop.example", "Sales <Sales@Shop.Example>"}
	tests := []struct {
		name  string
		to    []string
		msg   string
		fail  map[string]error
		max   int64
		code  int // the reply refusing the message; 0 when accepted
		calls []ingested
	}{
		{name: "accepted for each mailbox once", to: []string{"support@shop.example", "SALES@shop.example", "support@shop.example"}, msg: inbound,
			calls: []ingested{{"support@shop.example", inbound}, {"Sales@Shop.Example", inbound}}},
		{name: "unknown recipient", to: []string{"nobody@shop.example"}, msg: inbound, code: 550},
		{name: "ingest fails", to: []string{"support@shop.example"}, msg: inbound,
			fail: map[string]error{"support@shop.example": errors.New("database down")}, code: 451},
		{name: "ingest fails for the second mailbox", to: []string{"support@shop.example", "sales@shop.example"}, msg: inbound,
			fail: map[string]error{"Sales@Shop.Example": errors.New("database down")}, code: 451,
			calls: []ingested{{"support@shop.example", inbound}}}, // taken in, yet not acknowledged: the retry is de-duplicated by Ingest
		{name: "too large for the server", to: []string{"support@shop.example"}, msg: inbound + strings.Repeat("x", 200) + "\r\n", max: 200, code: 552},
		{name: "too large for the Workspace", to: []string{"support@shop.example"}, msg: inbound,
			fail: map[string]error{"support@shop.example": fmt.Errorf("%w: message is over 10 bytes", emailflow.ErrTooLarge)}, code: 552},
		{name: "rejected by the filters", to: []string{"support@shop.example"}, msg: inbound,
			fail: map[string]error{"support@shop.example": fmt.Errorf("%w by sender-list: sender rule example.org", emailflow.ErrRejected)}, code: 550},
		{name: "rejected for one mailbox, taken in by the other", to: []string{"support@shop.example", "sales@shop.example"}, msg: inbound,
			fail:  map[string]error{"support@shop.example": fmt.Errorf("%w by filter 1: spam", emailflow.ErrRejected)},
			calls: []ingested{{"Sales@Shop.Example", inbound}}},
		{name: "ingest's own reply", to: []string{"support@shop.example"}, msg: inbound,
			fail: map[string]error{"support@shop.example": &gosmtp.SMTPError{Code: 554, EnhancedCode: gosmtp.EnhancedCode{5, 7, 1}, Message: "Spam"}}, code: 554},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := &sink{fail: tt.fail}
			addr := startServer(t, smtp.NewServer(k.ingest, mailboxes, &smtp.ServerOptions{MaxMessageBytes: tt.max, Logger: quiet}))
			err := deliver(t, addr, "jo@example.org", tt.to, tt.msg)
			if tt.code == 0 {
				require.NoError(t, err)
			} else {
				var se *gosmtp.SMTPError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, tt.code, se.Code, se.Message)
			}
			assert.Equal(t, tt.calls, k.calls())
		})
	}
}

func TestServerNullSenderAndSTARTTLS(t *testing.T) {
	serverTLS, clientTLS := testTLS(t)
	k := &sink{}
	addr := startServer(t, smtp.NewServer(k.ingest, []string{"support@shop.example"}, &smtp.ServerOptions{TLSConfig: serverTLS, Domain: "mx.shop.example", Logger: quiet}))
	c, err := gosmtp.DialStartTLS(addr, clientTLS)
	require.NoError(t, err)
	require.NoError(t, c.SendMail("", []string{"support@shop.example"}, strings.NewReader(inbound))) // a bounce
	require.NoError(t, c.Quit())
	assert.Equal(t, []ingested{{"support@shop.example", inbound}}, k.calls())
}

func TestServerCloseCancelsIngest(t *testing.T) {
	started := make(chan struct{})
	ingest := func(ctx context.Context, _ string, r io.Reader) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}
	s := smtp.NewServer(ingest, []string{"support@shop.example"}, &smtp.ServerOptions{Logger: quiet})
	addr := startServer(t, s)
	errc := make(chan error, 1)
	go func() {
		c, err := gosmtp.Dial(addr)
		if err != nil {
			errc <- err
			return
		}
		defer c.Close()
		errc <- c.SendMail("jo@example.org", []string{"support@shop.example"}, strings.NewReader(inbound))
	}()
	<-started
	require.NoError(t, s.Close())
	select {
	case err := <-errc:
		assert.Error(t, err, "a message whose ingestion was cut short is not acknowledged")
	case <-time.After(5 * time.Second):
		t.Fatal("Close left the session hanging")
	}
}

func TestServerIngestTimeout(t *testing.T) {
	ingest := func(ctx context.Context, _ string, r io.Reader) error {
		<-ctx.Done()
		return ctx.Err()
	}
	addr := startServer(t, smtp.NewServer(ingest, []string{"support@shop.example"}, &smtp.ServerOptions{IngestTimeout: 50 * time.Millisecond, Logger: quiet}))
	err := deliver(t, addr, "jo@example.org", []string{"support@shop.example"}, inbound)
	var se *gosmtp.SMTPError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 451, se.Code)
}

func TestServerListenAndServe(t *testing.T) {
	k := &sink{}
	s := smtp.NewServer(k.ingest, []string{"support@shop.example"}, &smtp.ServerOptions{Logger: quiet})
	assert.Error(t, s.ListenAndServe("127.0.0.1:-1"), "a bad address is refused")
	require.NoError(t, s.Shutdown(context.Background()))
}
