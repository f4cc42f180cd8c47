package smtp_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
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

// rawClient speaks SMTP byte by byte, as an attacker or a broken client
// would.
type rawClient struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return &rawClient{t: t, c: c, r: bufio.NewReader(c)}
}

func (rc *rawClient) send(s string) {
	rc.t.Helper()
	_, err := io.WriteString(rc.c, s)
	require.NoError(rc.t, err)
}

// reply reads one (possibly multi-line) reply and returns its code and
// text; code 0 when the connection ended first. The deadline only keeps
// a failing test from hanging.
func (rc *rawClient) reply() (int, string) {
	rc.t.Helper()
	_ = rc.c.SetReadDeadline(time.Now().Add(30 * time.Second))
	var text strings.Builder
	for {
		line, err := rc.r.ReadString('\n')
		if err != nil {
			return 0, text.String() + line
		}
		text.WriteString(line)
		if len(line) >= 4 && line[3] == ' ' {
			var code int
			_, _ = fmt.Sscanf(line[:3], "%d", &code)
			return code, text.String()
		}
	}
}

func (rc *rawClient) expect(code int) string {
	rc.t.Helper()
	got, text := rc.reply()
	require.Equal(rc.t, code, got, text)
	return text
}

// closed reports whether the server closed the connection (after any
// reply still pending).
func (rc *rawClient) closed() bool {
	_ = rc.c.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, err := io.ReadAll(rc.r)
	// EOF, or a reset when the client was still writing as the server
	// closed: either way the server hung up. Only a timeout means it did
	// not.
	var ne net.Error
	return !errors.As(err, &ne) || !ne.Timeout()
}

// hello greets and starts a transaction for support@shop.example.
func (rc *rawClient) hello() {
	rc.t.Helper()
	rc.expect(220)
	rc.send("EHLO client.example.org\r\n")
	rc.expect(250)
	rc.send("MAIL FROM:<jo@example.org>\r\n")
	rc.expect(250)
	rc.send("RCPT TO:<support@shop.example>\r\n")
	rc.expect(250)
}

func TestServerBDAT(t *testing.T) {
	msg := inbound
	tests := []struct {
		name   string
		send   func(rc *rawClient)
		code   int // the reply to the last chunk sent
		stored bool
	}{
		{name: "in one chunk", send: func(rc *rawClient) {
			rc.send(fmt.Sprintf("BDAT %d LAST\r\n%s", len(msg), msg))
		}, code: 250, stored: true},
		{name: "in chunks, pipelined", send: func(rc *rawClient) {
			rc.send(fmt.Sprintf("BDAT 10\r\n%sBDAT %d LAST\r\n%s", msg[:10], len(msg)-10, msg[10:]))
			rc.expect(250)
		}, code: 250, stored: true},
		{name: "with a line of 5,000 bytes", send: func(rc *rawClient) {
			long := msg + strings.Repeat("x", 5000) + "\r\n"
			rc.send(fmt.Sprintf("BDAT %d LAST\r\n%s", len(long), long))
		}, code: 250, stored: true},
		{name: "last chunk cut by the connection", send: func(rc *rawClient) {
			rc.send(fmt.Sprintf("BDAT %d LAST\r\n%s", len(msg), msg[:len(msg)/2]))
			require.NoError(t, rc.c.(*net.TCPConn).CloseWrite())
		}, code: 451},
		{name: "a middle chunk cut by the connection", send: func(rc *rawClient) {
			rc.send(fmt.Sprintf("BDAT %d\r\n%s", len(msg), msg[:10]))
			require.NoError(t, rc.c.(*net.TCPConn).CloseWrite())
		}, code: 250}, // go-smtp's "Continue": the message never ends
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := &sink{}
			addr := startServer(t, smtp.NewServer(k.ingest, []string{"support@shop.example"}, &smtp.ServerOptions{Logger: quiet}))
			rc := dialRaw(t, addr)
			rc.hello()
			tt.send(rc)
			code, text := rc.reply()
			assert.Equal(t, tt.code, code, text)
			if !tt.stored {
				// Whatever the server did, the sending server's retry of
				// the whole message must be taken in whole, once.
				require.NoError(t, deliver(t, addr, "jo@example.org", []string{"support@shop.example"}, msg))
			}
			calls := k.calls()
			require.Len(t, calls, 1, "nothing partial is ingested")
			assert.True(t, strings.HasPrefix(calls[0].Raw, msg), "the message whole")
		})
	}
}

func TestServerTimeLimits(t *testing.T) {
	opts := func() *smtp.ServerOptions {
		return &smtp.ServerOptions{Logger: quiet, IdleTimeout: 300 * time.Millisecond, CommandTimeout: 300 * time.Millisecond, MessageTimeout: 300 * time.Millisecond}
	}
	t.Run("idle client", func(t *testing.T) {
		addr := startServer(t, smtp.NewServer((&sink{}).ingest, []string{"support@shop.example"}, opts()))
		rc := dialRaw(t, addr)
		rc.expect(220)
		text := rc.expect(421)
		assert.Contains(t, text, "4.4.2")
		assert.True(t, rc.closed())
	})
	t.Run("slow command line", func(t *testing.T) {
		addr := startServer(t, smtp.NewServer((&sink{}).ingest, []string{"support@shop.example"}, opts()))
		rc := dialRaw(t, addr)
		rc.expect(220)
		// A byte every 100 ms: each read is in time, the line is not.
		go func() {
			for _, b := range []byte("EHLO a-very-slow.example.org\r\n") {
				if _, err := rc.c.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
		rc.expect(421)
		assert.True(t, rc.closed())
	})
	for _, bdat := range []bool{false, true} {
		t.Run(fmt.Sprintf("slow message, BDAT %v", bdat), func(t *testing.T) {
			k := &sink{}
			addr := startServer(t, smtp.NewServer(k.ingest, []string{"support@shop.example"}, opts()))
			rc := dialRaw(t, addr)
			rc.hello()
			if bdat {
				rc.send("BDAT 1000 LAST\r\n")
			} else {
				rc.send("DATA\r\n")
				rc.expect(354)
			}
			go func() {
				for range 20 {
					if _, err := rc.c.Write([]byte("x")); err != nil {
						return
					}
					time.Sleep(100 * time.Millisecond)
				}
			}()
			text := rc.expect(451) // temporary: the sending server retries
			assert.Contains(t, text, "4.4.2")
			assert.Empty(t, k.calls())
		})
	}
}

func TestServerLongLines(t *testing.T) {
	k := &sink{}
	addr := startServer(t, smtp.NewServer(k.ingest, []string{"support@shop.example"}, &smtp.ServerOptions{Logger: quiet}))
	long := inbound + strings.Repeat("y", 20000) + "\r\n" + strings.Repeat("é", 3000) + "\r\n"
	require.NoError(t, deliver(t, addr, "jo@example.org", []string{"support@shop.example"}, long))
	require.Len(t, k.calls(), 1)
	assert.Equal(t, long, k.calls()[0].Raw)

	// A command line is bounded.
	rc := dialRaw(t, addr)
	rc.expect(220)
	rc.send("EHLO " + strings.Repeat("a", 5000) + "\r\n")
	rc.expect(500)
	assert.True(t, rc.closed())
}

func TestServerConnectionLimits(t *testing.T) {
	t.Run("per address", func(t *testing.T) {
		addr := startServer(t, smtp.NewServer((&sink{}).ingest, []string{"support@shop.example"}, &smtp.ServerOptions{Logger: quiet, MaxConnectionsPerIP: 3, MaxConnections: 10}))
		var held []*rawClient
		for range 3 {
			rc := dialRaw(t, addr)
			rc.expect(220)
			held = append(held, rc)
		}
		extra := dialRaw(t, addr)
		text := extra.expect(421)
		assert.Contains(t, text, "Too many connections from your address")
		assert.True(t, extra.closed())

		// One leaves: a place is free again.
		held[0].send("QUIT\r\n")
		held[0].expect(221)
		require.Eventually(t, func() bool {
			rc := dialRaw(t, addr)
			code, _ := rc.reply()
			return code == 220
		}, 10*time.Second, 20*time.Millisecond)
	})
	t.Run("in all", func(t *testing.T) {
		addr := startServer(t, smtp.NewServer((&sink{}).ingest, []string{"support@shop.example"}, &smtp.ServerOptions{Logger: quiet, MaxConnectionsPerIP: 10, MaxConnections: 2}))
		for range 2 {
			dialRaw(t, addr).expect(220)
		}
		text := dialRaw(t, addr).expect(421)
		assert.Contains(t, text, "Too many connections")
	})
	t.Run("idle flood", func(t *testing.T) {
		k := &sink{}
		addr := startServer(t, smtp.NewServer(k.ingest, []string{"support@shop.example"}, &smtp.ServerOptions{Logger: quiet, MaxConnectionsPerIP: 20, MaxConnections: 20}))
		refused := 0
		for range 200 {
			c, err := net.Dial("tcp", addr)
			require.NoError(t, err)
			t.Cleanup(func() { _ = c.Close() })
			line, _ := bufio.NewReader(c).ReadString('\n')
			if strings.HasPrefix(line, "421 ") {
				refused++
			}
		}
		assert.Equal(t, 180, refused, "20 held, the others told to come back")
	})
}

func TestServerPipelinedGarbage(t *testing.T) {
	k := &sink{}
	addr := startServer(t, smtp.NewServer(k.ingest, []string{"support@shop.example"}, &smtp.ServerOptions{Logger: quiet}))
	rc := dialRaw(t, addr)
	rc.expect(220)
	garbage := "EHLO x\r\n\x00\x01\x02 garbage\r\nMAIL FROM:<<<>>>\r\nRCPT TO:nobody\r\nXYZZ y\r\nDATA\r\nnot a message\r\n.\r\nBDAT x\r\nBDAT 5 NOTLAST\r\n"
	rc.send(strings.Repeat(garbage, 20))
	codes := map[int]int{}
	for {
		code, _ := rc.reply()
		if code == 0 {
			break
		}
		codes[code]++
	}
	assert.Positive(t, codes[250], "the EHLO")
	assert.Zero(t, codes[354], "no data phase without a transaction")
	assert.Positive(t, codes[500]+codes[501]+codes[502])
	assert.Empty(t, k.calls())
	// The server goes on serving others.
	require.NoError(t, deliver(t, addr, "jo@example.org", []string{"support@shop.example"}, inbound))
	assert.Len(t, k.calls(), 1)
}

func TestServerReturnsErrServerClosed(t *testing.T) {
	for _, stop := range []string{"Close", "Shutdown"} {
		t.Run(stop, func(t *testing.T) {
			s := smtp.NewServer((&sink{}).ingest, []string{"support@shop.example"}, &smtp.ServerOptions{Logger: quiet})
			l, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			done := make(chan error, 1)
			go func() { done <- s.Serve(l) }()
			rc := dialRaw(t, l.Addr().String())
			rc.expect(220) // serving
			rc.send("QUIT\r\n")
			rc.expect(221)
			if stop == "Close" {
				require.NoError(t, s.Close())
			} else {
				require.NoError(t, s.Shutdown(context.Background()))
			}
			assert.ErrorIs(t, <-done, gosmtp.ErrServerClosed)
			assert.ErrorIs(t, s.ListenAndServe("127.0.0.1:0"), gosmtp.ErrServerClosed)
			assert.True(t, errors.Is(s.Serve(l), gosmtp.ErrServerClosed))
		})
	}
}

// After STARTTLS the server forgets the session (RFC 3207 section 4.2):
// plain-text commands pipelined after STARTTLS are dropped, the client
// greets again before a transaction, and STARTTLS is not offered twice.
func TestServerSTARTTLSForgets(t *testing.T) {
	serverTLS, clientTLS := testTLS(t)
	k := &sink{}
	addr := startServer(t, smtp.NewServer(k.ingest, []string{"support@shop.example"}, &smtp.ServerOptions{Logger: quiet, TLSConfig: serverTLS}))
	rc := dialRaw(t, addr)
	rc.expect(220)
	rc.send("EHLO client.example.org\r\n")
	assert.Contains(t, rc.expect(250), "STARTTLS")
	rc.send("MAIL FROM:<jo@example.org>\r\n")
	rc.expect(250)
	rc.send("STARTTLS\r\nRCPT TO:<support@shop.example>\r\n") // the RCPT is an injection
	rc.expect(220)
	cfg := clientTLS.Clone()
	cfg.ServerName = "127.0.0.1"
	tc := tls.Client(rc.c, cfg)
	require.NoError(t, tc.Handshake())
	rc.c, rc.r = tc, bufio.NewReader(tc)

	rc.send("RCPT TO:<support@shop.example>\r\n")
	rc.expect(503)
	rc.send("EHLO client.example.org\r\n")
	assert.NotContains(t, rc.expect(250), "STARTTLS")
	rc.send("STARTTLS\r\n")
	rc.expect(503)
	rc.send("RCPT TO:<support@shop.example>\r\n")
	rc.expect(502) // go-smtp: no MAIL FROM any more
	rc.send("MAIL FROM:<jo@example.org>\r\nRCPT TO: <Postmaster>\r\nDATA\r\n")
	rc.expect(250)
	rc.expect(250)
	rc.expect(354)
	rc.send(strings.ReplaceAll(inbound, "\r\n.", "\r\n..") + ".\r\n") // dot-stuffed
	rc.expect(250)
	require.Len(t, k.calls(), 1)
	assert.Equal(t, inbound, k.calls()[0].Raw)
	trace, _ := k.trace(0)
	assert.Contains(t, trace, "with ESMTPS id")
}
