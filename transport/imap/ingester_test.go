package imap_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/store/storetest"
	eimap "github.com/emailflow/emailflow/transport/imap"
)

func TestAfterIngest(t *testing.T) {
	withMove := imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapMove: {}, imap.CapUIDPlus: {}}
	uidPlusOnly := imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapUIDPlus: {}}
	bare := imap.CapSet{imap.CapIMAP4rev1: {}}
	seen := []imap.Flag{imap.FlagSeen}
	deleted := []imap.Flag{imap.FlagDeleted}
	tests := []struct {
		name    string
		caps    imap.CapSet
		after   eimap.Action
		inbox   []imap.Flag // flags of each message left in INBOX; nil: INBOX empty
		archive bool        // the messages are in Archive
	}{
		{"Leave", withMove, eimap.Leave, []imap.Flag{}, false},
		{"MarkSeen", withMove, eimap.MarkSeen, seen, false},
		{"MoveWithMOVE", withMove, eimap.Move, nil, true},
		{"MoveWithCOPYAndUIDEXPUNGE", uidPlusOnly, eimap.Move, nil, true},
		// Without UIDPLUS an EXPUNGE would remove others' deleted mail too.
		{"MoveWithoutUIDPLUS", bare, eimap.Move, deleted, true},
		{"Delete", withMove, eimap.Delete, nil, false},
		{"DeleteWithoutUIDPLUS", bare, eimap.Delete, deleted, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, serverOptions{caps: tc.caps})
			srv.append("INBOX", nil, messages(1, 7)...)
			d := newDesk(t)
			mb := srv.mailbox()
			mb.After, mb.MoveTo = tc.after, "Archive"
			in, err := eimap.NewIngester(d.ws, []eimap.Mailbox{mb}, &eimap.Options{Window: 3})
			require.NoError(t, err)
			require.NoError(t, in.Sync(t.Context()))
			d.requireOnce(t, 1, 7)

			inbox := srv.folder("INBOX")
			if tc.inbox == nil {
				assert.Empty(t, inbox)
			} else {
				require.Len(t, inbox, 7)
				for id, flags := range inbox {
					assert.ElementsMatch(t, tc.inbox, flags, id)
				}
			}
			if tc.archive {
				archive := srv.folder("Archive")
				assert.Len(t, archive, 7)
				for id, flags := range archive {
					assert.NotContains(t, flags, imap.FlagDeleted, id)
				}
			}

			// Nothing is taken in again, whatever the folder's state.
			require.NoError(t, in.Sync(t.Context()))
			d.requireOnce(t, 1, 7)
			cp, err := d.ws.Checkpoint(t.Context(), "imap://support@"+srv.addr+"/INBOX")
			require.NoError(t, err)
			assert.EqualValues(t, 7, cp.Last)
		})
	}
}

func TestSkipsDeleted(t *testing.T) {
	srv := newServer(t, serverOptions{})
	srv.append("INBOX", nil, message(1))
	srv.append("INBOX", []imap.Flag{imap.FlagDeleted}, message(2))
	srv.append("INBOX", nil, message(3))
	d := newDesk(t)
	in, err := eimap.NewIngester(d.ws, []eimap.Mailbox{srv.mailbox()}, nil)
	require.NoError(t, err)
	require.NoError(t, in.Sync(t.Context()))
	count, _ := d.taken(t)
	assert.Equal(t, map[string]int{msgID(1): 1, msgID(3): 1}, count)
	assert.False(t, srv.fetchedWhole(2), "a deleted message is not fetched")
}

// TestRestartMidBatch: an Ingester stopped in the middle of a window (its
// context cancelled while it fetches) and a new one started take in every
// message exactly once, and leave the folder as configured.
func TestRestartMidBatch(t *testing.T) {
	for _, after := range []eimap.Action{eimap.Leave, eimap.Move} {
		t.Run(after.String(), func(t *testing.T) {
			srv := newServer(t, serverOptions{})
			srv.append("INBOX", nil, messages(1, 23)...)
			// Stopped as the 8th message is taken in: the second window of
			// 5 is half done.
			d, ctx := stopDesk(t, 8)
			mb := srv.mailbox()
			mb.After, mb.MoveTo = after, "Archive"
			first, err := eimap.NewIngester(d.ws, []eimap.Mailbox{mb}, &eimap.Options{Window: 5})
			require.NoError(t, err)
			err = first.Sync(ctx)
			require.ErrorIs(t, err, context.Canceled)
			count, _ := d.taken(t)
			assert.Len(t, count, 7, "messages 1 to 7 are in")
			cp, err := d.ws.Checkpoint(t.Context(), mb.Name())
			require.NoError(t, err)
			assert.EqualValues(t, 5, cp.Last, "only the first window is done")
			if after == eimap.Move {
				assert.Len(t, srv.folder("INBOX"), 18, "the second window was not moved")
			}

			second, err := eimap.NewIngester(d.ws, []eimap.Mailbox{mb}, &eimap.Options{Window: 5})
			require.NoError(t, err)
			require.NoError(t, second.Sync(t.Context()))
			d.requireOnce(t, 1, 23)
			if after == eimap.Move {
				assert.Empty(t, srv.folder("INBOX"))
				assert.Len(t, srv.folder("Archive"), 23)
			} else {
				assert.Len(t, srv.folder("INBOX"), 23)
			}
			cp, err = d.ws.Checkpoint(t.Context(), mb.Name())
			require.NoError(t, err)
			assert.EqualValues(t, 23, cp.Last)
		})
	}
}

func TestUIDValidityChange(t *testing.T) {
	srv := newServer(t, serverOptions{})
	srv.append("INBOX", nil, messages(1, 4)...)
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	d := newDesk(t)
	in, err := eimap.NewIngester(d.ws, []eimap.Mailbox{srv.mailbox()}, &eimap.Options{Logger: log})
	require.NoError(t, err)
	require.NoError(t, in.Sync(t.Context()))
	d.requireOnce(t, 1, 4)
	before, err := d.ws.Checkpoint(t.Context(), srv.mailbox().Name())
	require.NoError(t, err)

	// The folder is rebuilt (a server migration, a restored backup): new
	// UIDVALIDITY, the same messages under new UIDs, and new ones.
	require.NoError(t, srv.user.Delete("INBOX"))
	require.NoError(t, srv.user.Create("INBOX", nil))
	uids := srv.append("INBOX", nil, messages(1, 6)...)
	srv.mu.Lock()
	srv.whole = nil
	srv.mu.Unlock()

	require.NoError(t, in.Sync(t.Context()))
	d.requireOnce(t, 1, 6)
	for i, uid := range uids {
		assert.Equal(t, i >= 4, srv.fetchedWhole(uid), "message %d fetched again: only the new ones are", i+1)
	}
	after, err := d.ws.Checkpoint(t.Context(), srv.mailbox().Name())
	require.NoError(t, err)
	assert.NotEqual(t, before.Validity, after.Validity)
	assert.Equal(t, uint32(uids[len(uids)-1]), after.Last)
	assert.Contains(t, logs.String(), "UIDVALIDITY changed")
}

func TestOversize(t *testing.T) {
	big := append(message(2)[:0:0], message(2)...)
	big = append(big, strings.Repeat("Pièce jointe énorme. ", 2000)...) // 44 KB
	tests := []struct {
		after eimap.Action
		// what becomes of the large message in INBOX; nil: moved
		inbox []imap.Flag
	}{
		{eimap.Leave, []imap.Flag{}},
		{eimap.MarkSeen, []imap.Flag{imap.FlagSeen}},
		{eimap.Move, nil},
		{eimap.Delete, []imap.Flag{imap.FlagSeen}}, // never deleted: only its header was taken in
	}
	for _, tc := range tests {
		t.Run(tc.after.String(), func(t *testing.T) {
			srv := newServer(t, serverOptions{})
			uids := srv.append("INBOX", nil, message(1), big, message(3))
			d := newDesk(t)
			mb := srv.mailbox()
			mb.After, mb.MoveTo = tc.after, "Archive"
			in, err := eimap.NewIngester(d.ws, []eimap.Mailbox{mb}, &eimap.Options{MaxSize: 10 << 10})
			require.NoError(t, err)
			require.NoError(t, in.Sync(t.Context()))
			d.requireOnce(t, 1, 3)
			assert.False(t, srv.fetchedWhole(uids[1]), "the large message's body is never fetched")

			_, its := d.taken(t)
			var large *emailflow.Email
			for _, it := range its {
				emails, err := d.ws.As(admin).Emails(t.Context(), it.ID)
				require.NoError(t, err)
				if emails[0].MessageID != msgID(2) {
					assert.Empty(t, it.Notes)
					continue
				}
				large = emails[0]
				require.Len(t, it.Notes, 1)
				assert.Equal(t, "system", it.Notes[0].Author)
				assert.Contains(t, it.Notes[0].Text, "is over the 0.0 MB limit"[:12])
				assert.Contains(t, it.Notes[0].Text, "only its header was taken in")
				assert.Equal(t, "Commande FR-0002 : où en est mon colis ?", it.Subject)
			}
			require.NotNil(t, large)
			assert.Empty(t, large.Text)
			assert.True(t, strings.HasSuffix(string(large.Raw), "\r\n\r\n"), "the header alone")
			assert.NotContains(t, string(large.Raw), "Pièce jointe")

			inbox := srv.folder("INBOX")
			if tc.inbox == nil {
				assert.NotContains(t, inbox, msgID(2))
				assert.Contains(t, srv.folder("Archive"), msgID(2))
			} else {
				require.Contains(t, inbox, msgID(2))
				assert.ElementsMatch(t, tc.inbox, inbox[msgID(2)])
			}

			// Checkpointed: never fetched again, never taken in twice.
			require.NoError(t, in.Sync(t.Context()))
			d.requireOnce(t, 1, 3)
			assert.False(t, srv.fetchedWhole(uids[1]))
		})
	}
}

func TestExpungedBetweenListAndFetch(t *testing.T) {
	srv := newServer(t, serverOptions{})
	uids := srv.append("INBOX", nil, messages(1, 5)...)
	d := newDesk(t)
	once := false
	// When the Ingester asks for the bodies, another client has just
	// expunged message 3.
	hook := func(numSet imap.NumSet, opts *imap.FetchOptions) {
		if once || len(opts.BodySection) == 0 {
			return
		}
		once = true
		c := srv.client()
		_, err := c.Select("INBOX", nil).Wait()
		require.NoError(t, err)
		require.NoError(t, c.Store(imap.UIDSetNum(uids[2]), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close())
		require.NoError(t, c.UIDExpunge(imap.UIDSetNum(uids[2])).Close())
		require.NoError(t, c.Logout().Wait())
	}
	srv.beforeFetch.Store(&hook)
	mb := srv.mailbox()
	mb.After, mb.MoveTo = eimap.Move, "Archive"
	in, err := eimap.NewIngester(d.ws, []eimap.Mailbox{mb}, nil)
	require.NoError(t, err)
	require.NoError(t, in.Sync(t.Context()), "a message gone meanwhile is no error")
	require.True(t, once)
	count, _ := d.taken(t)
	assert.Equal(t, map[string]int{msgID(1): 1, msgID(2): 1, msgID(4): 1, msgID(5): 1}, count)
	assert.Empty(t, srv.folder("INBOX"))
	assert.Len(t, srv.folder("Archive"), 4)
	cp, err := d.ws.Checkpoint(t.Context(), mb.Name())
	require.NoError(t, err)
	assert.Equal(t, uint32(uids[4]), cp.Last, "checkpointed past the expunged message")
}

func TestIdle(t *testing.T) {
	srv := newServer(t, serverOptions{})
	srv.append("INBOX", nil, message(1))
	d := newDesk(t)
	// Polling every hour and IDLE lasting 29 minutes: only the server's
	// word can bring the second message in during the test.
	in, err := eimap.NewIngester(d.ws, []eimap.Mailbox{srv.mailbox()}, fast(nil))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	eventually(t, func() bool { c, _ := d.taken(t); return len(c) == 1 }, "the first message")
	eventually(t, func() bool { return srv.idles.Load() > 0 }, "IDLE")
	// One at a time: go-imap's memory server does not report a message
	// that arrived just before IDLE began (Dovecot does; the Ingester
	// re-issues IDLE, looking at the folder, every IdleTimeout).
	for n := 2; n <= 3; n++ {
		idles := srv.idles.Load()
		srv.append("INBOX", nil, message(n))
		eventually(t, func() bool { c, _ := d.taken(t); return len(c) == n }, "the new message, from IDLE")
		eventually(t, func() bool { return srv.idles.Load() > idles }, "IDLE again")
	}
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	d.requireOnce(t, 1, 3)
	assert.Contains(t, srv.transcript.String(), "LOGOUT\r\n", "logged out cleanly")
}

func TestIdleIsReissued(t *testing.T) {
	srv := newServer(t, serverOptions{})
	d := newDesk(t)
	opts := fast(nil)
	opts.IdleTimeout = 20 * time.Millisecond
	in, err := eimap.NewIngester(d.ws, []eimap.Mailbox{srv.mailbox()}, opts)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	eventually(t, func() bool { return srv.idles.Load() >= 3 }, "IDLE issued again and again")
	srv.append("INBOX", nil, message(1))
	eventually(t, func() bool { c, _ := d.taken(t); return len(c) == 1 }, "mail still comes")
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
}

func TestPoll(t *testing.T) {
	tests := []struct {
		name string
		poll bool
		hide []string
	}{
		{"ServerWithoutIDLE", false, []string{"IDLE"}},
		{"PollAsked", true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, serverOptions{})
			p := newProxy(t, srv.addr, tc.hide...)
			d := newDesk(t)
			mb := srv.mailbox()
			mb.Addr, mb.Poll = p.addr, tc.poll
			opts := fast(nil)
			opts.PollInterval = 20 * time.Millisecond
			in, err := eimap.NewIngester(d.ws, []eimap.Mailbox{mb}, opts)
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- in.Run(ctx) }()
			srv.append("INBOX", nil, message(1))
			eventually(t, func() bool { c, _ := d.taken(t); return len(c) == 1 }, "polled in")
			srv.append("INBOX", nil, message(2))
			eventually(t, func() bool { c, _ := d.taken(t); return len(c) == 2 }, "polled in")
			cancel()
			require.ErrorIs(t, <-done, context.Canceled)
			assert.Zero(t, srv.idles.Load(), "never IDLE")
			d.requireOnce(t, 1, 2)
		})
	}
}

func TestReconnects(t *testing.T) {
	srv := newServer(t, serverOptions{})
	p := newProxy(t, srv.addr)
	d := newDesk(t)
	mb := srv.mailbox()
	mb.Addr = p.addr
	in, err := eimap.NewIngester(d.ws, []eimap.Mailbox{mb}, fast(nil))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	srv.append("INBOX", nil, message(1))
	eventually(t, func() bool { c, _ := d.taken(t); return len(c) == 1 }, "first message")
	logins := srv.logins.Load()
	p.cut()
	srv.append("INBOX", nil, message(2))
	eventually(t, func() bool { c, _ := d.taken(t); return len(c) == 2 }, "after reconnecting")
	assert.Greater(t, srv.logins.Load(), logins, "logged in again")
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	d.requireOnce(t, 1, 2)
}

func TestRunWithoutCheckpoints(t *testing.T) {
	srv := newServer(t, serverOptions{})
	d := newDesk(t)
	ws, err := emailflow.New(emailflow.Ports{Store: storetest.Plain(d.store), Sender: nopSender{}, Directory: d.store}, nil)
	require.NoError(t, err)
	in, err := eimap.NewIngester(ws, []eimap.Mailbox{srv.mailbox()}, fast(nil))
	require.NoError(t, err)
	err = in.Run(t.Context())
	assert.ErrorIs(t, err, errors.ErrUnsupported, "no retry can mend it")
}

type nopSender struct{}

func (nopSender) Send(context.Context, string, []string, []byte) error { return nil }

func TestNewIngesterRefusals(t *testing.T) {
	d := newDesk(t)
	good := eimap.Mailbox{Addr: "imap.boutique.example:993", Username: user, Password: password, Deliver: deliver}
	with := func(f func(*eimap.Mailbox)) []eimap.Mailbox { m := good; f(&m); return []eimap.Mailbox{m} }
	tests := []struct {
		name  string
		boxes []eimap.Mailbox
		opts  *eimap.Options
		want  string
	}{
		{"NoAddr", with(func(m *eimap.Mailbox) { m.Addr = "" }), nil, "no Addr"},
		{"AddrWithoutPort", with(func(m *eimap.Mailbox) { m.Addr = "imap.boutique.example" }), nil, "not host:port"},
		{"NoUsername", with(func(m *eimap.Mailbox) { m.Username = "" }), nil, "no Username"},
		{"NoDeliver", with(func(m *eimap.Mailbox) { m.Deliver = "" }), nil, "no Deliver"},
		{"DeliverNotAnAddress", with(func(m *eimap.Mailbox) { m.Deliver = "support" }), nil, "not an address"},
		{"MoveWithoutFolder", with(func(m *eimap.Mailbox) { m.After = eimap.Move }), nil, "Move action without MoveTo"},
		{"MoveToItself", with(func(m *eimap.Mailbox) { m.After, m.MoveTo = eimap.Move, "INBOX" }), nil, "MoveTo folder is the folder read"},
		{"UnknownAction", with(func(m *eimap.Mailbox) { m.After = "archive" }), nil, "unknown after-ingest action"},
		{"UnknownTLS", with(func(m *eimap.Mailbox) { m.TLS = "ssl" }), nil, "unknown TLS mode"},
		{"SameName", []eimap.Mailbox{good, good}, nil, "two mailboxes named"},
		{"LongIdle", []eimap.Mailbox{good}, &eimap.Options{IdleTimeout: 30 * time.Minute}, "IdleTimeout"},
		{"NoMailbox", nil, nil, "no mailbox"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := eimap.NewIngester(d.ws, tc.boxes, tc.opts)
			require.ErrorIs(t, err, emailflow.ErrInvalidInput)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), password)
		})
	}
	_, err := eimap.NewIngester(nil, []eimap.Mailbox{good}, nil)
	assert.ErrorIs(t, err, emailflow.ErrInvalidInput)
}

func TestMailboxName(t *testing.T) {
	mb := eimap.Mailbox{Addr: "imap.boutique.example:993", Username: user, Deliver: deliver}
	assert.Equal(t, "imap://support@imap.boutique.example:993/INBOX", mb.Name())
	mb.Folder = "Support/FR"
	assert.Equal(t, "imap://support@imap.boutique.example:993/Support/FR", mb.Name())
	mb.ID = "boîte FR"
	assert.Equal(t, "boîte FR", mb.Name())
}

// TestBodiesInOneFetch: messages left in the folder come in one FETCH
// for all their windows; with an after-ingest action, one FETCH per
// window, the action and the checkpoint between two.
func TestBodiesInOneFetch(t *testing.T) {
	tests := []struct {
		after   eimap.Action
		fetches int
	}{
		{eimap.Leave, 1},
		{eimap.MarkSeen, 5},
		{eimap.Move, 5},
	}
	for _, tc := range tests {
		t.Run(tc.after.String(), func(t *testing.T) {
			srv := newServer(t, serverOptions{})
			srv.append("INBOX", nil, messages(1, 23)...)
			d := newDesk(t)
			mb := srv.mailbox()
			mb.After, mb.MoveTo = tc.after, "Archive"
			in, err := eimap.NewIngester(d.ws, []eimap.Mailbox{mb}, &eimap.Options{Window: 5})
			require.NoError(t, err)
			require.NoError(t, in.Sync(t.Context()))
			d.requireOnce(t, 1, 23)
			assert.Equal(t, tc.fetches, srv.wholeFetches())
			cp, err := d.ws.Checkpoint(t.Context(), mb.Name())
			require.NoError(t, err)
			assert.EqualValues(t, 23, cp.Last)
		})
	}
}

// TestCheckpointInsideOneFetch: with the bodies of every window in one
// FETCH, a stop anywhere leaves the checkpoint at the end of the last
// window wholly taken in, as a FETCH per window would; a new Ingester
// takes in the rest, nothing twice.
func TestCheckpointInsideOneFetch(t *testing.T) {
	tests := []struct {
		stopAt int // the message whose Ingest is cut
		last   uint32
	}{
		{3, 0}, // no window done: no checkpoint
		{5, 0}, // the first window's last message not taken in
		{6, 5},
		{16, 15},
		{23, 20},
	}
	for _, tc := range tests {
		t.Run(strconv.Itoa(tc.stopAt), func(t *testing.T) {
			srv := newServer(t, serverOptions{})
			srv.append("INBOX", nil, messages(1, 23)...)
			d, ctx := stopDesk(t, tc.stopAt)
			mb := srv.mailbox()
			first, err := eimap.NewIngester(d.ws, []eimap.Mailbox{mb}, &eimap.Options{Window: 5})
			require.NoError(t, err)
			require.ErrorIs(t, first.Sync(ctx), context.Canceled)
			count, _ := d.taken(t)
			assert.Len(t, count, tc.stopAt-1)
			cp, err := d.ws.Checkpoint(t.Context(), mb.Name())
			if tc.last == 0 {
				require.ErrorIs(t, err, emailflow.ErrNotFound)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tc.last, cp.Last)
			}

			second, err := eimap.NewIngester(d.ws, []eimap.Mailbox{mb}, &eimap.Options{Window: 5})
			require.NoError(t, err)
			require.NoError(t, second.Sync(t.Context()))
			d.requireOnce(t, 1, 23)
			cp, err = d.ws.Checkpoint(t.Context(), mb.Name())
			require.NoError(t, err)
			assert.EqualValues(t, 23, cp.Last)
		})
	}
}

// TestLargeBodies: bodies read ahead of Ingest beyond the read-ahead
// budget, and a body too large to be read ahead (handed to Ingest from
// the connection), are taken in whole, byte for byte, in either path.
func TestLargeBodies(t *testing.T) {
	padded := func(n, size int) []byte {
		m := message(n)
		line := "Détail de la commande, ligne après ligne, pour le service client.\r\n"
		for len(m) < size {
			m = append(m, line...)
		}
		return m
	}
	tests := []struct {
		name string
		msgs [][]byte
	}{
		{"OverTheReadAheadBudget", func() [][]byte {
			var out [][]byte
			for n := 1; n <= 16; n++ {
				out = append(out, padded(n, 300<<10)) // 4.7 MB: over the 4 MiB read ahead at most
			}
			return out
		}()},
		{"OneReadFromTheConnection", [][]byte{padded(1, 10<<10), padded(2, 1536<<10), padded(3, 10<<10), padded(4, 1100<<10)}},
	}
	for _, tc := range tests {
		for _, after := range []eimap.Action{eimap.Leave, eimap.MarkSeen} {
			t.Run(tc.name+"/"+after.String(), func(t *testing.T) {
				srv := newServer(t, serverOptions{})
				srv.append("INBOX", nil, tc.msgs...)
				d := newDesk(t)
				mb := srv.mailbox()
				mb.After = after
				in, err := eimap.NewIngester(d.ws, []eimap.Mailbox{mb}, &eimap.Options{Window: 7})
				require.NoError(t, err)
				require.NoError(t, in.Sync(t.Context()))
				d.requireOnce(t, 1, len(tc.msgs))
				_, its := d.taken(t)
				for _, it := range its {
					emails, err := d.ws.As(admin).Emails(t.Context(), it.ID)
					require.NoError(t, err)
					require.Len(t, emails, 1)
					var n int
					_, err = fmt.Sscanf(emails[0].MessageID, "msg-%d@", &n)
					require.NoError(t, err)
					assert.Equal(t, tc.msgs[n-1], emails[0].Raw, "message %d whole", n)
				}
			})
		}
	}
}
