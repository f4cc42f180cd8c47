package imap_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/store/postgres"
	eimap "github.com/emailflow/emailflow/transport/imap"
	transport "github.com/emailflow/emailflow/transport/memory"
)

// pgStore opens the store/postgres tests' database in a schema of its own,
// dropped at the end. Without a database the test skips, under CI=true it
// fails (as store/postgres's tests do).
func pgStore(t *testing.T, schema string) *postgres.Store {
	t.Helper()
	dsn := os.Getenv("EMAILFLOW_POSTGRES_DSN")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	s, err := postgres.Open(context.Background(), dsn, &postgres.Options{Schema: schema})
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL: %v", err)
		}
		t.Skipf("no PostgreSQL (EMAILFLOW_POSTGRES_DSN): %v", err)
	}
	t.Cleanup(func() {
		_, _ = s.Pool().Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
		s.Close()
	})
	return s
}

// TestRestartOnPostgres: two processes one after the other, sharing a
// PostgreSQL store: the first is stopped in the middle of a window, the
// second takes over from the checkpoint kept in the database; every
// message is in once.
func TestRestartOnPostgres(t *testing.T) {
	srv := newServer(t, serverOptions{})
	srv.append("INBOX", nil, messages(1, 12)...)
	var b [4]byte
	_, _ = rand.Read(b[:])
	schema := "ef_imap_" + hex.EncodeToString(b[:])
	mb := srv.mailbox()
	mb.After, mb.MoveTo = eimap.Move, "Archive"
	process := func(dir func(emailflow.Directory) emailflow.Directory) *emailflow.Workspace {
		st := pgStore(t, schema)
		var d emailflow.Directory = st
		if dir != nil {
			d = dir(st)
		}
		ws, err := emailflow.New(emailflow.Ports{Store: st, Sender: &transport.Sender{}, Directory: d}, &emailflow.Options{
			Mailboxes: []emailflow.Mailbox{{Address: deliver, Queue: "support-fr"}},
		})
		require.NoError(t, err)
		return ws
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := process(func(d emailflow.Directory) emailflow.Directory { return &onNth{Directory: d, at: 7, fn: cancel} })
	in, err := eimap.NewIngester(first, []eimap.Mailbox{mb}, &eimap.Options{Window: 4})
	require.NoError(t, err)
	require.ErrorIs(t, in.Sync(ctx), context.Canceled)

	second := process(nil)
	cp, err := second.Checkpoint(context.Background(), mb.Name())
	require.NoError(t, err)
	assert.EqualValues(t, 4, cp.Last, "the first window is done, the second was not")
	in, err = eimap.NewIngester(second, []eimap.Mailbox{mb}, &eimap.Options{Window: 4})
	require.NoError(t, err)
	require.NoError(t, in.Sync(context.Background()))

	require.NoError(t, second.PutAgent(context.Background(), emailflow.Agent{ID: admin, Roles: []emailflow.Role{emailflow.RoleAdmin}}))
	(&desk{ws: second}).requireOnce(t, 1, 12)
	assert.Empty(t, srv.folder("INBOX"))
	assert.Len(t, srv.folder("Archive"), 12)
	cp, err = second.Checkpoint(context.Background(), mb.Name())
	require.NoError(t, err)
	assert.EqualValues(t, 12, cp.Last)
}
