package smtp_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/store/memory"
	"github.com/emailflow/emailflow/store/postgres"
	transport "github.com/emailflow/emailflow/transport/memory"
	smtp "github.com/emailflow/emailflow/transport/smtp"
)

// largeMessage returns a message of about size bytes: a short text and a
// base64 attachment of random bytes, with its own Message-ID.
func largeMessage(tb testing.TB, id string, size int) string {
	tb.Helper()
	// base64 in lines of 76 with CRLF takes 78 bytes per 57.
	data := make([]byte, (size-1024)/78*57)
	_, _ = rand.Read(data)
	var b strings.Builder
	b.Grow(size)
	b.WriteString("From: Jo <jo@example.org>\r\nTo: support@shop.example\r\nSubject: Scans\r\nMessage-ID: <" + id + "@example.org>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nThe scans.\r\n" +
		"--b\r\nContent-Type: application/pdf; name=scans.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--b--\r\n")
	require.InDelta(tb, size, b.Len(), 2048)
	return b.String()
}

// heapPeak samples the heap (live and not yet swept objects) until stop
// is called, and returns the highest reading.
func heapPeak() (stop func() uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		return peak.Load()
	}
}

// above returns a-b, or 0 when a is not above b.
func above(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return 0
}

// BenchmarkServerLargeMessages sends four 39 MiB messages at once through
// the SMTP server into a Workspace on the memory store (and on
// PostgreSQL when it answers at EMAILFLOW_POSTGRES_DSN or the default
// local address). It samples the heap's live and unswept objects every
// millisecond and reports, each as the worst of the b.N runs:
//
//   - peak-heap-MiB: the highest reading above the heap at the start
//     (after a forced GC), and peak/msg-size, that per message as a
//     multiple of the message's size;
//   - retained-MiB: what is still live after the four are stored and a
//     forced GC, above the start: what the store keeps (the memory store
//     keeps each message's raw bytes and decoded attachments; PostgreSQL
//     keeps nothing on the heap);
//   - transient/msg-size: the peak less what is retained, per message as
//     a multiple of its size: the copies made on the way in.
//
// "spooled" is the server as it is (data above SpoolThreshold in a
// temporary file); "in memory" sets the threshold above the message size.
//
//	go test -run '^$' -bench BenchmarkServerLargeMessages -benchtime 3x ./transport/smtp
func BenchmarkServerLargeMessages(b *testing.B) {
	const size, parallel = 39 << 20, 4
	msgs := make([]string, parallel)
	for i := range msgs {
		msgs[i] = largeMessage(b, fmt.Sprintf("large%d", i), size)
	}
	type mode struct {
		name      string
		threshold int64
		store     func(b *testing.B) emailflow.Store
	}
	mem := func(*testing.B) emailflow.Store { return memory.New(nil) }
	modes := []mode{{"memory store/spooled", 0, mem}, {"memory store/in memory", 64 << 20, mem}}
	dsn := os.Getenv("EMAILFLOW_POSTGRES_DSN")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	if pg, err := postgres.Open(context.Background(), dsn, &postgres.Options{Schema: "emailflow_smtp_bench"}); err == nil {
		pg.Close()
		pgStore := func(b *testing.B) emailflow.Store {
			schema := fmt.Sprintf("emailflow_smtp_bench_%d", time.Now().UnixNano())
			st, err := postgres.Open(context.Background(), dsn, &postgres.Options{Schema: schema})
			require.NoError(b, err)
			b.Cleanup(func() {
				if conn, err := pgx.Connect(context.Background(), dsn); err == nil {
					_, _ = conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
					_ = conn.Close(context.Background())
				}
				st.Close()
			})
			return st
		}
		modes = append(modes, mode{"postgres/spooled", 0, pgStore})
		if conn, err := pgx.Connect(context.Background(), dsn); err == nil {
			_, _ = conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS emailflow_smtp_bench CASCADE")
			_ = conn.Close(context.Background())
		}
	}
	for _, mode := range modes {
		b.Run(mode.name, func(b *testing.B) {
			var worst, retained, transient uint64
			for range b.N {
				st := mode.store(b)
				ws, err := emailflow.New(emailflow.Ports{Store: st, Directory: st.(emailflow.Directory), Sender: &transport.Sender{}}, &emailflow.Options{
					Hostname: "shop.example", Mailboxes: []emailflow.Mailbox{{Address: "support@shop.example"}},
				})
				require.NoError(b, err)
				s := smtp.NewServer(smtp.IngestInto(ws), []string{"support@shop.example"}, &smtp.ServerOptions{Logger: quiet, SpoolThreshold: mode.threshold})
				addr := startServer(b, s)
				runtime.GC()
				var base runtime.MemStats
				runtime.ReadMemStats(&base)
				stop := heapPeak()
				var wg sync.WaitGroup
				for _, m := range msgs {
					wg.Go(func() {
						assert.NoError(b, deliver(b, addr, "jo@example.org", []string{"support@shop.example"}, m))
					})
				}
				wg.Wait()
				peak := stop()
				runtime.GC()
				var after runtime.MemStats
				runtime.ReadMemStats(&after)
				p, r := above(peak, base.HeapAlloc), above(after.HeapAlloc, base.HeapAlloc)
				worst, retained, transient = max(worst, p), max(retained, r), max(transient, above(p, r))
				require.NoError(b, s.Close())
				require.Len(b, interactions(b, ws), parallel)
			}
			b.ReportMetric(float64(worst)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(worst)/parallel/float64(size), "peak/msg-size")
			b.ReportMetric(float64(retained)/(1<<20), "retained-MiB")
			b.ReportMetric(float64(transient)/parallel/float64(size), "transient/msg-size")
		})
	}
}

// A message above the spool threshold goes through a temporary file in
// TempDir, whole; one below does not need it.
func TestServerSpoolsLargeMessages(t *testing.T) {
	big := largeMessage(t, "big", 200<<10)
	k := &sink{}
	dir := t.TempDir()
	addr := startServer(t, smtp.NewServer(k.ingest, []string{"support@shop.example"}, &smtp.ServerOptions{Logger: quiet, SpoolThreshold: 64 << 10, TempDir: dir}))
	require.NoError(t, deliver(t, addr, "jo@example.org", []string{"support@shop.example"}, big))
	require.Len(t, k.calls(), 1)
	assert.Equal(t, big, k.calls()[0].Raw)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "the temporary file is gone")

	// The same server without a place for its files: the large message
	// is refused for now (451), the small one still taken.
	k2 := &sink{}
	missing := filepath.Join(dir, "missing")
	addr2 := startServer(t, smtp.NewServer(k2.ingest, []string{"support@shop.example"}, &smtp.ServerOptions{Logger: quiet, SpoolThreshold: 64 << 10, TempDir: missing}))
	err = deliver(t, addr2, "jo@example.org", []string{"support@shop.example"}, big)
	var se *gosmtp.SMTPError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 451, se.Code)
	require.NoError(t, deliver(t, addr2, "jo@example.org", []string{"support@shop.example"}, inbound))
	require.Len(t, k2.calls(), 1)
}

// A message kept in memory (below the spool threshold, across several of
// the memory's blocks) reaches every mailbox whole, the last reader
// included, which lets the data go as it reads it.
func TestServerMemoryDataToManyMailboxes(t *testing.T) {
	boxes := []string{"support@shop.example", "sales@shop.example", "billing@shop.example"}
	for _, size := range []int{3 << 10, 300 << 10} {
		msg := largeMessage(t, fmt.Sprintf("m%d", size), size)
		k := &sink{}
		addr := startServer(t, smtp.NewServer(k.ingest, boxes, &smtp.ServerOptions{Logger: quiet, SpoolThreshold: 1 << 20}))
		require.NoError(t, deliver(t, addr, "jo@example.org", boxes, msg))
		calls := k.calls()
		require.Len(t, calls, len(boxes))
		for i, c := range calls {
			assert.Equal(t, boxes[i], c.Mailbox)
			assert.Equal(t, msg, c.Raw, "size %d, mailbox %s", size, c.Mailbox)
		}
	}
}
