package imap_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	eimap "github.com/emailflow/emailflow/transport/imap"
)

// benchMessages is how many messages each operation of BenchmarkDovecot
// reads: the varied messages of TestDovecot but the 30 MB one; 20 with
// -short, for a smoke run.
func benchMessages() int {
	if testing.Short() {
		return 20
	}
	return 499
}

// BenchmarkDovecot: messages per second from a real Dovecot into a
// Workspace on the memory store, beside a bare imapclient loop fetching
// the same messages whole, in the same run. Each operation reads the
// whole folder over a new connection.
//
//   - Ingester: a desk that read the folder before (a checkpoint at its
//     start): listing, sizes, bodies streamed into Ingest, checkpoints.
//   - FirstRun: a desk without a checkpoint, which also reads each
//     message's Message-ID to skip those it already has.
//   - BareFetch: one UID FETCH 1:* (BODY.PEEK[]), each body read into
//     memory.
//   - Paired: in each operation the Ingester and the bare loop one after
//     the other (in turn first), reporting both rates and their ratio, so
//     that the shared machine's slow spells weigh on both alike.
func BenchmarkDovecot(b *testing.B) {
	dc := dovecot(b)
	inbox, _ := dc.folders(b)
	dc.appendAll(b, inbox, variedMessages(benchMessages()))
	validity := dc.validity(b, inbox)
	ingest := func(b *testing.B, checkpoint bool) (time.Duration, int64) {
		d := newDesk(b)
		mb := eimap.Mailbox{Addr: dc.addr, TLS: eimap.TLSNone, InsecureLoopbackAuth: true, Username: dc.user, Password: dc.password,
			Folder: inbox, Deliver: deliver}
		if checkpoint {
			_, err := d.ws.SaveCheckpoint(context.Background(), emailflow.Checkpoint{Source: mb.Name(), Validity: validity})
			require.NoError(b, err)
		}
		in, err := eimap.NewIngester(d.ws, []eimap.Mailbox{mb}, nil)
		require.NoError(b, err)
		start := time.Now()
		require.NoError(b, in.Sync(context.Background()))
		took := time.Since(start)
		count, _, _ := emailsByNumber(b, d, 0)
		require.Len(b, count, benchMessages())
		return took, folderBytes(b, d)
	}
	for _, tc := range []struct {
		name       string
		checkpoint bool
	}{{"Ingester", true}, {"FirstRun", false}} {
		b.Run(tc.name, func(b *testing.B) {
			var took time.Duration
			var size int64
			for range b.N {
				d, n := ingest(b, tc.checkpoint)
				took, size = took+d, n
			}
			report(b, "", took, size)
		})
	}
	b.Run("BareFetch", func(b *testing.B) {
		var took time.Duration
		var size int64
		for range b.N {
			start := time.Now()
			n, bytes := bareFetch(b, dc, inbox)
			took += time.Since(start)
			require.Equal(b, benchMessages(), n)
			size = bytes
		}
		report(b, "", took, size)
	})
	b.Run("Paired", func(b *testing.B) {
		var in, bare time.Duration
		for i := range b.N {
			if i%2 == 1 {
				start := time.Now()
				bareFetch(b, dc, inbox)
				bare += time.Since(start)
			}
			d, _ := ingest(b, true)
			in += d
			if i%2 == 0 {
				start := time.Now()
				bareFetch(b, dc, inbox)
				bare += time.Since(start)
			}
		}
		b.ReportMetric(float64(benchMessages()*b.N)/in.Seconds(), "ingest-msgs/s")
		b.ReportMetric(float64(benchMessages()*b.N)/bare.Seconds(), "bare-msgs/s")
		b.ReportMetric(bare.Seconds()/in.Seconds(), "ratio")
	})
}

// report gives the rate of the timed part of the operations.
func report(b *testing.B, prefix string, took time.Duration, bytes int64) {
	b.ReportMetric(float64(benchMessages()*b.N)/took.Seconds(), prefix+"msgs/s")
	b.ReportMetric(float64(bytes*int64(b.N))/took.Seconds()/(1<<20), prefix+"MB/s")
}

// folderBytes is the size of every raw message the desk stored.
func folderBytes(b *testing.B, d *desk) int64 {
	var n int64
	its, err := d.ws.As(admin).Interactions(context.Background(), emailflow.Query{})
	require.NoError(b, err)
	for _, it := range its {
		emails, err := d.ws.As(admin).Emails(context.Background(), it.ID)
		require.NoError(b, err)
		for _, e := range emails {
			n += int64(len(e.Raw))
		}
	}
	return n
}

// bareFetch reads every message of folder whole into memory, as plainly
// as imapclient allows: one UID FETCH 1:* (BODY.PEEK[]).
func bareFetch(b testing.TB, dc dovecotServer, folder string) (int, int64) {
	c, err := imapclient.DialInsecure(dc.addr, nil)
	require.NoError(b, err)
	defer c.Close()
	require.NoError(b, c.Login(dc.user, dc.password).Wait())
	_, err = c.Select(folder, nil).Wait()
	require.NoError(b, err)
	n, size := bareFetchOn(b, c)
	require.NoError(b, c.Logout().Wait())
	return n, size
}

// bareFetchOn fetches every message of the selected folder.
func bareFetchOn(b testing.TB, c *imapclient.Client) (int, int64) {
	cmd := c.Fetch(imap.UIDSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
	n, size := 0, int64(0)
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		for item := msg.Next(); item != nil; item = msg.Next() {
			if body, ok := item.(imapclient.FetchItemDataBodySection); ok && body.Literal != nil {
				raw, err := io.ReadAll(body.Literal)
				require.NoError(b, err)
				n++
				size += int64(len(raw))
			}
		}
	}
	require.NoError(b, cmd.Close())
	return n, size
}

// validity is folder's UIDVALIDITY.
func (d dovecotServer) validity(t testing.TB, folder string) uint32 {
	t.Helper()
	c := d.client(t)
	data, err := c.Status(folder, &imap.StatusOptions{UIDValidity: true}).Wait()
	require.NoError(t, err)
	require.NoError(t, c.Logout().Wait())
	return data.UIDValidity
}
